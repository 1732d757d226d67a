/// The cold-start paper's summary of an AUROC-versus-stream-step curve:
///
/// ```
/// AUC@p = (1/t̃) Σ_{t=1…t̃} AUROC_t,   t̃ = max(1, round(p·T))
/// ```
///
/// the mean AUROC over the first fraction `p` of the `T` steps (the paper's
/// AUC²_t̃, normalised to [0, 1]; `round` is half to even), for p = 10%,
/// 25%, 50% and 100%, plus the AUROC after the last step.
public struct StreamCurveSummary: Sendable, Equatable {
  /// The fractions p of AUC@p: 10%, 25%, 50% and 100%.
  public static let fractions: [Double] = [0.10, 0.25, 0.50, 1.0]

  /// AUC@p for each of `fractions`, in that order.
  public var areas: [Double]
  /// The AUROC after the last step.
  public var final: Double

  /// Summarises a curve of one AUROC per stream step (every figure is nan
  /// for an empty curve).
  public init(curve: [Double]) {
    let total = curve.count
    areas = Self.fractions.map { p in
      guard total > 0 else { return .nan }
      let steps = max(1, min(total, Int((p * Double(total)).rounded(.toNearestOrEven))))
      return curve.prefix(steps).reduce(0, +) / Double(steps)
    }
    final = curve.last ?? .nan
  }

  /// JSON-friendly keys: `auc@10`, `auc@25`, `auc@50`, `auc@100`.
  public static let keys = fractions.map { "auc@\(Int(($0 * 100).rounded()))" }
}
