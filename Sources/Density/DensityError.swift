/// Errors from fitting, loading or scoring a density model.
public enum DensityError: Error, CustomStringConvertible, Equatable, Sendable {
  /// Nothing, or too little, to fit or evaluate (no normal features, fewer
  /// than a Gaussian needs, no prototypes); `reason` says what is missing.
  case emptyBank(reason: String)
  /// `k` exceeds the `bankSize` features of the bank.
  case kTooLarge(k: Int, bankSize: Int)
  /// Rows from `source` have `actual` columns where `expected` are needed.
  case dimensionMismatch(source: String, expected: Int, actual: Int)
  /// A NaN or ±Inf value in `source` at `row`, `column`.
  case nonFinite(source: String, row: Int, column: Int)
  /// The bank's metadata `key` (or its dimension) is `bank`, where this run
  /// uses `current`.
  case incompatibleBank(path: String, key: String, bank: String, current: String)
  /// A bank file is malformed, or not a bank.
  case invalidBank(path: String, reason: String)
  /// A detector file is malformed, not a detector, or inconsistent with
  /// its own observations.
  case invalidDetector(path: String, reason: String)
  /// A numerical routine failed (e.g. the Cholesky factorisation of a
  /// covariance).
  case numerical(reason: String)
  /// An argument is out of range; the message says which and why.
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
