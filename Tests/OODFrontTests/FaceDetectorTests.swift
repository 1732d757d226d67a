import FeatureExtraction
import OODFront
import Testing

/// The Swift MMOD face detector against dlib's
/// `cnn_face_detection_model_v1(img, upsample)` (dlib-bin 20.0.1).
@Suite("dlib MMOD face detector parity")
struct FaceDetectorTests {
  static let model: FaceDetector? = try? FaceDetector(path: TestPaths.weights("dlib-mmod-face-detector.safetensors"))

  func check(_ scene: String, upsample: Int, key: String) throws {
    let model = try #require(Self.model)
    let ours = try model.detect(try FaceNetworkFixtures.image(scene), upsample: upsample)
    let theirs = try FaceNetworkFixtures.detections(key, scene)
    #expect(!theirs.isEmpty)
    try #require(ours.count == theirs.count, "\(scene): \(ours) vs dlib \(theirs)")
    for (d, r) in zip(ours, theirs) {
      #expect(abs(d.left - Int(r[0])) <= 1 && abs(d.top - Int(r[1])) <= 1, "\(scene): \(d) vs \(r)")
      #expect(abs(d.right - Int(r[2])) <= 1 && abs(d.bottom - Int(r[3])) <= 1, "\(scene): \(d) vs \(r)")
      #expect(abs(Double(d.confidence) - r[4]) <= 1e-3, "\(scene): \(d) vs \(r)")
      print("\(scene) upsample \(upsample): \(d) dlib \(r)")
    }
  }

  @Test("same boxes (±1 px) and confidences (≤ 1e-3) as dlib", arguments: ["scene_a.png", "scene_b.png", "scene_pair.png"])
  func parity(scene: String) throws {
    try check(scene, upsample: 0, key: "detections")
  }

  @Test("upsampling once finds the small faces dlib finds")
  func upsampled() throws {
    try check("scene_pair.png", upsample: 1, key: "detections_upsampled")
  }

  @Test("results are sorted, do not depend on the worker count, and a high threshold keeps nothing")
  func ordering() throws {
    let model = try #require(Self.model)
    let image = try FaceNetworkFixtures.image("scene_pair.png")
    let one = try model.detect(image, upsample: 1, workers: 1)
    let two = try model.detect(image, upsample: 1, workers: 2)
    #expect(one == two)
    #expect(zip(one, one.dropFirst()).allSatisfy { $0.confidence >= $1.confidence })
    #expect(try model.detect(image, threshold: 100).isEmpty)
    let tiny = RGBImage(width: 3, height: 2, pixels: [UInt8](repeating: 90, count: 18))
    #expect(try model.detect(tiny).isEmpty)
    #expect(model.weightsSHA256.count == 64)
  }

  @Test("images above the pixel budget are refused with a clear error")
  func pixelBudget() throws {
    let small = try FaceDetector(path: TestPaths.weights("dlib-mmod-face-detector.safetensors"), maxPixels: 40_000)
    let image = try FaceNetworkFixtures.image("scene_a.png")  // 180 × 161
    #expect(try small.detect(image).count == 1)
    #expect {
      _ = try small.detect(image, upsample: 1)
    } throws: { error in
      guard case FaceNetworkError.imageTooLarge(width: 180, height: 161, upsample: 1, pixels: _, budget: 40_000) = error
      else { return false }
      return "\(error)".contains("180×161")
    }
    #expect(throws: FaceNetworkError.self) { _ = try small.detect(image, upsample: -1) }
  }
}
