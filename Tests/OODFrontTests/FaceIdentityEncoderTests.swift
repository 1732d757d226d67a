import FeatureExtraction
import Foundation
import OODFront
import Testing

/// The identity face pipeline (file → detection → landmarks → chip →
/// descriptor) against dlib's (`scene_descriptors` in
/// `Tests/Fixtures/faces/reference.json`, from `make_fixtures.py`).
@Suite("Identity face pipeline")
struct FaceIdentityEncoderTests {
  static let encoder: FaceIdentityEncoder? = {
    guard let detector = try? FaceDetector(path: TestPaths.weights("dlib-mmod-face-detector.safetensors")),
      let predictor = try? ShapePredictor(path: TestPaths.weights("dlib-shape-predictor-5.safetensors")),
      let embedder = try? FaceEmbedder(path: TestPaths.weights("dlib-face-resnet-v1.safetensors"))
    else { return nil }
    return FaceIdentityEncoder(detector: detector, predictor: predictor, embedder: embedder)
  }()

  static func temporary(_ name: String) -> String {
    NSTemporaryDirectory() + "ak-face-identity-\(ProcessInfo.processInfo.processIdentifier)-\(name)"
  }

  static func maxDifference(_ a: [Float], _ b: [Double]) -> Double {
    zip(a, b).map { abs(Double($0) - $1) }.max() ?? .infinity
  }

  @Test("a scene's face gives dlib's descriptor (≤ 1e-4), and the worker count does not matter")
  func sceneParity() throws {
    var encoder = try #require(Self.encoder)
    let scenes = ["scene_a.png", "scene_b.png", "scene_pair.png"]
    let paths = scenes.map { TestPaths.fixture("faces/\($0)") }
    encoder.workers = 2
    let two = try encoder.encode(paths, input: .photos)
    encoder.workers = 1
    encoder.batchSize = 2  // two rounds
    let one = try encoder.encode(paths, input: .photos)
    let reference = try FaceNetworkFixtures.reference()
    for (i, scene) in scenes.enumerated() {
      let face = try #require(two[i], "\(scene): no face")
      let dlib = FaceNetworkFixtures.numbers(reference["scene_descriptors"]?[scene])
      try #require(dlib.count == 128, "\(scene): reference.json lacks scene_descriptors (rerun make_fixtures.py)")
      let diff = Self.maxDifference(face.descriptor, dlib)
      print("\(scene): max |Δ| to dlib \(diff), faces \(face.facesFound), box \(String(describing: face.box))")
      #expect(diff <= 1e-4, "\(scene): max |Δ| = \(diff)")
      // dlib finds one face in each scene at upsample 0 (reference.json `detections`).
      #expect(face.facesFound == 1 && !face.upsampled)
      #expect(face.path == paths[i])
      #expect(one[i]?.descriptor == face.descriptor)
    }
  }

  @Test("chips mode embeds a 150×150 chip as it is (dlib's descriptor ≤ 1e-4) and refuses other sizes, naming the file")
  func chips() throws {
    let encoder = try #require(Self.encoder)
    let chip = TestPaths.fixture("faces/chip_a.png")
    let face = try #require(try encoder.encode([chip], input: .chips)[0])
    let dlib = FaceNetworkFixtures.numbers(try FaceNetworkFixtures.reference()["descriptors"]?["chip_a.png"])
    #expect(Self.maxDifference(face.descriptor, dlib) <= 1e-4)
    #expect(face.facesFound == 1 && face.box == nil)
    let scene = TestPaths.fixture("faces/scene_a.png")  // 180 × 161
    #expect {
      _ = try encoder.encode([chip, scene], input: .chips)
    } throws: { error in
      guard case IdentityError.wrongChipSize(path: scene, width: 180, height: 161, expected: 150) = error else { return false }
      return "\(error)".contains(scene) && "\(error)".contains("150×150")
    }
  }

  @Test("an image without a face gives nil; a small face is found by the upsample-1 retry")
  func noFaceAndRetry() throws {
    let encoder = try #require(Self.encoder)
    // Flat grey: nothing to find, at either scale.
    let flat = Self.temporary("flat.png")
    try ImageEncoder.writePNG(RGBImage(width: 64, height: 48, pixels: [UInt8](repeating: 128, count: 64 * 48 * 3)), to: flat)
    defer { try? FileManager.default.removeItem(atPath: flat) }
    let none = try encoder.encode([flat], input: .photos)
    #expect(none.count == 1 && none[0] == nil)

    // scene_a at half size (2 × 2 means): its face (≈ 80 px) shrinks to ≈ 40 px,
    // below what upsample 0 finds.
    let full = try FaceNetworkFixtures.image("scene_a.png")
    let (w, h) = (full.width / 2, full.height / 2)
    var pixels = [UInt8](repeating: 0, count: w * h * 3)
    for y in 0..<h {
      for x in 0..<w {
        for c in 0..<3 {
          var sum = 0
          for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            sum += Int(full.pixels[3 * ((2 * y + dy) * full.width + 2 * x + dx) + c])
          }
          pixels[3 * (y * w + x) + c] = UInt8((sum + 2) / 4)
        }
      }
    }
    let half = RGBImage(width: w, height: h, pixels: pixels)
    try #require(try encoder.detector.detect(half, upsample: 0).isEmpty, "the half-size face is still found at upsample 0")
    let small = Self.temporary("half.png")
    try ImageEncoder.writePNG(half, to: small)
    defer { try? FileManager.default.removeItem(atPath: small) }
    let face = try #require(try encoder.encode([small], input: .photos)[0], "the retry at upsample 1 found no face")
    #expect(face.upsampled && face.facesFound == 1)
    // Still the same person as the full-size scene (dlib's same-person rule).
    let dlib = FaceNetworkFixtures.numbers(try FaceNetworkFixtures.reference()["scene_descriptors"]?["scene_a.png"])
    let distance = zip(face.descriptor, dlib).map { (Double($0) - $1) * (Double($0) - $1) }.reduce(0, +).squareRoot()
    #expect(distance < 0.6, "distance to the full-size face: \(distance)")
  }

  @Test("undecodable files are errors naming the file")
  func badFile() throws {
    let encoder = try #require(Self.encoder)
    let path = Self.temporary("not-an-image.png")
    try Data("hello".utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect { _ = try encoder.encode([path], input: .photos) } throws: { "\($0)".contains(path) }
  }
}
