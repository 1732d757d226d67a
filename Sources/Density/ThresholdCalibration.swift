/// A decision threshold from normal data only.
///
/// anomalib's adaptive F1 threshold needs labelled anomalies, and PyOD's
/// `contamination` labels a fixed share of the *training* data as outliers.
/// Here the threshold is the (1 − fpr) quantile of out-of-sample normal
/// scores, so "anomalous" means "scores higher than all but `fpr` of unseen
/// normals".
///
/// Out-of-sample scores come from cross-fitting: the normals are shuffled
/// (seeded) into ⌈1/holdout⌉ folds; each fold is scored against a bank fitted
/// on the other folds. Every normal gets one held-out score and no data is
/// wasted (the shipped bank still holds all of them). The held-out banks
/// have a fraction `holdout` fewer normals than the final bank, so the final
/// bank's normal scores are slightly lower and the realised FPR is at most
/// about `fpr` (conservative).
public struct ThresholdCalibration: Sendable, Equatable {
  /// Share of the normals each fold holds out (default 0.1); sets `folds`.
  public var holdout: Double
  /// Target false-positive rate on unseen normals (default 0.01): the
  /// threshold is the (1 − fpr) quantile.
  public var fpr: Double
  /// Seed of the fold assignment (default 0).
  public var seed: UInt64

  /// A calibration with the given settings.
  public init(holdout: Double = 0.1, fpr: Double = 0.01, seed: UInt64 = 0) {
    self.holdout = holdout
    self.fpr = fpr
    self.seed = seed
  }

  /// ⌈1/holdout⌉ folds, at least 2 (and 10 for a holdout that is not in (0, 1)).
  public var folds: Int {
    guard holdout > 0, holdout < 1 else { return 10 }
    return max(2, Int((1 / holdout).rounded(.up)))
  }

  /// Assigns each of `count` items to a fold, in a seeded random order.
  public func foldAssignment(count: Int) -> [Int] {
    var rng = SplitMix64(seed: seed)
    let order = rng.permutation(count)
    var fold = [Int](repeating: 0, count: count)
    for (position, item) in order.enumerated() { fold[item] = position % folds }
    return fold
  }

  /// Out-of-fold scores for `count` normals. `scoreFold(held, kept)` fits on
  /// `kept` and scores `held` (indices into the normals), returning one
  /// score per held item in order.
  public func outOfFoldScores(count: Int, scoreFold: ([Int], [Int]) throws -> [Float]) throws -> [Float] {
    let fold = foldAssignment(count: count)
    var scores = [Float](repeating: 0, count: count)
    for f in 0..<folds {
      let held = (0..<count).filter { fold[$0] == f }
      let kept = (0..<count).filter { fold[$0] != f }
      guard !held.isEmpty, !kept.isEmpty else { continue }
      let s = try scoreFold(held, kept)
      for (i, v) in zip(held, s) { scores[i] = v }
    }
    return scores
  }

  /// The threshold: quantile (1 − fpr) of the out-of-fold scores.
  public func threshold(from scores: [Float]) -> Float? {
    Metrics.quantile(scores, 1 - fpr)
  }

  /// Metadata describing the calibration.
  public func metadata(threshold: Float, scores: Int) -> [String: String] {
    [
      "threshold": "\(threshold)", "threshold_method": "cross-fit quantile", "threshold_fpr": "\(fpr)",
      "threshold_holdout": "\(holdout)", "threshold_folds": String(folds), "threshold_seed": String(seed),
      "threshold_scores": String(scores),
    ]
  }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast, seedable generator,
/// so that splits and samples are the same on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64

  /// A generator whose whole sequence is fixed by `seed`.
  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniformly random permutation of `0..<n` (Fisher–Yates).
  public mutating func permutation(_ n: Int) -> [Int] {
    var a = Array(0..<n)
    if n > 1 {
      for i in stride(from: n - 1, to: 0, by: -1) {
        let j = Int(next() % UInt64(i + 1))
        a.swapAt(i, j)
      }
    }
    return a
  }
}
