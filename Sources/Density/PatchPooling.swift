/// How per-location (patch) scores become one image score.
public enum PatchPooling: Sendable, Equatable, CustomStringConvertible {
  /// The maximum over locations (PatchCore's image score): one bad patch is
  /// enough to flag the image.
  case max
  /// The mean over all locations (LaDeDa's pooling): for defects or
  /// artefacts spread over the whole image.
  case mean
  /// The mean of the highest `q` fraction of locations, between the two.
  case topMean(Double)

  public var description: String {
    switch self {
    case .max: return "max"
    case .mean: return "mean"
    case .topMean(let q): return "top\(q)"
    }
  }

  /// Parses `max`, `mean` or `topQ` (e.g. `top0.1`).
  public init?(_ text: String) {
    switch text {
    case "max": self = .max
    case "mean": self = .mean
    default:
      guard text.hasPrefix("top"), let q = Double(text.dropFirst(3)), q > 0, q <= 1 else { return nil }
      self = .topMean(q)
    }
  }

  /// One image score from its per-location scores (0 when there are none).
  public func pool(_ scores: ArraySlice<Float>) -> Float {
    guard !scores.isEmpty else { return 0 }
    switch self {
    case .max: return scores.max() ?? 0
    case .mean: return scores.reduce(0, +) / Float(scores.count)
    case .topMean(let q):
      // ⌈n·q⌉, less a relative 1e-12 so that rounding in n·q (100 × 0.07 =
      // 7.000000000000001) does not add a location.
      let n = Swift.max(1, Int((Double(scores.count) * q * (1 - 1e-12)).rounded(.up)))
      let top = scores.sorted(by: >).prefix(n)
      return top.reduce(0, +) / Float(n)
    }
  }
}
