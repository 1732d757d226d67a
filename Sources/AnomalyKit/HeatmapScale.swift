import Density

/// The colour scale of anomaly heatmaps, shared by `score --heatmaps` and
/// the service: blue at the median location score (a typical normal patch),
/// red at 1.5 × the bank's threshold or, without a threshold, at the 99.5th
/// percentile of the scores shown.
public enum HeatmapScale {
  public static func range(_ values: [Float], threshold: Float?) -> ClosedRange<Float> {
    let low = Metrics.quantile(values, 0.5) ?? 0
    let top = max(threshold.map { 1.5 * $0 } ?? (Metrics.quantile(values, 0.995) ?? 1), low + 1e-6)
    return low...top
  }
}
