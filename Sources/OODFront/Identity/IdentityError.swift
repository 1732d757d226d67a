/// Why an identity fact-check could not run. Every file-related case names
/// the file.
public enum IdentityError: Error, CustomStringConvertible, Equatable, Sendable {
  /// No face was found where one was required.
  case noFace(path: String)
  /// A file is not a valid identity bank (wrong format, shapes, or version).
  case invalidBank(path: String, reason: String)
  /// The bank's descriptors came from other weights than those loaded now.
  case incompatibleBank(path: String, reason: String)
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .noFace(let p):
      return "\(p): no face found (the detector found no face at its default threshold; give a pre-cropped 150×150 aligned chip with --chips, or a larger image)"
    case .invalidBank(let p, let reason): return "\(p): not a valid identity bank: \(reason)"
    case .incompatibleBank(let p, let reason): return "\(p): identity bank does not match the loaded weights: \(reason)"
    case .invalidArgument(let message): return message
    }
  }
}
