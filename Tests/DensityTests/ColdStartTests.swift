import Density
import Foundation
import TensorFiles
import Testing

/// The cold-start protocol against the from-scratch numpy reference in
/// Tests/Fixtures/coldstart/protocol.safetensors (made by
/// Tests/Fixtures/coldstart/make_fixtures.py, which recomputes trimming,
/// assignment, medians and 1-NN scores at every step as the official code
/// does).
@Suite struct ColdStartProtocolTests {
  static let path = DensityPaths.repositoryRoot + "/Tests/Fixtures/coldstart/protocol.safetensors"
  static let contamination = 0.1
  static let trim = 0.9
  static let seed: UInt64 = 7

  struct Data {
    let file: SafeTensorsFile
    let prototypes, normals, pool, testNormals, testAnomalies: FeatureMatrix

    init() throws {
      file = try SafeTensorsFile(path: ColdStartProtocolTests.path)
      prototypes = try DensityFixture.matrix(file, "prototypes")
      normals = try DensityFixture.matrix(file, "stream_normal")
      pool = try DensityFixture.matrix(file, "anomaly_pool")
      testNormals = try DensityFixture.matrix(file, "test_normal")
      testAnomalies = try DensityFixture.matrix(file, "test_anomaly")
    }

    func row(_ candidate: Int) -> FeatureMatrix {
      let source = candidate < normals.rows ? normals : pool
      let r = candidate < normals.rows ? candidate : candidate - normals.rows
      return FeatureMatrix(rows: 1, columns: source.columns, values: Array(source[row: r]))
    }
  }

  @Test func streamOrderIsSplitMixFisherYates() throws {
    let data = try Data()
    let stream = try ColdStartStream(normalCount: data.normals.rows, poolCount: data.pool.rows, contamination: Self.contamination, seed: Self.seed)
    let expected = try data.file.integers("l2.order").map(Int.init)
    let actual = stream.items.map { item -> Int in
      switch item {
      case .normal(let i): return i
      case .anomaly(let i): return data.normals.rows + i
      }
    }
    #expect(actual == expected)
    #expect(stream.anomalyCount == 4)  // round(0.1 · 40)
  }

  @Test(arguments: PrototypeMetric.allCases)
  func curvesMatchTheFromScratchReference(_ metric: PrototypeMetric) throws {
    let data = try Data()
    let evaluation = try ColdStartEvaluation(
      prototypes: data.prototypes, streamNormals: data.normals, anomalyPool: data.pool, testNormals: data.testNormals,
      testAnomalies: data.testAnomalies, metric: metric, trim: Self.trim)
    let curves = try evaluation.curves(contamination: Self.contamination, seed: Self.seed)
    for method in ColdStartMethod.allCases {
      let expected = try data.file.doubles("\(metric.rawValue).\(method.rawValue)")
      let actual = try #require(curves[method])
      #expect(actual.count == expected.count)
      let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
      #expect(worst <= 1e-9, "\(metric) \(method): max |ΔAUROC| \(worst)")
    }
  }

  @Test(arguments: PrototypeMetric.allCases)
  func adaptedPrototypesAndKeptSetMatch(_ metric: PrototypeMetric) throws {
    let data = try Data()
    var adaptation = try ColdFusionAdaptation(prototypes: data.prototypes, metric: metric, trim: Self.trim)
    let order = try data.file.integers("\(metric.rawValue).order").map(Int.init)
    for candidate in order { try adaptation.add(data.row(candidate)) }
    let expected = try data.file.floats("\(metric.rawValue).adapted")
    let worst = zip(adaptation.adapted, expected).map { abs($0 - $1) }.max() ?? 0
    #expect(worst <= 1e-6, "max |Δ| of adapted prototypes \(worst)")
    let predictive = try data.file.floats("\(metric.rawValue).predictive_prototypes")
    let worstPredictive = zip(adaptation.predictive, predictive).map { abs($0 - $1) }.max() ?? 0
    #expect(worstPredictive <= 1e-6, "max |Δ| of predictive prototypes \(worstPredictive)")
    let kept = try data.file.integers("\(metric.rawValue).kept").map(Int.init)
    #expect(adaptation.isKept.indices.filter { adaptation.isKept[$0] } == kept)
  }

