import Foundation

/// How one figure varies over datasets: the mean, a 95% confidence interval
/// for it, and the worst dataset. Every mean this toolkit reports over
/// datasets comes with this spread, so that a good average cannot hide one
/// domain where a default fails.
///
/// ```
/// mean  = (1/n) Σ v_i
/// s     = √( Σ (v_i − mean)² / (n − 1) )
/// CI95  = mean ± t_{0.975, n−1} · s / √n
/// ```
///
/// the Student-t interval over datasets, treating the n datasets as draws
/// from the domains a user might bring (with 9 domains, t = 2.306). It says
/// how far the mean could move on other domains, not how noisy each
/// domain's own figure is. `worst` is the dataset with the smallest value
/// (higher is better, as for AUROC).
public struct SpreadAcrossDatasets: Sendable, Equatable {
  /// The mean over datasets.
  public var mean: Double
  /// Half-width of the 95% interval (nan for a single dataset).
  public var halfWidth: Double
  /// The smallest value.
  public var worst: Double
  /// The dataset with the smallest value.
  public var worstDataset: String

  /// The spread of one figure over datasets; nil for no datasets.
  ///
  /// - Parameter values: one `(dataset, value)` per dataset, at least one.
  public init?(_ values: [(dataset: String, value: Double)]) {
    guard let lowest = values.min(by: { $0.value < $1.value }) else { return nil }
    let n = Double(values.count)
    let mean = values.reduce(0) { $0 + $1.value } / n
    self.mean = mean
    if values.count > 1 {
      let variance = values.reduce(0) { $0 + ($1.value - mean) * ($1.value - mean) } / (n - 1)
      halfWidth = Self.studentT975(degreesOfFreedom: values.count - 1) * (variance / n).squareRoot()
    } else {
      halfWidth = .nan
    }
    worst = lowest.value
    worstDataset = lowest.dataset
  }

  /// The 97.5% quantile of Student's t with `df` degrees of freedom
  /// (tabulated to 30; the normal 1.960 beyond, off by under 2%).
  public static func studentT975(degreesOfFreedom df: Int) -> Double {
    let table: [Double] = [
      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
      2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ]
    guard df >= 1 else { return .nan }
    return df <= table.count ? table[df - 1] : 1.960
  }
}
