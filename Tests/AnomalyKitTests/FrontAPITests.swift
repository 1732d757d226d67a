import AnomalyKit
import Density
import FeatureExtraction
import Foundation
import TensorFiles
import Testing

/// A second backbone behind `ImageBackbone`: the per-channel means of a
/// 4×4 grid of cells (48-d pooled feature; one stage, the 4×4×3 cell map).
/// Simple enough that the test computes its features independently.
struct CellMeanBackbone: ImageBackbone {
  var architecture = "cell-mean-4x4"
  var weightsSHA256 = String(repeating: "0", count: 64)
  var inputSize = 32
  var inputMean: Float = 0
  var inputStd: Float = 255
  var featureDimension: Int { 48 }
  var stageCount: Int { 1 }

  func stageShape(_ n: Int) -> (height: Int, width: Int, channels: Int)? { n == 1 ? (4, 4, 3) : nil }

  func forward(_ input: [Float], count: Int, layers: Set<FeatureLayer>, workers: Int) -> BackboneOutput {
    let cell = inputSize / 4
    var maps = [Float](repeating: 0, count: count * 48)
    for i in 0..<count {
      for y in 0..<inputSize {
        for x in 0..<inputSize {
          for c in 0..<3 {
            let v = input[((i * inputSize + y) * inputSize + x) * 3 + c]
            maps[i * 48 + ((y / cell) * 4 + x / cell) * 3 + c] += v / Float(cell * cell)
          }
        }
      }
    }
    var out = BackboneOutput()
    if layers.contains(.pooled) { out.pooled = maps }
    if layers.contains(.stage(1)) { out.stages[1] = FeatureMaps(count: count, height: 4, width: 4, channels: 3, values: maps) }
    return out
  }
}

@Suite("Front API: ImageAnomalyDetector, BankConfiguration, ColdStartTextDetector")
struct FrontAPITests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  static var demo: URL { root.appendingPathComponent("Examples/demo") }

  static func images(_ folder: String) throws -> [URL] {
    let dir = demo.appendingPathComponent(folder)
    return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".png") }.sorted()
      .map { dir.appendingPathComponent($0) }
  }

  @Test("a custom backbone fits and scores; the kNN score is the sum of the k nearest squared distances")
  func customBackbone() async throws {
    let normal = try Self.images("normal")
    var configuration = BankConfiguration.imageDefault
    configuration.scorer = .knn
    configuration.transform = .none
    configuration.resize = .stretch
    let backbone = CellMeanBackbone()
    let detector = try await ImageAnomalyDetector.fit(normal: normal, backbone: backbone, configuration: configuration)
    #expect(detector.bank.count == normal.count && detector.bank.dimension == 48)
    #expect(detector.bank.metadata["backbone"] == "cell-mean-4x4" && detector.bank.metadata["input_normalization"] == "(x - 0) / 255")

    // Independent features: decode, stretch to 32², cell means of x / 255.
    func features(_ url: URL) throws -> [Float] {
      let image = try ImageDecoder.decode(path: url.path)
      let square = Preprocessor(inputSize: 32, policy: .stretch).resized(image)
      var f = [Float](repeating: 0, count: 48)
      for y in 0..<32 {
        for x in 0..<32 {
          for c in 0..<3 { f[((y / 8) * 4 + x / 8) * 3 + c] += Float(square.pixels[(y * 32 + x) * 3 + c]) / 255 / 64 }
        }
      }
      return f
    }
    let bankRows = try normal.map(features)
    let query = try Self.images("test")[0]
    let q = try features(query)
    let distances = bankRows.map { row in zip(row, q).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }.sorted()
    let expected = distances[0] + distances[1]
    let got = try await detector.score([query])[0].score
    #expect(abs(got - expected) <= 1e-4 * max(1, expected), "\(got) vs \(expected)")

    // The bank refuses a backbone with other weights.
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ak-front-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let file = dir.appendingPathComponent("bank.safetensors")
    try detector.save(to: file)
    var other = backbone
    other.weightsSHA256 = String(repeating: "1", count: 64)
    #expect(throws: (any Error).self) { try ImageAnomalyDetector.load(from: file, backbone: other) }
    let reloaded = try ImageAnomalyDetector.load(from: file, backbone: backbone)
    #expect(try await reloaded.score([query])[0].score == got)
  }

  @Test("bad configurations throw typed errors that name the value and the range")
  func badConfigurations() throws {
    var c = BankConfiguration.patchDefault
    c.fpr = 1.5
    #expect(throws: AnomalyKitError.invalidConfiguration("fpr must be in (0, 1), found 1.5")) { try c.validate() }
    c = .imageDefault
    c.k = 0
    #expect(throws: AnomalyKitError.invalidConfiguration("k must be at least 1, found 0")) { try c.validate() }
    c = .patchDefault
    c.flipAverage = true
    #expect(throws: AnomalyKitError.self) { try c.validate() }
    #expect(throws: AnomalyKitError.self) {
      try ImageAnomalyDetector.fit(features: FeatureMatrix(rows: 4, columns: 2, values: Array(repeating: 0, count: 8)), configuration: .patchDefault)
    }
  }

  @Test("a detector fitted on features scores features, and refuses images with a message")
  func featuresOnly() throws {
    let values: [Float] = (0..<60).map { Float($0 % 7) - Float($0 % 5) }
    var configuration = BankConfiguration.externalFeatures
    configuration.scorer = .knn
    let detector = try ImageAnomalyDetector.fit(features: FeatureMatrix(rows: 20, columns: 3, values: values), configuration: configuration)
    #expect(detector.pipeline == nil && detector.threshold != nil)
    let query: [Float] = [10, -4, 2]
    let scores = try detector.score(features: FeatureMatrix(rows: 1, columns: 3, values: query))
    var distances: [Float] = []
    for r in 0..<20 {
      var d: Float = 0
      for c in 0..<3 {
        let e = values[r * 3 + c] - query[c]
        d += e * e
      }
      distances.append(d)
    }
    distances.sort()
    #expect(scores.count == 1 && abs(scores[0] - (distances[0] + distances[1])) < 1e-3, "\(scores) vs \(distances.prefix(2))")
    #expect(throws: AnomalyKitError.self) { try detector.score([URL(fileURLWithPath: "/nonexistent.png")]) }
  }

  @Test("presets hold the held-out defaults the CLI documents")
  func presets() {
    #expect(BankConfiguration.imageDefault.recipe == BankRecipe())
    #expect(BankConfiguration.imageDefault.scorer == .cosineKNN && BankConfiguration.imageDefault.transform == .sqrt)
    let p = BankConfiguration.patchDefault
    #expect(p.features == .patches(stages: [3, 5], pooling: .max) && p.inputSize == 320 && p.resize == .stretch && p.transform == .none)
    #expect(p.k == 1 && p.coreset == 0.01 && p.coresetMethod == .greedy)
    var q = p
    q.pooling = .mean
    #expect(q.features == .patches(stages: [3, 5], pooling: .mean))
  }
}
