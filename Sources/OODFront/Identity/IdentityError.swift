/// Why an identity fact-check could not run. Every file-related case names
/// the file.
public enum IdentityError: Error, CustomStringConvertible, Equatable, Sendable {
  /// No face was found where one was required.
  case noFace(path: String)
  /// A file is not a valid identity bank (wrong format, shapes, or version).
  case invalidBank(path: String, reason: String)
  /// The bank's descriptors came from other weights than those loaded now.
  case incompatibleBank(path: String, reason: String)
  /// An image given as a pre-aligned chip (`--chips`) is not the chip size
  /// the embedder needs.
  case wrongChipSize(path: String, width: Int, height: Int, expected: Int)
  /// Detecting, landmarking or embedding the face in a file failed (the
  /// face networks' in-memory errors, here with the file they came from).
  case faceProcessing(path: String, reason: String)
  /// An argument is out of range or malformed; the message says which.
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .noFace(let p):
      return "\(p): no face found (the detector found no face at its default threshold; give a pre-cropped 150×150 aligned chip with --chips, or a larger image)"
    case .invalidBank(let p, let reason): return "\(p): not a valid identity bank: \(reason)"
    case .incompatibleBank(let p, let reason): return "\(p): identity bank does not match the loaded weights: \(reason)"
    case .wrongChipSize(let p, let w, let h, let expected):
      return "\(p): is \(w)×\(h), but --chips needs aligned \(expected)×\(expected) face chips (drop --chips to detect and align the face in a photo)"
    case .faceProcessing(let p, let reason): return "\(p): \(reason)"
    case .invalidArgument(let message): return message
    }
  }
}
