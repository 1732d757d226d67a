import FeatureExtraction
import TensorFiles
import Testing

/// `--precision int8` against PyTorch doing the same arithmetic
/// independently (`Tests/Fixtures/int8/make_fixtures.py`): the stem and
/// every 1×1 convolution quantised with the fixture's min/max ranges, exact
/// integer sums, float32 elsewhere.
@Suite("int8 precision parity with PyTorch", .enabled(if: ComputePrecision.int8.isSupported, "needs AVX-512 VNNI"))
struct Int8ParityTests {
  static let reference = TestPaths.fixture("int8/reference.safetensors")

  static func photosInput(_ file: SafeTensorsFile) throws -> (names: [String], input: [Float]) {
    guard case .array(let items) = try JSONValue.parse(try file.requireMetadata("photos")) else { return ([], []) }
    let names = items.compactMap(\.stringValue)
    let pre = Preprocessor(inputSize: 224)
    var input: [Float] = []
    for name in names { input += pre.tensor(try ImageDecoder.decode(path: TestPaths.fixture("efficientnet/\(name).png"))) }
    return (names, input)
  }

  static func ranges(_ file: SafeTensorsFile) throws -> Int8Calibration {
    let values = try file.floats("ranges")
    return Int8Calibration(ranges: stride(from: 0, to: values.count, by: 2).map { values[$0]...values[$0 + 1] })
  }

  static func distance(_ a: ArraySlice<Float>, _ b: [Float]) -> Double {
    zip(a, b).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
  }

