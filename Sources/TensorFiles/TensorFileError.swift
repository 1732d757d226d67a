/// Everything that can go wrong reading or writing a tensor file.
///
/// Each case names the file and, where there is one, the tensor, and says what
/// was expected, so that the message alone is enough to act on.
public enum TensorFileError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file cannot be opened or mapped (missing, unreadable, a folder,
  /// not a regular file).
  case cannotOpen(path: String, reason: String)
  /// The file has `size` bytes, fewer than the 10 of an 8-byte header length
  /// and the smallest header (`{}`).
  case tooShort(path: String, size: Int)
  /// The header claims `length` bytes, above the reader's `limit`
  /// (`ReadLimits.maxHeaderBytes`).
  case headerTooLarge(path: String, length: UInt64, limit: Int)
  /// The header claims `length` bytes, more than the `fileSize` bytes after
  /// the 8-byte length.
  case headerPastEndOfFile(path: String, length: UInt64, fileSize: Int)
  /// The header is not valid JSON, not a JSON object, or its `__metadata__`
  /// is not an object of strings.
  case invalidHeader(path: String, reason: String)
  /// A tensor's header entry is malformed (dtype, shape or data offsets), or
  /// a writer was given a duplicate or reserved tensor name.
  case invalidEntry(path: String, tensor: String, reason: String)
  /// A tensor's dtype is none of `TensorDType`'s.
  case unknownDType(path: String, tensor: String, dtype: String)
  /// A tensor's byte length (`actual`) is not product(shape) × dtype size
  /// (`expected`).
  case byteLengthMismatch(path: String, tensor: String, shape: [Int], dtype: String, expected: Int, actual: Int)
  /// A tensor's data offsets `[begin, end]` are reversed or end past the
  /// `dataSize`-byte data section.
  case offsetsOutOfRange(path: String, tensor: String, begin: Int, end: Int, dataSize: Int)
  /// Two tensors share bytes of the data section.
  case overlappingTensors(path: String, first: String, second: String)
  /// A tensor the reader needs is absent.
  case missingTensor(path: String, tensor: String)
  /// A tensor's shape is not the one the reader needs.
  case unexpectedShape(path: String, tensor: String, expected: [Int], actual: [Int])
  /// A tensor's dtype is not one the reader accepts (`expected` describes
  /// what would be).
  case unexpectedDType(path: String, tensor: String, expected: String, actual: String)
  /// A metadata key the reader needs is absent.
  case missingMetadata(path: String, key: String)
  /// A metadata value is not one the reader accepts (`expected` describes
  /// what would be).
  case invalidMetadata(path: String, key: String, value: String, expected: String)
  /// A tensor holds NaN or ±Inf at element `index` where only finite values
  /// are allowed.
  case nonFiniteValue(path: String, tensor: String, index: Int)
  /// A `.npy` file is malformed or not a 1-D/2-D little-endian float array
  /// in C order.
  case invalidNPY(path: String, reason: String)
  /// A file cannot be written: the destination is unusable, or a write,
  /// `fsync` or rename failed.
  case writeFailed(path: String, reason: String)

  /// The file the error is about.
  public var path: String {
    switch self {
    case .cannotOpen(let p, _), .tooShort(let p, _), .headerTooLarge(let p, _, _),
      .headerPastEndOfFile(let p, _, _), .invalidHeader(let p, _), .invalidEntry(let p, _, _),
      .unknownDType(let p, _, _), .byteLengthMismatch(let p, _, _, _, _, _),
      .offsetsOutOfRange(let p, _, _, _, _), .overlappingTensors(let p, _, _),
      .missingTensor(let p, _), .unexpectedShape(let p, _, _, _), .unexpectedDType(let p, _, _, _),
      .missingMetadata(let p, _), .invalidMetadata(let p, _, _, _), .nonFiniteValue(let p, _, _),
      .invalidNPY(let p, _), .writeFailed(let p, _):
      return p
    }
  }

  public var description: String {
    switch self {
    case .cannotOpen(let p, let reason):
      return "\(p): cannot open: \(reason)"
    case .tooShort(let p, let size):
      return "\(p): not a safetensors file: \(size) bytes, expected at least 8 (header length) + 2 (\"{}\")"
    case .headerTooLarge(let p, let length, let limit):
      return "\(p): safetensors header claims \(length) bytes, above the limit of \(limit) bytes (raise it with --max-header-bytes if the file is trusted)"
    case .headerPastEndOfFile(let p, let length, let size):
      return "\(p): safetensors header claims \(length) bytes but the file has only \(size) bytes after the 8-byte length"
    case .invalidHeader(let p, let reason):
      return "\(p): invalid safetensors header: \(reason)"
    case .invalidEntry(let p, let t, let reason):
      return "\(p): tensor '\(t)': \(reason)"
    case .unknownDType(let p, let t, let d):
      return "\(p): tensor '\(t)': unknown dtype '\(d)' (expected one of \(TensorDType.allCases.map(\.rawValue).joined(separator: ", ")))"
    case .byteLengthMismatch(let p, let t, let shape, let d, let expected, let actual):
      return "\(p): tensor '\(t)': shape \(shape) of \(d) needs \(expected) bytes but data_offsets span \(actual)"
    case .offsetsOutOfRange(let p, let t, let b, let e, let size):
      return "\(p): tensor '\(t)': data_offsets [\(b), \(e)] fall outside the data section of \(size) bytes"
    case .overlappingTensors(let p, let a, let b):
      return "\(p): tensors '\(a)' and '\(b)' overlap in the data section"
    case .missingTensor(let p, let t):
      return "\(p): missing tensor '\(t)'"
    case .unexpectedShape(let p, let t, let expected, let actual):
      return "\(p): tensor '\(t)': shape \(actual), expected \(expected)"
    case .unexpectedDType(let p, let t, let expected, let actual):
      return "\(p): tensor '\(t)': dtype \(actual), expected \(expected)"
    case .missingMetadata(let p, let key):
      return "\(p): missing metadata key '\(key)'"
    case .invalidMetadata(let p, let key, let value, let expected):
      return "\(p): metadata '\(key)' is '\(value)', expected \(expected)"
    case .nonFiniteValue(let p, let t, let index):
      return "\(p): tensor '\(t)': non-finite value (NaN or Inf) at element \(index)"
    case .invalidNPY(let p, let reason):
      return "\(p): invalid .npy file: \(reason)"
    case .writeFailed(let p, let reason):
      return "\(p): cannot write: \(reason)"
    }
  }
}
