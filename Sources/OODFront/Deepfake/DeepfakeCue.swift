import Foundation

/// One real-only deepfake cue: a number per image (see `ForensicStatistics`
/// and `PerturbationProbe` for the definitions).
public enum DeepfakeCue: String, Sendable, CaseIterable, Codable {
  /// `log(e₀ / e₁)`: the ratio of the two finest band energies of the
  /// crop's luma (`ForensicStatistics.band01`).
  case band01
  /// `log(e₁ / e₂)`: the ratio of the next two band energies
  /// (`ForensicStatistics.band12`).
  case band12
  /// Sensor noise relative to structure, `log(σ_n + 0.1) − log(e₁ + 0.1)`
  /// (`ForensicStatistics.noise`); generated images read low.
  case noise
  /// The period-2 trace of 2× upsampling inside and across 2 × 2 blocks
  /// (`ForensicStatistics.period2`).
  case period2
  /// First differences across 8 × 8 block borders against those elsewhere,
  /// on a log scale (`ForensicStatistics.grid8`).
  case grid8
  /// Chroma detail relative to luma detail (`ForensicStatistics.chroma`).
  case chroma
  /// `rigid_s3`: the backbone's stage-3 shift under Gaussian noise, mean over
  /// cells of `1 − cos(f₃(x), f₃(x + σ n))` (`PerturbationProbe`).
  case rigidS3 = "rigid_s3"
  /// `minder_s3`: the stage-3 shift under a binomial blur, mean over cells of
  /// `1 − cos(f₃(x), f₃(b(x)))` (`PerturbationProbe`).
  case minderS3 = "minder_s3"
  /// `rigid_pool`: the pooled feature's shift under Gaussian noise,
  /// `1 − cos(f(x), f(x + σ n))` (`PerturbationProbe`).
  case rigidPooled = "rigid_pool"
  /// `minder_pool`: the pooled feature's shift under a binomial blur,
  /// `1 − cos(f(x), f(b(x)))` (`PerturbationProbe`).
  case minderPooled = "minder_pool"
  /// The mean patch logit of Tiny-LaDeDa (the LaDeDa authors' supervised
  /// detector), on the harmonised image: available only when the user
  /// supplies its research-licensed weights. Calibrated on reals like any
  /// other cue.
  case tinyLaDeDa = "tiny_ladeda"

  /// Whether the cue needs the backbone's pooled feature (a full forward
  /// pass instead of one that stops at stage 3).
  var needsPooled: Bool { self == .rigidPooled || self == .minderPooled }
  var needsNetwork: Bool { self == .rigidS3 || self == .minderS3 || needsPooled }
}

/// Which tail of the real-only distribution counts as evidence of generation.
///
/// With `z = (v − median) / scale` over the bank's reals and `Φ` the standard
/// normal CDF, the tail probability is
///
///     upper: p = 1 − Φ(z)      (larger than reals)
///     lower: p = Φ(z)          (smaller than reals: e.g. too smooth)
///     two:   p = 2 (1 − Φ(|z|)) (either way)
public enum CueTail: String, Sendable, CaseIterable, Codable {
  /// `p = 1 − Φ(z)`: values larger than the reals' are evidence.
  case upper
  /// `p = Φ(z)`: values smaller than the reals' are evidence.
  case lower
  /// `p = 2 (1 − Φ(|z|))`: values far from the reals' either way are evidence.
  case two
}

/// A cue with the tail it is read in: written `cue:tail` (`noise:lower`).
public struct CueReading: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// The cue measured.
  public var cue: DeepfakeCue
  /// The tail of the reals' distribution that counts as evidence.
  public var tail: CueTail

  /// The reading of `cue` in `tail`.
  public init(_ cue: DeepfakeCue, _ tail: CueTail) {
    self.cue = cue
    self.tail = tail
  }

  /// Parses `cue:tail`; `nil` names nothing valid.
  public init?(parsing text: String) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 2, let c = DeepfakeCue(rawValue: parts[0]), let t = CueTail(rawValue: parts[1]) else { return nil }
    self.init(c, t)
  }

  public var description: String { cue.rawValue + ":" + tail.rawValue }

  /// Whether the reading needs the backbone.
  public var needsNetwork: Bool { cue.needsNetwork }
  /// Whether the reading needs Tiny-LaDeDa's weights.
  public var needsTinyLaDeDa: Bool { cue == .tinyLaDeDa }

  /// Parses a comma-separated list of readings, each cue at most once.
  public static func list(_ text: String) throws -> [CueReading] {
    var out: [CueReading] = []
    for item in text.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) {
      guard let r = CueReading(parsing: item) else {
        throw DeepfakeError.invalidArgument(
          "'\(item)' is not a cue reading: write cue:tail with cue one of "
            + DeepfakeCue.allCases.map(\.rawValue).joined(separator: ", ") + " and tail upper, lower or two")
      }
      guard !out.contains(where: { $0.cue == r.cue }) else { throw DeepfakeError.invalidArgument("cue '\(r.cue.rawValue)' is listed twice") }
      out.append(r)
    }
    guard !out.isEmpty else { throw DeepfakeError.invalidArgument("give at least one cue reading (cue:tail)") }
    return out
  }
}
