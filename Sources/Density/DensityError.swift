/// Errors from fitting, loading or scoring a density model.
public enum DensityError: Error, CustomStringConvertible, Equatable, Sendable {
  case emptyBank(reason: String)
  case kTooLarge(k: Int, bankSize: Int)
  case dimensionMismatch(source: String, expected: Int, actual: Int)
  case nonFinite(source: String, row: Int, column: Int)
  case incompatibleBank(path: String, key: String, bank: String, current: String)
  case invalidBank(path: String, reason: String)
  case invalidDetector(path: String, reason: String)
  case numerical(reason: String)
  case invalidArgument(String)
  /// A threshold cannot be calibrated as asked; `reason` says why and what to change.
  case cannotCalibrate(reason: String)

  public var description: String {
    switch self {
    case .emptyBank(let reason): return "empty reference bank: \(reason)"
    case .kTooLarge(let k, let n): return "k = \(k) is larger than the bank (\(n) features); use --k \(max(1, n)) or fewer"
    case .dimensionMismatch(let source, let expected, let actual):
      return "\(source): features have dimension \(actual), the bank expects \(expected)"
    case .nonFinite(let source, let row, let column):
      return "\(source): non-finite feature (NaN or Inf) in row \(row), column \(column)"
    case .incompatibleBank(let path, let key, let bank, let current):
      return "\(path): bank was made with \(key) '\(bank)', but this run uses '\(current)'; refit the bank (anomalykit fit) or pass the matching --weights"
    case .invalidBank(let path, let reason): return "\(path): invalid bank: \(reason)"
    case .invalidDetector(let path, let reason): return "\(path): invalid detector: \(reason)"
    case .numerical(let reason): return "numerical failure: \(reason)"
    case .invalidArgument(let message): return message
    case .cannotCalibrate(let reason): return "cannot calibrate a threshold: \(reason)"
    }
  }
}
