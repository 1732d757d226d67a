/// Detection metrics, defined as scikit-learn defines them. Label 1 (true)
/// is an anomaly; a higher score means more anomalous.
public enum Metrics {
  /// Area under the ROC curve, the Mann–Whitney statistic with ties
  /// counting ½ (sklearn's `roc_auc_score`):
  /// ```
  /// AUROC = (Σ_{i∈pos} rank_i − n₁(n₁+1)/2) / (n₁ n₀)
  /// ```
  /// with average ranks for ties. `nil` when one class is empty.
  ///
  /// Sorting is on packed integer keys (the score's order-preserving bits,
  /// then the label), which is several times faster than an index sort with
  /// a comparison closure; the cold-start protocol calls this after every
  /// stream step.
  public static func auroc(scores: [Float], labels: [Bool]) -> Double? {
    precondition(scores.count == labels.count, "one label per score")
    var keys = [UInt64](repeating: 0, count: scores.count)
    var n1 = 0
    for i in scores.indices {
      keys[i] = UInt64(orderedBits(scores[i])) << 1 | (labels[i] ? 1 : 0)
      if labels[i] { n1 += 1 }
    }
    let n0 = labels.count - n1
    guard n1 > 0, n0 > 0 else { return nil }
    keys.sort()
    var rankSum = 0.0
    var i = 0
    while i < keys.count {
      let score = keys[i] >> 1
      var j = i
      var positives = 0
      while j < keys.count && keys[j] >> 1 == score {
        positives += Int(keys[j] & 1)
        j += 1
      }
      // Ranks i+1 … j share their average.
      rankSum += Double(positives) * (Double(i + 1 + j) / 2)
      i = j
    }
    return (rankSum - Double(n1) * Double(n1 + 1) / 2) / (Double(n1) * Double(n0))
  }

  /// `x`'s bits mapped so that unsigned order is numeric order (−0 and +0
  /// map alike; NaN is never passed).
  @inline(__always)
  static func orderedBits(_ x: Float) -> UInt32 {
    let b = (x == 0 ? Float(0) : x).bitPattern
    return b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
  }

  /// Average precision, sklearn's step-wise (not interpolated) definition:
  /// `AP = Σ_n (R_n − R_{n−1}) P_n` over distinct score thresholds, highest
  /// first. `nil` without positives.
  public static func averagePrecision(scores: [Float], labels: [Bool]) -> Double? {
    let positives = labels.filter { $0 }.count
    guard positives > 0 else { return nil }
    var previousRecall = 0.0
    var ap = 0.0
    for (tp, fp) in rocCounts(scores: scores, labels: labels) {
      let recall = Double(tp) / Double(positives)
      ap += (recall - previousRecall) * Double(tp) / Double(tp + fp)
      previousRecall = recall
    }
    return ap
  }

  /// F1 of the rule "anomalous when score > threshold".
  public static func f1(scores: [Float], labels: [Bool], threshold: Float) -> Double {
    var tp = 0
    var fp = 0
    var fn = 0
    for (s, y) in zip(scores, labels) {
      let flagged = s > threshold
      if flagged && y { tp += 1 } else if flagged && !y { fp += 1 } else if !flagged && y { fn += 1 }
    }
    return tp == 0 ? 0 : 2 * Double(tp) / Double(2 * tp + fp + fn)
  }

  /// False-positive rate at the first ROC point whose true-positive rate
  /// reaches 95%: `fpr[argmax(tpr >= 0.95)]` on sklearn's
  /// `roc_curve(drop_intermediate=False)`. (sklearn's default drops collinear
  /// points, which can skip the exact crossing inside a run of ties and
  /// report a higher FPR; every distinct threshold is kept here.)
  public static func fprAtTPR(scores: [Float], labels: [Bool], tpr target: Double = 0.95) -> Double? {
    let positives = labels.filter { $0 }.count
    let negatives = labels.count - positives
    guard positives > 0, negatives > 0 else { return nil }
    for (tp, fp) in rocCounts(scores: scores, labels: labels) where Double(tp) / Double(positives) >= target {
      return Double(fp) / Double(negatives)
    }
    return 1
  }

  /// Cumulative (true positives, false positives) when flagging every score
  /// at or above each distinct threshold, highest threshold first: the
  /// points of sklearn's `roc_curve(drop_intermediate=False)` and
  /// `precision_recall_curve`. Tied scores enter together.
  static func rocCounts(scores: [Float], labels: [Bool]) -> [(tp: Int, fp: Int)] {
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    var points: [(tp: Int, fp: Int)] = []
    var tp = 0
    var fp = 0
    var i = 0
    while i < order.count {
      var j = i
      while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
      for t in i...j { if labels[order[t]] { tp += 1 } else { fp += 1 } }
      points.append((tp, fp))
      i = j + 1
    }
    return points
  }

  /// The q-quantile with linear interpolation between order statistics
  /// (NumPy's default `quantile`): position `q·(n−1)`.
  public static func quantile(_ values: [Float], _ q: Double) -> Float? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let position = min(max(q, 0), 1) * Double(sorted.count - 1)
    let lo = Int(position.rounded(.down))
    let hi = min(lo + 1, sorted.count - 1)
    let t = Float(position - Double(lo))
    return sorted[lo] + (sorted[hi] - sorted[lo]) * t
  }
}
