import Density

/// The colour scale of anomaly heatmaps, shared by `score --heatmaps` and
/// the service: blue at the median location score (a typical normal patch),
/// red at 1.5 × the bank's threshold or, without a threshold, at the 99.5th
/// percentile of the scores shown.
public enum HeatmapScale {
  /// The colour range for `values`: from their median to `1.5 × threshold`,
  /// or to their 99.5th percentile without a threshold; the top is kept at
  /// least 1e-6 above the bottom.
  ///
  /// - Parameters:
  ///   - values: the location scores shown (one map, or several sharing a scale).
  ///   - threshold: the bank's image threshold, if calibrated.
  /// - Returns: the scores drawn blue (lower bound) and red (upper bound).
  public static func range(_ values: [Float], threshold: Float?) -> ClosedRange<Float> {
    let low = Metrics.quantile(values, 0.5) ?? 0
    let top = max(threshold.map { 1.5 * $0 } ?? (Metrics.quantile(values, 0.995) ?? 1), low + 1e-6)
    return low...top
  }
}
