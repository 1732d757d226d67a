import Density
import TensorFiles
import Testing

/// `Metrics` against scikit-learn and numpy (values in
/// Tests/Fixtures/density/density.safetensors, made by
/// make_density_fixtures.py).
@Suite struct MetricsTests {
  static let cases = [
    "random", "ties", "all_tied", "separating", "inverted", "tiny2", "tiny3", "one_positive", "tie_blocks", "collinear_ties",
  ]

  struct Case {
    let scores: [Float]
    let labels: [Bool]
    let thresholds: [Float]
    let f1: [Double]
    /// roc_auc_score, average_precision_score, FPR@95%TPR from roc_curve
    /// (drop_intermediate=True), the same on all points.
    let summary: [Double]
    let q: [Double]
    let quantiles: [Double]

    init(_ name: String) throws {
      let f = try DensityFixture.open()
      scores = try f.floats("metrics.\(name).scores")
      labels = try f.floats("metrics.\(name).labels").map { $0 == 1 }
      thresholds = try f.floats("metrics.\(name).thresholds")
      f1 = try f.doubles("metrics.\(name).f1")
      summary = try f.doubles("metrics.\(name).summary")
      q = try f.doubles("metrics.q")
      quantiles = try f.doubles("metrics.\(name).quantiles")
    }
  }

  @Test(arguments: cases) func aurocMatchesSklearn(_ name: String) throws {
    let c = try Case(name)
    let auroc = try #require(Metrics.auroc(scores: c.scores, labels: c.labels))
    #expect(abs(auroc - c.summary[0]) <= 1e-9, "\(name): \(auroc) vs sklearn \(c.summary[0])")
  }

  @Test(arguments: cases) func averagePrecisionMatchesSklearn(_ name: String) throws {
    let c = try Case(name)
    let ap = try #require(Metrics.averagePrecision(scores: c.scores, labels: c.labels))
    #expect(abs(ap - c.summary[1]) <= 1e-9, "\(name): \(ap) vs sklearn \(c.summary[1])")
  }

  @Test(arguments: cases) func f1MatchesSklearn(_ name: String) throws {
    let c = try Case(name)
    try #require(c.thresholds.count == c.f1.count)
    for (t, expected) in zip(c.thresholds, c.f1) {
      let f1 = Metrics.f1(scores: c.scores, labels: c.labels, threshold: t)
      #expect(abs(f1 - expected) <= 1e-9, "\(name) at threshold \(t): \(f1) vs sklearn \(expected)")
    }
  }

  /// `fpr[argmax(tpr >= 0.95)]` on `roc_curve`. Swift walks every distinct
  /// threshold, i.e. `roc_curve(drop_intermediate=False)`; the default
  /// `drop_intermediate=True` agrees except when TPR first reaches 95% in
  /// the middle of a collinear run of tied score groups, where sklearn drops
  /// that point (the `collinear_ties` case: 0.4 there, 0.3 here).
  @Test(arguments: cases) func fprAt95TPRMatchesSklearn(_ name: String) throws {
    let c = try Case(name)
    let fpr = try #require(Metrics.fprAtTPR(scores: c.scores, labels: c.labels))
    #expect(abs(fpr - c.summary[3]) <= 1e-9, "\(name): \(fpr) vs sklearn (all points) \(c.summary[3])")
    if name == "collinear_ties" {
      #expect(abs(c.summary[2] - 0.4) <= 1e-12 && abs(fpr - 0.3) <= 1e-12)
    } else {
      #expect(abs(fpr - c.summary[2]) <= 1e-9, "\(name): \(fpr) vs sklearn (default roc_curve) \(c.summary[2])")
    }
  }

  @Test(arguments: cases) func quantileMatchesNumpy(_ name: String) throws {
    let c = try Case(name)
    let scale = Double(c.scores.map { abs($0) }.max() ?? 0)
    for (q, expected) in zip(c.q, c.quantiles) {
      let v = try #require(Metrics.quantile(c.scores, q))
      // Swift interpolates in Float: allow a few ulps of the data's magnitude.
      #expect(abs(Double(v) - expected) <= 4 * Double(Float.ulpOfOne) * max(scale, 1), "\(name) q=\(q): \(v) vs numpy \(expected)")
    }
  }

  @Test func knownValuesByHand() throws {
    // Perfect separation, all ties, and one tie straddling the classes.
    #expect(Metrics.auroc(scores: [0, 1, 2, 3], labels: [false, false, true, true]) == 1)
    #expect(Metrics.auroc(scores: [3, 2, 1, 0], labels: [false, false, true, true]) == 0)
    #expect(Metrics.auroc(scores: [1, 1, 1, 1], labels: [false, true, false, true]) == 0.5)
    #expect(Metrics.auroc(scores: [0, 1, 1, 2], labels: [false, false, true, true]) == 0.875)
    #expect(Metrics.averagePrecision(scores: [1, 1, 1, 1], labels: [false, true, false, true]) == 0.5)
    #expect(Metrics.f1(scores: [1, 2, 3], labels: [false, true, true], threshold: 2) == 2.0 / 3.0)
    #expect(Metrics.f1(scores: [1, 2, 3], labels: [false, true, true], threshold: 3) == 0)
    #expect(Metrics.quantile([4, 1, 3, 2], 0.5) == 2.5)
    #expect(Metrics.quantile([4, 1, 3, 2], 0) == 1)
    #expect(Metrics.quantile([4, 1, 3, 2], 1) == 4)
    #expect(Metrics.quantile([7], 0.3) == 7)
    // q outside [0, 1] is clamped.
    #expect(Metrics.quantile([4, 1, 3, 2], -1) == 1)
    #expect(Metrics.quantile([4, 1, 3, 2], 2) == 4)
  }

  @Test func oneClassInputsGiveNil() {
    let scores: [Float] = [0.1, 0.5, 0.9]
    let allNormal = [false, false, false]
    let allAnomalous = [true, true, true]
    #expect(Metrics.auroc(scores: scores, labels: allNormal) == nil)
    #expect(Metrics.auroc(scores: scores, labels: allAnomalous) == nil)
    #expect(Metrics.averagePrecision(scores: scores, labels: allNormal) == nil)
    #expect(Metrics.fprAtTPR(scores: scores, labels: allNormal) == nil)
    #expect(Metrics.fprAtTPR(scores: scores, labels: allAnomalous) == nil)
    #expect(Metrics.auroc(scores: [], labels: []) == nil)
    #expect(Metrics.averagePrecision(scores: [], labels: []) == nil)
    #expect(Metrics.fprAtTPR(scores: [], labels: []) == nil)
    #expect(Metrics.quantile([], 0.5) == nil)
    // Without positives there is no true positive, so F1 is 0 (sklearn's
    // zero_division=0).
    #expect(Metrics.f1(scores: scores, labels: allNormal, threshold: 0) == 0)
  }
}
