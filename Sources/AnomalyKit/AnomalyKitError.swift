/// An error of the front API (`ImageAnomalyDetector`, `ColdStartTextDetector`,
/// `BankConfiguration`, `BundledWeights`).
///
/// Each case carries the whole message the command-line tool prints: the
/// file (when there is one), what is wrong, and what was expected.
/// Errors of the layers below (`ImageError`, `DensityError`,
/// `SafeTensorsError`, …) pass through unchanged and describe themselves
/// the same way.
public enum AnomalyKitError: Error, CustomStringConvertible, Sendable, Equatable {
  /// A configuration value is out of range or two values contradict each
  /// other.
  case invalidConfiguration(String)
  /// An input (file, folder, text) cannot be used.
  case invalidInput(String)
  /// A bank or detector does not match the backbone, weights or data it is
  /// used with.
  case mismatch(String)
  /// A fit would need more memory or scratch disk than allowed.
  case overBudget(String)
  /// A bundled file (weights, demo images) cannot be found.
  case notFound(String)

  /// The message, as the command-line tool prints it after `error: `.
  public var description: String {
    switch self {
    case .invalidConfiguration(let m), .invalidInput(let m), .mismatch(let m), .overBudget(let m), .notFound(let m): return m
    }
  }
}