  @Test("calibrating on the four photos gives PyTorch's min/max ranges, to float32 summation differences")
  func calibration() throws {
    let file = try SafeTensorsFile(path: Self.reference)
    let (names, input) = try Self.photosInput(file)
    let expected = try Self.ranges(file)
    let model = try EfficientNetLite(path: TestPaths.weights).calibratedInt8(on: input, count: names.count, workers: 2)
    let measured = try #require(model.int8Calibration)
    #expect(model.precision == .int8 && measured.ranges.count == expected.ranges.count && measured.ranges.count == 33)
    for (i, (m, e)) in zip(measured.ranges, expected.ranges).enumerated() {
      let tolerance = 1e-4 * (e.upperBound - e.lowerBound) + 1e-6
      #expect(
        abs(m.lowerBound - e.lowerBound) <= tolerance && abs(m.upperBound - e.upperBound) <= tolerance,
        "product \(i): \(m) vs PyTorch \(e)")
    }
    #expect(model.provenance[Int8Calibration.metadataKey] == measured.metadataValue)
    #expect(try Int8Calibration(metadata: model.provenance, path: "x") == measured)
  }

  /// The Swift int8 network, built with PyTorch's ranges, against PyTorch's
  /// int8 features, relative to the spread of two correct implementations
  /// (PyTorch's float32 and float64 variants of the non-quantised parts).
  /// Exact agreement is impossible: a depthwise sum that differs in its last
  /// float32 bit flips a quantisation code now and then, and flips add up
  /// over 16 blocks. The Swift output must lie within 1.25× that spread, and
  /// the float32 network, which quantises nothing, beyond 1.5× it (measured:
  /// 0.79× and 3.8×).
  @Test("EfficientNet-Lite0 int8 pooled features agree with PyTorch's int8 emulation; float32 does not")
  func pooled() throws {
    let file = try SafeTensorsFile(path: Self.reference)
    let (names, input) = try Self.photosInput(file)
    let int8 = try EfficientNetLite(path: TestPaths.weights, precision: .int8, calibration: try Self.ranges(file))
    let fp32 = try EfficientNetLite(path: TestPaths.weights)
    let low = try #require(int8.forward(input, count: names.count, layers: [.pooled]).pooled)
    let full = try #require(fp32.forward(input, count: names.count, layers: [.pooled]).pooled)
    var swift = 0.0, float = 0.0, spread = 0.0
    for (i, name) in names.enumerated() {
      let reference = try file.floats("\(name).pooled", shape: [1280])
      let variant = try file.floats("\(name).pooled_f64", shape: [1280])
      let slice = (i * 1280)..<((i + 1) * 1280)
      swift += Self.distance(low[slice], reference)
      float += Self.distance(full[slice], reference)
      spread += Self.distance(variant[...], reference)
    }
    print("int8 parity: Σ|Swift int8 − PyTorch int8| = \(swift); float32 model \(float); PyTorch float64 variant \(spread)")
    #expect(swift <= 1.25 * spread, "Swift int8 lies \(swift) from PyTorch's int8, over 1.25× the spread \(spread)")
    #expect(float >= 1.5 * spread, "float32 (\(float)) is as close to the int8 reference as an int8 implementation")
    // Batch invariance: each image alone gives the same bits.
    for i in [0, 3] {
      let alone = try #require(int8.forward(Array(input[(i * 224 * 224 * 3)..<((i + 1) * 224 * 224 * 3)]), count: 1, layers: [.pooled]).pooled)
      #expect(alone.map(\.bitPattern) == low[(i * 1280)..<((i + 1) * 1280)].map(\.bitPattern), "image \(i) alone")
    }
  }

  /// MiniLM with every linear layer on per-row int8 codes against PyTorch
  /// doing the same (`make_fixtures.py`), relative to the spread of two
  /// correct implementations as for the photos. The spread is uneven: a
  /// sentence either flips no code (distance ~1e-7) or flips some, and a
  /// flip moves its row's whole output. So the bound is on the sums over
  /// the six sentences, as for the photos (measured: 0.20× and 2.0×).
  @Test("MiniLM int8 (per-row codes) embeddings agree with PyTorch's int8 emulation; float32 does not")
  func text() throws {
    let file = try SafeTensorsFile(path: Self.reference)
    guard case .array(let items) = try JSONValue.parse(try file.requireMetadata("sentences")) else { return }
    let sentences = items.compactMap(\.stringValue)
    #expect(sentences.count == 6)
    let weights = TestPaths.repositoryRoot + "/Weights/all-minilm-l6-v2.safetensors"
    let int8 = try MiniLMEncoder(path: weights, precision: .int8)
    #expect(int8.precision == .int8)
    let low = int8.encode(sentences, workers: 2)
    let full = try MiniLMEncoder(path: weights).encode(sentences, workers: 2)
    let d = low.dimension
    var swift = 0.0, float = 0.0, spread = 0.0
    for i in sentences.indices {
      let reference = try file.floats("s\(i).raw", shape: [d])
      let slice = (i * d)..<((i + 1) * d)
      swift += Self.distance(low.raw[slice], reference)
      float += Self.distance(full.raw[slice], reference)
      spread += Self.distance(try file.floats("s\(i).raw_f64", shape: [d])[...], reference)
    }
    print("MiniLM int8 parity: Σ|Swift int8 − PyTorch int8| = \(swift); float32 model \(float); PyTorch float64 variant \(spread)")
    #expect(swift <= 1.25 * spread, "Swift int8 lies \(swift) from PyTorch's int8, over 1.25× the spread \(spread)")
    #expect(float >= 1.5 * spread, "float32 (\(float)) is as close to the int8 reference as an int8 implementation")
    for (i, sentence) in sentences.enumerated() {
      let alone = int8.encode([sentence], workers: 1)
      #expect(alone.raw.map(\.bitPattern) == low.raw[(i * d)..<((i + 1) * d)].map(\.bitPattern), "sentence \(i) alone")
    }
  }

  @Test("int8 without a calibration, or with the wrong number of ranges, is refused")
  func refusals() throws {
    #expect(throws: PrecisionError.needsCalibration(source: "EfficientNetLite(precision: .int8)")) {
      try EfficientNetLite(path: TestPaths.weights, precision: .int8)
    }
    #expect {
      try EfficientNetLite(path: TestPaths.weights, precision: .int8, calibration: Int8Calibration(ranges: [0...1]))
    } throws: { error in
      "\(error)".contains("1 activation ranges, but this network runs 33 convolutions")
    }
    #expect {
      _ = try Int8Calibration(metadata: [Int8Calibration.metadataKey: "0:1 2:x"], path: "bank.safetensors")
    } throws: { error in
      "\(error)".contains("bank.safetensors") && "\(error)".contains("range 2")
    }
  }
}
