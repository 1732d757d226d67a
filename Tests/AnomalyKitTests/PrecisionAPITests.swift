import AnomalyKit
import Density
import FeatureExtraction
import Foundation
import Testing

/// `CellMeanBackbone` labelled with a precision: the arithmetic is float32
/// whatever the label, so these tests of the bookkeeping run on any CPU.
struct LabelledBackbone: ImageBackbone {
  var inner = CellMeanBackbone()
  var precision: ComputePrecision
  var architecture: String { inner.architecture }
  var weightsSHA256: String { inner.weightsSHA256 }
  var inputSize: Int { inner.inputSize }
  var inputMean: Float { inner.inputMean }
  var inputStd: Float { inner.inputStd }
  var featureDimension: Int { inner.featureDimension }
  var stageCount: Int { inner.stageCount }
  func stageShape(_ n: Int) -> (height: Int, width: Int, channels: Int)? { inner.stageShape(n) }
  func forward(_ input: [Float], count: Int, layers: Set<FeatureLayer>, workers: Int) -> BackboneOutput {
    inner.forward(input, count: count, layers: layers, workers: workers)
  }
}

@Suite("Front API: precision bookkeeping")
struct PrecisionAPITests {
  static func configuration(_ precision: ComputePrecision) -> BankConfiguration {
    var c = BankConfiguration.imageDefault
    c.resize = .stretch
    c.holdout = 0
    c.precision = precision
    return c
  }

  @Test("a bank records its backbone's precision; another precision is refused unless mixing is allowed")
  func bankPrecision() throws {
    let normal = try FrontAPITests.images("normal")
    let low = LabelledBackbone(precision: .bf16)
    let full = LabelledBackbone(precision: .fp32)

    // The configuration must match the backbone it is given.
    #expect(throws: AnomalyKitError.self) {
      try ImageAnomalyDetector.fit(normal: normal, backbone: low, configuration: Self.configuration(.fp32))
    }
    let detector = try ImageAnomalyDetector.fit(normal: normal, backbone: low, configuration: Self.configuration(.bf16))
    #expect(detector.bank.metadata["precision"] == "bf16")

    let url = FileManager.default.temporaryDirectory.appendingPathComponent("precision-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try detector.save(to: url)
    #expect(throws: PrecisionError.mixed(path: url.path, recorded: .bf16, requested: .fp32)) {
      try ImageAnomalyDetector.load(from: url, backbone: full)
    }
    let mixed = try ImageAnomalyDetector.load(from: url, backbone: full, allowMixedPrecision: true)
    let same = try ImageAnomalyDetector.load(from: url, backbone: low)
    let query = try FrontAPITests.images("test")
    #expect(try mixed.score(query).map(\.score) == same.score(query).map(\.score))
    #expect(throws: PrecisionError.self) { try ImageAnomalyDetector(bank: detector.bank, pipeline: mixed.pipeline) }
  }

  @Test("precision resolution: the file's unless asked; mixing needs consent; unknown values are refused")
  func resolution() throws {
    #expect(try ComputePrecision(metadata: [:], path: "f") == .fp32)
    #expect(try ComputePrecision(metadata: ["precision": "bf16"], path: "f") == .bf16)
    #expect(throws: PrecisionError.unknown(path: "f", value: "fp8")) { try ComputePrecision(metadata: ["precision": "fp8"], path: "f") }
    #expect(try ComputePrecision.resolve(requested: nil, recorded: .fp32, path: "f", allowMixed: false) == .fp32)
    #expect(throws: PrecisionError.mixed(path: "f", recorded: .fp32, requested: .bf16)) {
      try ComputePrecision.resolve(requested: .bf16, recorded: .fp32, path: "f", allowMixed: false)
    }
    let message = PrecisionError.unsupported(precision: .bf16, instructionSet: "AVX-512 BF16", kernels: nil).description
    #expect(
      message
        == "--precision bf16 needs AVX-512 BF16, which this CPU does not have; use --precision fp32 (with --allow-mixed-precision for a bank or detector made in bf16)"
    )
  }

  @Test(
    "an int8 fit calibrates on its images and records the ranges; loading quantises with them; another calibration is refused",
    .enabled(if: ComputePrecision.int8.isSupported, "needs AVX-512 VNNI"))
  func int8Calibration() throws {
    let normal = try FrontAPITests.images("normal")
    let test = try FrontAPITests.images("test")
    let detector = try ImageAnomalyDetector.fit(normal: normal, configuration: Self.configuration(.int8))
    let recorded = try #require(try Int8Calibration(metadata: detector.bank.metadata, path: "fit"))
    #expect(detector.bank.metadata["precision"] == "int8" && recorded.ranges.count == 33)
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("int8-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: file) }
    try detector.save(to: file)
    let loaded = try ImageAnomalyDetector.load(from: file)
    #expect(try loaded.score(test).map(\.score.bitPattern) == detector.score(test).map(\.score.bitPattern))

    // The same weights calibrated on other images make other features.
    let fp32 = try EfficientNetLite(path: try BundledWeights.path("efficientnet-lite0.safetensors"))
    let other = try fp32.calibratedInt8(onImages: [test[0].path], preparedBy: ImageFeatureExtractor(model: fp32, policy: .stretch))
    #expect(other.int8Calibration != recorded)
    #expect {
      _ = try ImageAnomalyDetector.load(from: file, backbone: other)
    } throws: { error in
      "\(error)".contains("\(file.path): bad int8 calibration") && "\(error)".contains("other activation ranges")
    }
    #expect(try ImageAnomalyDetector.load(from: file, backbone: other, allowMixedPrecision: true).bank.count == normal.count)
  }
}
