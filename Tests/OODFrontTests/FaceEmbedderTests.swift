import FeatureExtraction
import Foundation
import OODFront
import TensorFiles
import Testing

/// The Swift face descriptor against dlib's own
/// `face_recognition_model_v1.compute_face_descriptor(chip)` (dlib-bin 20.0.1).
@Suite("dlib face ResNet parity")
struct FaceEmbedderTests {
  static let chips = ["chip_a.png", "chip_b.png", "chip_c.png"]
  static let model: FaceEmbedder? = try? FaceEmbedder(path: TestPaths.weights("dlib-face-resnet-v1.safetensors"))

  @Test("descriptors within 1e-4 of dlib, distances within 1e-4")
  func parity() throws {
    let model = try #require(Self.model)
    let reference = try FaceNetworkFixtures.reference()
    let images = try Self.chips.map(FaceNetworkFixtures.image)
    let ours = try model.embed(images)
    var worst = 0.0
    var theirs: [[Double]] = []
    for (i, name) in Self.chips.enumerated() {
      let ref = FaceNetworkFixtures.numbers(reference["descriptors"]?[name])
      try #require(ref.count == 128 && ours[i].count == 128)
      for j in 0..<128 { worst = max(worst, abs(Double(ours[i][j]) - ref[j])) }
      theirs.append(ref)
    }
    print("face ResNet: max |Δ| vs dlib = \(worst)")
    #expect(worst <= 1e-4)
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
      let refDistance = zip(theirs[a], theirs[b]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
      #expect(abs(Double(FaceEmbedder.distance(ours[a], ours[b])) - refDistance) <= 1e-4)
    }
    // chip_a and chip_b show the same person, chip_c someone else.
    #expect(FaceEmbedder.distance(ours[0], ours[1]) < model.distanceThreshold)
    #expect(FaceEmbedder.distance(ours[0], ours[2]) > model.distanceThreshold)
  }

  @Test("a descriptor does not depend on the batch or the worker count")
  func batchInvariance() throws {
    let model = try #require(Self.model)
    let images = try Self.chips.map(FaceNetworkFixtures.image)
    let batch = try model.embed(images, workers: 2)
    for (i, image) in images.enumerated() {
      #expect(try model.embed([image], workers: 1)[0] == batch[i])
    }
    #expect(try model.embed([]).isEmpty)
  }

  @Test("metadata, provenance and the chip-size check")
  func contract() throws {
    let model = try #require(Self.model)
    #expect(model.chipSize == 150 && model.descriptorSize == 128)
    #expect(abs(model.distanceThreshold - 0.6) < 1e-6)
    #expect(model.inputMean == [122.782, 117.001, 104.298])
    #expect(model.weightsSHA256.count == 64)
    let small = RGBImage(width: 149, height: 150, pixels: [UInt8](repeating: 0, count: 149 * 150 * 3))
    #expect {
      _ = try model.embed([try FaceNetworkFixtures.image("chip_a.png"), small])
    } throws: { error in
      guard case FaceNetworkError.wrongChipSize(index: 1, width: 149, height: 150, expected: 150) = error else {
        return false
      }
      return "\(error)".contains("149×150")
    }
  }

  @Test("a detector file given as the embedder is refused, naming the file")
  func wrongArchitecture() throws {
    let path = TestPaths.weights("dlib-mmod-face-detector.safetensors")
    #expect {
      _ = try FaceEmbedder(path: path)
    } throws: { error in
      "\(error)".contains(path) && "\(error)".contains("dlib-mmod-face-detector")
    }
    let embedderPath = TestPaths.weights("dlib-face-resnet-v1.safetensors")
    #expect {
      _ = try FaceDetector(path: embedderPath)
    } throws: { error in
      "\(error)".contains(embedderPath) && "\(error)".contains("dlib-face-resnet-v1")
    }
  }

  @Test("a tensor with the wrong shape is refused, naming the file and the tensor")
  func wrongShape() throws {
    let source = try SafeTensorsFile(path: TestPaths.weights("dlib-face-resnet-v1.safetensors"))
    var writer = SafeTensorsWriter(metadata: source.metadata)
    for name in source.names {
      let values = try source.floats(name)
      var shape = try source.info(name).shape
      if name == "stages.2.blocks.1.conv2.weight" {  // [128, 128, 3, 3] → [128, 128, 9]
        shape = [128, 128, 9]
      }
      try writer.add(name, floats: values, shape: shape)
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("faces-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("bad-resnet.safetensors").path
    try writer.write(to: path)
    #expect {
      _ = try FaceEmbedder(path: path)
    } throws: { error in
      let text = "\(error)"
      return text.contains(path) && text.contains("stages.2.blocks.1.conv2.weight")
    }
  }
}
