/// Fuses the zero-shot score with the adapted (predictive) score, each put
/// on the scale of the observations the detector kept.
///
/// ```
/// z_R(s)        = (s − median(R)) / MAD(R)          MAD(R) = median |r − median(R)|
/// S_fused(x)    = z_{R_zs}(S_zs(x)) + z_{R_pred}(S_pred(x))
/// R_zs, R_pred  = the zero-shot and predictive scores of the kept observations
/// ```
///
/// Neither score's units matter: each becomes "how many typical deviations
/// above a typical normal observation", measured on the (mostly normal)
/// stream itself, and the two are summed, as a product of two experts. With
/// fewer than `minimumKept` kept observations the references are too thin
/// and `S_fused = S_zs`, so the rule starts exactly at zero-shot.
///
/// Why: when the zero-shot prototypes are strong but are not points of the
/// feature space (EfficientNet classifier rows as image prototypes), the
/// predictive prototypes move towards the centre of the data and lose some
/// of the rows' discrimination; on one-class CIFAR-10 adaptation alone ends
/// 1.3 points *below* zero-shot, the fusion 1.3 points above it
/// (`Notebooks-export/coldstart-cifar10.md`). When the descriptions are weak
/// (sentence embeddings of one query per intent) the zero-shot expert
/// drags the fusion down, and leave-one-domain-out over nine intent domains
/// does not pick it for text (`Notebooks-export/coldstart-domains.md`).
public struct ScoreFusion: Sendable {
  /// Fewest kept observations before the fusion replaces zero-shot.
  public static let minimumKept = 20

  let zeroShot: (median: Float, spread: Float)
  let adapted: (median: Float, spread: Float)

  /// Fits the standardisation on reference scores: the kept observations'
  /// zero-shot scores (`R_zs`) and predictive scores (`R_pred`).
  ///
  /// - Returns: nil with fewer than `minimumKept` reference scores.
  public init?(zeroShotReference: [Float], adaptedReference: [Float]) {
    guard zeroShotReference.count >= Self.minimumKept, adaptedReference.count >= Self.minimumKept else { return nil }
    zeroShot = Self.location(zeroShotReference)
    adapted = Self.location(adaptedReference)
  }

  /// `S_fused` from the two scores of one input.
  public func score(zeroShot s0: Float, adapted s1: Float) -> Float {
    (s0 - zeroShot.median) / zeroShot.spread + (s1 - adapted.median) / adapted.spread
  }

  /// Median and MAD (floored at a tiny fraction of the scale, so a
  /// degenerate reference cannot divide by zero).
  static func location(_ values: [Float]) -> (median: Float, spread: Float) {
    let median = Metrics.quantile(values, 0.5) ?? 0
    let mad = Metrics.quantile(values.map { abs($0 - median) }, 0.5) ?? 0
    return (median, max(mad, 1e-6 * max(abs(median), 1e-12)))
  }
}
