import AnomalyKit
import Density
import FeatureExtraction
import Foundation
import Testing

/// `../shared/data` beside the repository.
private let sharedData: String = {
  var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
  parts.removeLast(3)  // Tests/AnomalyKitTests/PrecisionAccuracyGuardTests.swift
  return parts.joined(separator: "/") + "/../shared/data"
}()

/// The accuracy guard of the lower precisions, on real data: the change in
/// AUROC that `bf16` and `int8` cause against `fp32` on small, fixed slices
/// of the three benchmarks the precision issue names, run through the
/// library as a user would. The datasets cannot be fixtures, so the suite
/// reads them from `../shared/data` beside the repository and is skipped
/// where that folder is absent.
///
/// The full measurement (every class, domain and coreset seed, with
/// confidence intervals) is `Notebooks-export/scripts/eval_precision.py`;
/// these slices keep the suite to about a minute and catch a precision path
/// that ranks differently from float32. The bounds: on the text and CIFAR
/// slices, the 0.2-point goal for bf16, and for int8 (the issue sets
/// it no accuracy goal) 0.75 points, the largest change the full guard
/// measured on any one domain or class (0.65 and 0.69), rounded up. On the
/// Magnetic Tile slice the greedy coreset alone moves AUROC by points, so
/// that test measures its own noise floor. Each test's comment gives the
/// values measured when it was written.
@Suite(
  "Accuracy guard: AUROC of bf16 and int8 against fp32 on real data",
  .enabled(if: FileManager.default.fileExists(atPath: sharedData), "../shared/data is absent"))
struct PrecisionAccuracyGuardTests {
  static let data = sharedData

  /// The precisions this CPU runs besides fp32.
  static var lowPrecisions: [ComputePrecision] { [.bf16, .int8].filter(\.isSupported) }

