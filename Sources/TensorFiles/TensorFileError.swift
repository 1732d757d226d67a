/// Everything that can go wrong reading or writing a tensor file.
///
/// Each case names the file and, where there is one, the tensor, and says what
/// was expected, so that the message alone is enough to act on.
public enum TensorFileError: Error, CustomStringConvertible, Equatable, Sendable {
  case cannotOpen(path: String, reason: String)
  case tooShort(path: String, size: Int)
  case headerTooLarge(path: String, length: UInt64, limit: Int)
  case headerPastEndOfFile(path: String, length: UInt64, fileSize: Int)
  case invalidHeader(path: String, reason: String)
  case invalidEntry(path: String, tensor: String, reason: String)
  case unknownDType(path: String, tensor: String, dtype: String)
  case byteLengthMismatch(path: String, tensor: String, shape: [Int], dtype: String, expected: Int, actual: Int)
  case offsetsOutOfRange(path: String, tensor: String, begin: Int, end: Int, dataSize: Int)
  case overlappingTensors(path: String, first: String, second: String)
  case missingTensor(path: String, tensor: String)
  case unexpectedShape(path: String, tensor: String, expected: [Int], actual: [Int])
  case unexpectedDType(path: String, tensor: String, expected: String, actual: String)
  case missingMetadata(path: String, key: String)
  case invalidMetadata(path: String, key: String, value: String, expected: String)
  case nonFiniteValue(path: String, tensor: String, index: Int)
  case invalidNPY(path: String, reason: String)
  case writeFailed(path: String, reason: String)

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
