import Density
import Testing

@Suite struct ThresholdCalibrationTests {
  /// The reference SplitMix64 (Steele, Lea & Flood 2014; golden-gamma
  /// increment 0x9E3779B97F4A7C15, the standard mix), as printed by
  /// `python Tests/Fixtures/density/make_density_fixtures.py --splitmix`.
  /// (They are also the values of the reference splitmix64.c for seed 0.)
  @Test func splitMix64MatchesReference() {
    var rng = SplitMix64(seed: 0)
    let expected: [UInt64] = [
      0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC, 0x1B39_896A_51A8_749B,
    ]
    #expect((0..<5).map { _ in rng.next() } == expected)
    // Fisher–Yates from the top with j = next() % (i + 1), same script.
    var a = SplitMix64(seed: 0)
    #expect(a.permutation(10) == [6, 3, 2, 9, 8, 1, 4, 7, 0, 5])
    var b = SplitMix64(seed: 42)
    #expect(b.permutation(7) == [2, 4, 6, 0, 3, 1, 5])
    var c = SplitMix64(seed: 1)
    #expect(c.permutation(0) == [] && c.permutation(1) == [0])
  }

  @Test func foldCount() {
    #expect(ThresholdCalibration(holdout: 0.1).folds == 10)
    #expect(ThresholdCalibration(holdout: 0.2).folds == 5)
    #expect(ThresholdCalibration(holdout: 0.3).folds == 4)
    #expect(ThresholdCalibration(holdout: 0.5).folds == 2)
    #expect(ThresholdCalibration(holdout: 0.9).folds == 2)
  }

  @Test(arguments: [0.1, 0.2, 0.3, 0.5, 0.9]) func foldsPartitionEvenly(_ holdout: Double) {
    for seed: UInt64 in [0, 1, 12345] {
      let calibration = ThresholdCalibration(holdout: holdout, seed: seed)
      let folds = calibration.folds
      for count in [0, 1, 2, 5, 10, 11, 97, 1000] {
        let fold = calibration.foldAssignment(count: count)
        #expect(fold.count == count)
        #expect(fold.allSatisfy { (0..<folds).contains($0) })
        var sizes = [Int](repeating: 0, count: folds)
        for f in fold { sizes[f] += 1 }
        #expect(sizes.max()! - sizes.min()! <= 1, "holdout \(holdout) count \(count): sizes \(sizes)")
        #expect(sizes.reduce(0, +) == count)
        #expect(calibration.foldAssignment(count: count) == fold, "not deterministic")
      }
    }
    // Different seeds shuffle differently.
    #expect(
      ThresholdCalibration(holdout: holdout, seed: 0).foldAssignment(count: 100)
        != ThresholdCalibration(holdout: holdout, seed: 1).foldAssignment(count: 100))
  }

  @Test func foldsFollowTheSeededPermutation() {
    // Item permutation[p] goes to fold p % folds; permutation from the script.
    let permutation = [6, 3, 2, 9, 8, 1, 4, 7, 0, 5]
    let fold = ThresholdCalibration(holdout: 0.3, seed: 0).foldAssignment(count: 10)
    for (p, item) in permutation.enumerated() { #expect(fold[item] == p % 4) }
  }

  /// 1-D normals at distinct integers (every Float step exact), k = 1 kNN:
  /// the out-of-fold score of x is the squared gap to the nearest normal in
  /// the other folds, and the threshold is numpy's linear quantile of those
  /// scores at 1 − fpr, both computed here by hand.
  @Test(arguments: [(0.2, 0.05), (0.1, 0.01), (0.5, 0.25), (0.3, 0.0)]) func thresholdIsTheOutOfFoldQuantile(
    holdout: Double, fpr: Double
  ) throws {
    let n = 40
    let x = (0..<n).map { Float(($0 * 37) % 101) }
    #expect(Set(x).count == n)
    let normals = FeatureMatrix(rows: n, columns: 1, values: x)
    let calibration = ThresholdCalibration(holdout: holdout, fpr: fpr, seed: 7)
    let fold = calibration.foldAssignment(count: n)
    var seen = [Int](repeating: 0, count: n)
    let scores = try calibration.outOfFoldScores(count: n) { held, kept in
      // held = one fold, kept = the rest.
      let f = fold[held[0]]
      #expect(held == (0..<n).filter { fold[$0] == f })
      #expect(kept == (0..<n).filter { fold[$0] != f })
      for i in held { seen[i] += 1 }
      let bank = try ReferenceBank(fitting: normals.selecting(kept), scorer: .knn, k: 1)
      return try bank.score(normals.selecting(held))
    }
    #expect(seen == [Int](repeating: 1, count: n), "every normal is held out exactly once")

    var byHand = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var best = Double.infinity
      for j in 0..<n where fold[j] != fold[i] {
        let gap = Double(x[i]) - Double(x[j])
        best = min(best, gap * gap)
      }
      byHand[i] = best
    }
    #expect(scores.map(Double.init) == byHand)

    let sorted = byHand.sorted()
    let position = (1 - fpr) * Double(n - 1)
    let lo = Int(position.rounded(.down))
    let hi = min(lo + 1, n - 1)
    let quantile = sorted[lo] + (sorted[hi] - sorted[lo]) * (position - Double(lo))
    let threshold = try #require(calibration.threshold(from: scores))
    #expect(isClose(Double(threshold), quantile, relative: 1e-6), "\(threshold) vs \(quantile)")
    // Only scores above the (1 − fpr) order statistic are flagged.
    #expect(scores.filter { $0 > threshold }.count <= n - 1 - lo)

    let meta = calibration.metadata(threshold: threshold, scores: n)
    #expect(meta["threshold"] == "\(threshold)")
    #expect(meta["threshold_folds"] == String(calibration.folds))
    #expect(meta["threshold_seed"] == "7")
    #expect(meta["threshold_scores"] == String(n))
    #expect(Double(meta["threshold_fpr"]!) == fpr && Double(meta["threshold_holdout"]!) == holdout)
  }

  @Test func noScoresNoThreshold() {
    #expect(ThresholdCalibration().threshold(from: []) == nil)
  }
}