  static func lines(_ path: String) throws -> [String] {
    try String(contentsOfFile: data + "/" + path, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
  }

  /// Every `step`-th element, from the first.
  static func every<T>(_ step: Int, _ items: [T]) -> [T] { stride(from: 0, to: items.count, by: step).map { items[$0] } }

  static func auroc(normal: [Float], anomalous: [Float]) throws -> Double {
    try #require(Metrics.auroc(scores: normal + anomalous, labels: normal.map { _ in false } + anomalous.map { _ in true }))
  }

  /// 100 × (low − fp32) for every low precision, checked against `bound`.
  static func check(_ label: String, bound: (ComputePrecision) -> Double, _ measure: (ComputePrecision) throws -> Double) throws {
    let full = try measure(.fp32)
    for precision in lowPrecisions {
      let low = try measure(precision)
      let delta = 100 * (low - full)
      print("\(label): AUROC fp32 \(full), \(precision.rawValue) \(low), change \(delta) points")
      #expect(abs(delta) <= bound(precision), "\(label): \(precision.rawValue) moved AUROC by \(delta) points (bound \(bound(precision)))")
    }
  }

  /// Banking77-OOS cold start: a detector from the 50 class descriptions,
  /// then ColdFusion adaptation on 500 unlabelled training queries of which
  /// 10% are in-domain out-of-scope (the 27 held-out Banking77 intents: the
  /// harder of the dataset's two OOS sets); AUROC of in-scope (normal)
  /// against in-domain out-of-scope test queries, every second one,
  /// zero-shot and after adaptation.
  /// Measured when written (AUROC 77.9 and 77.5 in fp32): bf16 −0.03 and
  /// −0.04 points, int8 +0.04 and −0.23.
  @Test("Banking77 cold start: zero-shot and ColdFusion AUROC move by at most 0.2 points (bf16) and 0.75 (int8)")
  func banking77() throws {
    let root = "coldstart/banking77-oos/"
    let inScope = Self.every(2, try Self.lines(root + "test/seq.in"))
    let outOfScope = Self.every(2, try Self.lines(root + "id-oos/test/seq.in"))
    let observations = Self.every(10, try Self.lines(root + "train/seq.in")).prefix(450) + (try Self.lines(root + "id-oos/valid/seq.in")).prefix(50)
    var results: [ComputePrecision: (zeroShot: Double, adapted: Double)] = [:]
    func measure(_ precision: ComputePrecision) throws -> (zeroShot: Double, adapted: Double) {
      if let done = results[precision] { return done }
      var detector = try ColdStartTextDetector(
        descriptionsFile: URL(fileURLWithPath: Self.data + "/" + root + "descriptions.json"), embedder: try TextEmbedder.bundled(precision: precision))
      func auroc(zeroShot: Bool) throws -> Double {
        try Self.auroc(
          normal: try detector.score(inScope, zeroShot: zeroShot).map(\.score), anomalous: try detector.score(outOfScope, zeroShot: zeroShot).map(\.score))
      }
      let zeroShot = try auroc(zeroShot: true)
      try detector.observe(Array(observations))
      let result = (zeroShot, try auroc(zeroShot: false))
      results[precision] = result
      return result
    }
    let bound = { (p: ComputePrecision) in p == .bf16 ? 0.2 : 0.75 }
    try Self.check("Banking77 zero-shot", bound: bound) { try measure($0).zeroShot }
    try Self.check("Banking77 ColdFusion", bound: bound) { try measure($0).adapted }
  }

  /// CIFAR-10 one-class, every class: a pooled kNN bank (the image defaults,
  /// stretched) fitted on the class's first 100 training images (int8
  /// calibrates on them), scored on the first 20 test images of every class;
  /// the class's own are normal. Mean AUROC over the ten classes.
  /// Measured when written (AUROC 89.07 in fp32): bf16 +0.02, int8 +0.18 points.
  @Test("CIFAR-10 one-class: mean AUROC moves by at most 0.2 points (bf16) and 0.75 (int8)")
  func cifar10() throws {
    let root = Self.data + "/images/cifar10/"
    let classes = try Self.lines("images/cifar10/classes.txt")
    func images(_ split: String, _ c: String, _ count: Int) throws -> [URL] {
      try FileManager.default.contentsOfDirectory(atPath: root + split + "/" + c).filter { $0.hasSuffix(".png") }.sorted().prefix(count)
        .map { URL(fileURLWithPath: root + split + "/" + c + "/" + $0) }
    }
    let test = try classes.map { try images("test", $0, 20) }
    try Self.check("CIFAR-10 one-class (mean of \(classes.count) classes)", bound: { $0 == .bf16 ? 0.2 : 0.75 }) { precision in
      var configuration = BankConfiguration.imageDefault
      configuration.resize = .stretch
      configuration.holdout = 0
      configuration.precision = precision
      var total = 0.0
      for (i, c) in classes.enumerated() {
        let detector = try ImageAnomalyDetector.fit(normal: try images("train", c, 100), configuration: configuration)
        let scores = try detector.score(test.flatMap { $0 }, keepMaps: false).map(\.score)
        let own = (i * 20)..<((i + 1) * 20)
        total += try Self.auroc(
          normal: Array(scores[own]), anomalous: scores.indices.filter { !own.contains($0) }.map { scores[$0] })
      }
      return total / Double(classes.count)
    }
  }

  /// Magnetic Tile with the patch defaults: a bank fitted on 80 defect-free
  /// tiles and scored on 40 others and 8 of each of the five defect
  /// classes; image AUROC. The greedy coreset
  /// alone moves this set's AUROC by points when only its seed changes
  /// (1.6 points on the full set, `eval_precision.py`), so the test measures
  /// that noise floor too, with fp32 at coreset seeds 0 and 1, and bounds
  /// each precision's change at seed 0 by twice it (at least 1 point).
  /// Measured when written (AUROC 74.4 in fp32): the seeds 3.06 points
  /// apart, bf16 −1.19, int8 −2.06.
  @Test("Magnetic Tile, patch bank: image AUROC moves by at most twice what the coreset's seed moves it")
  func magneticTile() throws {
    let root = Self.data + "/industrial/magnetic-tile/"
    func images(_ folder: String) throws -> [URL] {
      try FileManager.default.contentsOfDirectory(atPath: root + folder + "/images").filter { $0.hasSuffix(".png") || $0.hasSuffix(".jpg") }
        .sorted().map { URL(fileURLWithPath: root + folder + "/images/" + $0) }
    }
    // Every 6th defect-free tile, alternating between the bank and the test
    // set, so both span all capture sessions (the files sort by session).
    let free = Self.every(6, try images("MT_Free"))
    let train = Array(Self.every(2, free).prefix(80)), good = Array(Self.every(2, Array(free.dropFirst())).prefix(40))
    let defects = try ["MT_Blowhole", "MT_Break", "MT_Crack", "MT_Fray", "MT_Uneven"].flatMap { Self.every(4, try images($0)).prefix(8) }
    func auroc(_ precision: ComputePrecision, seed: UInt64) throws -> Double {
      var configuration = BankConfiguration.patchDefault
      configuration.holdout = 0
      configuration.precision = precision
      configuration.seed = seed
      let detector = try ImageAnomalyDetector.fit(normal: train, configuration: configuration)
      return try Self.auroc(
        normal: try detector.score(good, keepMaps: false).map(\.score), anomalous: try detector.score(defects, keepMaps: false).map(\.score))
    }
    let seedRange = 100 * abs(try auroc(.fp32, seed: 1) - auroc(.fp32, seed: 0))
    print("Magnetic Tile image AUROC: fp32 moves \(seedRange) points between coreset seeds 0 and 1")
    try Self.check("Magnetic Tile image AUROC", bound: { _ in max(1, 2 * seedRange) }) { try auroc($0, seed: 0) }
  }
}
