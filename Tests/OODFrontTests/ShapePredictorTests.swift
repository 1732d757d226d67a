import FeatureExtraction
import Foundation
import OODFront
import TensorFiles
import Testing

/// `ShapePredictor` against dlib's `shape_predictor` on the bundled 5-point
/// model (`Tests/Fixtures/faces-landmarks/make_fixtures.py`).
@Suite("ShapePredictor parity with dlib")
struct ShapePredictorTests {
  static let predictor: ShapePredictor? = try? ShapePredictor(path: TestPaths.weights("dlib-shape-predictor-5.safetensors"))

  @Test("landmarks equal dlib's on HOG boxes, a border-crossing box, a 4x image and 60 jittered boxes")
  func parity() throws {
    let predictor = try #require(Self.predictor)
    #expect(predictor.landmarkCount == 5)
    let fixtures = try FaceFixtures.load()
    var images: [String: RGBImage] = [:]
    var worst = 0.0
    var compared = 0
    let all = fixtures.cases.map { ($0.image, $0.`repeat`, $0.box, $0.landmarks) }
      + fixtures.landmark_cases.map { ($0.image, 1, $0.box, $0.landmarks) }
    for (file, factor, box, expected) in all {
      let key = "\(file)x\(factor)"
      if images[key] == nil { images[key] = try FaceFixtures.image(file, repeat: factor) }
      let points = try predictor.landmarks(in: images[key]!, box: FaceFixtures.rect(box))
      #expect(points.count == expected.count)
      for (p, e) in zip(points, expected) {
        worst = max(worst, abs(p.x - Double(e[0])), abs(p.y - Double(e[1])))
      }
      compared += 1
    }
    #expect(compared == 65)
    #expect(worst <= 1e-3, "max |Δ| = \(worst) px over \(compared) faces")
  }

  @Test("an empty image, an empty box and a box outside the image are refused")
  func badInput() throws {
    let predictor = try #require(Self.predictor)
    let image = try FaceFixtures.image("img1-crop.png")
    let inside = FaceRect(left: 10, top: 10, right: 60, bottom: 60)
    #expect(throws: FaceAlignmentError.emptyImage(width: 0, height: 0)) {
      try predictor.landmarks(in: RGBImage(width: 0, height: 0, pixels: []), box: inside)
    }
    for box in [FaceRect(left: image.width, top: 10, right: image.width + 50, bottom: 60),
                FaceRect(left: -80, top: -80, right: -1, bottom: -1),
                FaceRect(left: 40, top: 10, right: 20, bottom: 60)] {
      let error = #expect(throws: FaceAlignmentError.self) { try predictor.landmarks(in: image, box: box) }
      #expect(error == .boxOutsideImage(box: box, width: image.width, height: image.height))
      #expect(error.map { "\($0)" }?.contains("face box") == true)
    }
  }

  @Test("weights with inconsistent shapes or bad indices are refused, naming the file")
  func badWeights() throws {
    let good = try SafeTensorsFile(path: TestPaths.weights("dlib-shape-predictor-5.safetensors"))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ak-shape-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }

    /// A copy of the bundled file with `edit` applied to its tensors.
    func variant(_ name: String, _ edit: (inout [String: (TensorDType, [Int], [UInt8])]) -> Void) throws -> String {
      var tensors: [String: (TensorDType, [Int], [UInt8])] = [:]
      for n in good.names {
        let info = try good.info(n)
        tensors[n] = (info.dtype, info.shape, try good.withRawBytes(n) { Array($0) })
      }
      edit(&tensors)
      var writer = SafeTensorsWriter(metadata: good.metadata)
      for (n, t) in tensors.sorted(by: { $0.key < $1.key }) { try writer.add(n, dtype: t.0, shape: t.1, bytes: t.2) }
      let path = dir + "/" + name
      try writer.write(to: path)
      return path
    }

    // leaf_values with the landmark axis cut short: a shape error naming file and tensor.
    let truncated = try variant("short-leaves.safetensors") { t in
      let (dtype, shape, bytes) = t["leaf_values"]!
      let newShape = [shape[0], shape[1], shape[2], shape[3] - 2]
      t["leaf_values"] = (dtype, newShape, Array(bytes.prefix(newShape.reduce(4, *))))
    }
    let shapeError = #expect(throws: TensorFileError.self) { try ShapePredictor(path: truncated) }
    #expect(shapeError.map { "\($0)" }?.contains(truncated) == true)
    #expect(shapeError.map { "\($0)" }?.contains("leaf_values") == true)

    // A split index past the feature pixels.
    let badIndex = try variant("bad-index.safetensors") { t in
      let (dtype, shape, bytes) = t["split_feature_2"]!
      t["split_feature_2"] = (dtype, shape, [0xFF, 0xFF, 0, 0] + bytes.dropFirst(4))
    }
    let indexError = #expect(throws: FaceAlignmentError.self) { try ShapePredictor(path: badIndex) }
    #expect(indexError.map { "\($0)" }?.contains(badIndex) == true)
    #expect(indexError.map { "\($0)" }?.contains("split_feature_2") == true)

    // A different model altogether.
    let efficientNet = TestPaths.weights("efficientnet-lite0.safetensors")
    #expect(throws: FaceAlignmentError.self) { try ShapePredictor(path: efficientNet) }
  }
}