  /// Each rule's detector, adapted to the whole stream, scores the test
  /// set as the from-scratch reference's last step does: the detector's
  /// scoring is a different code path from the evaluation's.
  @Test(arguments: PrototypeMetric.allCases)
  func detectorScoresMatchTheReferenceAfterTheStream(_ metric: PrototypeMetric) throws {
    let data = try Data()
    let order = try data.file.integers("\(metric.rawValue).order").map(Int.init)
    let test = data.testNormals.appending(data.testAnomalies)
    let labels = Array(repeating: false, count: data.testNormals.rows) + Array(repeating: true, count: data.testAnomalies.rows)
    for rule in ColdStartRule.allCases {
      var detector = try ColdStartDetector(
        classNames: (0..<data.prototypes.rows).map { "c\($0)" }, prototypes: data.prototypes, metric: metric, trim: Self.trim, rule: rule)
      for candidate in order { detector = try detector.adapting(data.row(candidate)) }
      let auroc = try #require(Metrics.auroc(scores: try detector.scores(test), labels: labels))
      let expected = try #require(try data.file.doubles("\(metric.rawValue).\(rule.rawValue)").last)
      #expect(abs(auroc - expected) <= 1e-9, "\(metric) \(rule): \(auroc) vs \(expected)")
    }
  }

  /// One batch or one observation at a time: the same detector, bit for bit.
  @Test func incrementalEqualsBatch() throws {
    let data = try Data()
    for metric in PrototypeMetric.allCases {
      var stepwise = try ColdFusionAdaptation(prototypes: data.prototypes, metric: metric, trim: Self.trim)
      var changed = Set<Int>()
      for r in 0..<data.normals.rows {
        let change = try stepwise.add(data.row(r))
        changed.formUnion(change.classes)
      }
      var batch = try ColdFusionAdaptation(prototypes: data.prototypes, metric: metric, trim: Self.trim)
      try batch.add(data.normals)
      var halves = try ColdFusionAdaptation(prototypes: data.prototypes, metric: metric, trim: Self.trim)
      try halves.add(data.normals.selecting(Array(0..<17)))
      try halves.add(data.normals.selecting(Array(17..<data.normals.rows)))
      #expect(stepwise.adapted == batch.adapted)
      #expect(stepwise.predictive == batch.predictive)
      #expect(halves.adapted == batch.adapted)
      #expect(stepwise.isKept == batch.isKept)
      #expect(!changed.isEmpty)
    }
  }
}

@Suite struct ColdStartPartsTests {
  @Test func keptCountRoundsHalfToEven() {
    #expect(ColdFusionAdaptation.keptCount(observations: 1, trim: 0.9) == 1)  // no trimming for one observation
    #expect(ColdFusionAdaptation.keptCount(observations: 2, trim: 0.9) == 2)  // round(1.8)
    #expect(ColdFusionAdaptation.keptCount(observations: 5, trim: 0.9) == 4)  // round(4.5) = 4
    #expect(ColdFusionAdaptation.keptCount(observations: 15, trim: 0.9) == 14)  // round(13.5) = 14
    #expect(ColdFusionAdaptation.keptCount(observations: 100, trim: 1) == 100)
  }

  @Test func columnwiseMedianMatchesSorting() {
    var rng = SplitMix64(seed: 11)
    var median = ColumnwiseMedian(dimension: 3)
    var rows: [[Float]] = []
    for step in 0..<200 {
      if step % 3 == 2, !rows.isEmpty {
        let victim = rows.remove(at: Int(rng.next() % UInt64(rows.count)))
        #expect(victim.withUnsafeBufferPointer { median.remove($0.baseAddress!) })
      } else {
        // Few distinct values, so ties are common.
        let row = (0..<3).map { _ in Float(Int(rng.next() % 7)) - 3 }
        rows.append(row)
        row.withUnsafeBufferPointer { median.insert($0.baseAddress!) }
      }
      let expected: [Float]? =
        rows.isEmpty
        ? nil
        : (0..<3).map { j in
          let v = rows.map { $0[j] }.sorted()
          return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
        }
      #expect(median.median() == expected)
    }
    let absent: [Float] = [100, 100, 100]
    #expect(!absent.withUnsafeBufferPointer { median.remove($0.baseAddress!) })
  }

  @Test func curveSummaryAveragesPrefixes() {
    let curve = (1...20).map(Double.init)  // AUROC_t = t
    let s = StreamCurveSummary(curve: curve)
    #expect(s.areas == [1.5, 3.0, 5.5, 10.5])  // steps 2, 5, 10, 20
    #expect(s.final == 20)
    #expect(StreamCurveSummary.keys == ["auc@10", "auc@25", "auc@50", "auc@100"])
  }

