/// Why a deepfake detector could not be fitted, read or applied. Every case
/// names the file.
public enum DeepfakeError: Error, CustomStringConvertible, Equatable, Sendable {
  /// An image is `width × height` pixels, below the cues' minimum side
  /// (`ForensicCrop.minSide`).
  case imageTooSmall(path: String, width: Int, height: Int, minSide: Int)
  /// A file is not a valid deepfake detector (unreadable, another format,
  /// or bad metadata or tensors).
  case invalidDetector(path: String, reason: String)
  /// A file was made by another recipe (`found`), or is a reference bank,
  /// where `expected` is needed.
  case wrongRecipe(path: String, found: String, expected: String)
  /// A fit got `count` real images, fewer than the `needed` minimum
  /// (`DeepfakeDetector.minimumReals`).
  case notEnoughReals(count: Int, needed: Int)
  /// An argument is out of range or malformed; the message says which.
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .imageTooSmall(let path, let w, let h, let m):
      return "\(path): image is \(w)×\(h); the deepfake cues need at least \(m)×\(m) pixels (an 8×8 grid of 8-pixel cells)"
    case .invalidDetector(let path, let reason):
      return "\(path): not a deepfake detector: \(reason)"
    case .wrongRecipe(let path, let found, let expected):
      return "\(path): fitted with recipe '\(found)', but `deepfake score` needs recipe '\(expected)'; refit it with `anomalykit deepfake fit`"
    case .notEnoughReals(let count, let needed):
      return "a real-only detector needs at least \(needed) real images to estimate each cue's spread, got \(count)"
    case .invalidArgument(let message):
      return message
    }
  }
}
