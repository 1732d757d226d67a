import Foundation

/// Each cue's location and spread over real images only, and the fusion of
/// the cues' tail probabilities into one score.
///
/// For cue `c` over the bank's reals `v₁ … v_N`: `m_c = median(v)` and
/// `s_c = 1.4826 · median |v − m_c| + 10⁻⁹` (the MAD, scaled to σ for a
/// Gaussian; robust to the odd real outlier). A new image's cue value `v`
/// gives `z = (v − m_c) / s_c` and the tail probability `p_c` of its
/// `CueTail`. The cues are fused by **Fisher's method**,
///
///     T = −2 Σ_c log p_c,
///
/// which is χ² with 2C degrees of freedom if the cues were independent and
/// Gaussian on reals. They are neither exactly, so the verdict threshold is
/// set empirically on reals (`DeepfakeDetector.fit`), not from χ².
public struct RealOnlyCalibration: Sendable, Equatable {
  /// The cue readings, one per value column.
  public var readings: [CueReading]
  /// Per reading: the reals' median `m_c`.
  public var medians: [Double]
  /// Per reading: the scaled MAD `s_c = 1.4826 · median |v − m_c| + 10⁻⁹`.
  public var scales: [Double]

  /// A calibration from stored medians and scales, one per reading.
  public init(readings: [CueReading], medians: [Double], scales: [Double]) {
    self.readings = readings
    self.medians = medians
    self.scales = scales
  }

  /// Calibrates on the reals' cue values (`values[i][j]` = image i, reading j).
  public init(readings: [CueReading], reals values: [[Double]]) {
    self.readings = readings
    medians = []
    scales = []
    for j in readings.indices {
      let column = values.map { $0[j] }
      let m = Self.median(column)
      medians.append(m)
      scales.append(1.4826 * Self.median(column.map { abs($0 - m) }) + 1e-9)
    }
  }

  /// Per reading: `z` and the evidence `−2 log p`; and their sum `T`.
  public func evidence(_ values: [Double]) -> (z: [Double], evidence: [Double], fused: Double) {
    var zs: [Double] = [], ev: [Double] = []
    for (j, r) in readings.enumerated() {
      let z = (values[j] - medians[j]) / scales[j]
      let logp: Double
      switch r.tail {
      case .upper: logp = Self.logSurvival(z)
      case .lower: logp = Self.logSurvival(-z)
      case .two: logp = Foundation.log(2.0) + Self.logSurvival(abs(z))
      }
      zs.append(z)
      ev.append(-2 * logp)
    }
    return (zs, ev, ev.reduce(0, +))
  }

  /// `log(1 − Φ(z))`, accurate in the far upper tail: `erfc` up to
  /// z = 37 (it underflows near 38), then the asymptotic (Mills-ratio)
  /// series `−z²/2 − log(z √(2π)) + log(1 − 1/z² + 3/z⁴ − 15/z⁶)`.
  public static func logSurvival(_ z: Double) -> Double {
    if z < 37 { return Foundation.log(0.5 * erfc(z / 2.0.squareRoot())) }
    let r = 1 / (z * z)
    return -z * z / 2 - Foundation.log(z * (2 * Double.pi).squareRoot()) + Foundation.log1p(-r + 3 * r * r - 15 * r * r * r)
  }

  static func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    guard !s.isEmpty else { return 0 }
    let m = s.count / 2
    return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
  }
}