  @Test func invalidSettingsAreRejected() throws {
    let p = FeatureMatrix(rows: 1, columns: 2, values: [0, 1])
    #expect(throws: DensityError.self) { try ColdFusionAdaptation(prototypes: p, metric: .squaredL2, trim: 0) }
    #expect(throws: DensityError.self) { try ColdFusionAdaptation(prototypes: FeatureMatrix(rows: 0, columns: 2, values: []), metric: .squaredL2) }
    var a = try ColdFusionAdaptation(prototypes: p, metric: .squaredL2)
    #expect(throws: DensityError.self) { try a.add(FeatureMatrix(rows: 1, columns: 3, values: [0, 0, 0])) }
    #expect(throws: DensityError.self) { try a.add(FeatureMatrix(rows: 1, columns: 2, values: [.nan, 0])) }
    #expect(a.observationCount == 0)
    #expect(throws: DensityError.self) { try ColdStartStream(normalCount: 100, poolCount: 3, contamination: 0.05, seed: 0) }
  }
}

@Suite struct DetectorFileTests {
  func detector() throws -> ColdStartDetector {
    let data = try ColdStartProtocolTests.Data()
    return try ColdStartDetector(
      classNames: ["a", "b", "c", "d"], prototypes: data.prototypes, metric: .squaredL2, trim: 0.9,
      metadata: ["modality": "text", "weights_sha256": "abc"]
    ).adapting(data.normals.appending(data.pool))
  }

  func temporary(_ name: String) -> String {
    NSTemporaryDirectory() + "/ak-detector-\(UUID().uuidString)-\(name)"
  }

  @Test func roundTripKeepsEverything() throws {
    let d = try detector()
    let path = temporary("det.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try DetectorFile.write(d, to: path, toolkitVersion: "test")
    let back = try DetectorFile.read(path: path)
    #expect(back.classNames == d.classNames)
    #expect(back.adaptation.adapted == d.adaptation.adapted)
    #expect(back.observations == d.observations)
    #expect(back.threshold == d.threshold)
    #expect(back.threshold != nil)
    #expect(back.metadata["weights_sha256"] == "abc")
    let data = try ColdStartProtocolTests.Data()
    #expect(try back.scores(data.testNormals) == d.scores(data.testNormals))
    // Predictive scores are min_k f_k ‖x − p_k‖².
    let first = Array(data.testNormals[row: 0])
    let a = d.adaptation
    var direct = Float.infinity
    for k in 0..<4 {
      var squared: Float = 0
      for j in 0..<8 {
        let diff = first[j] - a.predictive[k * 8 + j]
        squared += diff * diff
      }
      direct = min(direct, a.predictiveFactors[k] * squared)
    }
    #expect(abs(try d.scores(data.testNormals)[0] - direct) <= 1e-4 * direct)
    #expect(d.rule == .predictive && back.rule == .predictive)
  }

  @Test func editedDetectorIsRejected() throws {
    let d = try detector()
    var tensors: [(String, [Float], [Int])] = [
      ("prototypes.original", d.prototypes.values, [4, 8]),
      ("prototypes.adapted", d.adaptation.adapted.map { $0 + 0.5 }, [4, 8]),
      ("observations", d.observations.values, [d.observations.rows, 8]),
    ]
    let path = temporary("edited.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    var writer = SafeTensorsWriter(metadata: [
      "format": "detector", "format_version": "1", "method": "coldfusion", "kappa": "1.5", "metric": "l2", "trim": "0.9", "classes": "[\"a\",\"b\",\"c\",\"d\"]",
      "observations": String(d.observations.rows),
    ])
    for (name, values, shape) in tensors { try writer.add(name, floats: values, shape: shape) }
    try writer.write(to: path)
    #expect {
      try DetectorFile.read(path: path)
    } throws: { error in
      "\(error)".contains("do not follow from its observations")
    }
    // A bank is not a detector.
    tensors.removeAll()
    var bank = SafeTensorsWriter(metadata: ["format": "bank", "format_version": "1"])
    try bank.add("features", floats: [0, 1], shape: [1, 2])
    try bank.write(to: path)
    #expect {
      try DetectorFile.read(path: path)
    } throws: { error in
      "\(error)".contains("expected 'detector'")
    }
  }
}
