/// Where one tensor lives inside a safetensors file.
public struct TensorInfo: Sendable, Equatable {
  /// The tensor's name in the header.
  public let name: String
  /// The element type.
  public let dtype: TensorDType
  /// Dimensions, outermost first (empty for a scalar).
  public let shape: [Int]
  /// Byte range relative to the start of the data section.
  public let dataOffsets: Range<Int>

  /// Number of elements (the product of the shape; 1 for a scalar).
  public var elementCount: Int { shape.reduce(1, *) }
}

/// A validated, memory-mapped safetensors file.
///
/// Layout: an 8-byte little-endian header length `n`, then `n` bytes of JSON
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`,
/// then the data section. Offsets are relative to byte `8 + n`.
///
/// Everything is checked in `init`, before any tensor is touched:
/// - the header length lies within the file (and under `maxHeaderBytes`) and
///   the JSON parses, with string-to-string `__metadata__`;
/// - every dtype is known and every shape is a list of non-negative integers;
/// - every byte length equals product(shape) × dtype size, with no overflow;
/// - offsets lie inside the data section and no two tensors overlap.
///
/// A file that passes can be read without further bounds checks; one that
/// fails throws a `TensorFileError` naming the file and the tensor.
public final class SafeTensorsFile: Sendable {
  /// Default cap on the JSON header, as in the reference `safetensors` crate.
  public static let defaultMaxHeaderBytes = ReadLimits.defaultMaxHeaderBytes

  /// The file's path (or the name of an in-memory copy), used in messages.
  public let path: String
  /// Every tensor's entry, by name (`__metadata__` excluded).
  public let tensors: [String: TensorInfo]
  /// The `__metadata__` string pairs (empty when the header has none).
  public let metadata: [String: String]
  /// Tensor names in data order.
  public let names: [String]
  private let file: MappedFile
  private let dataStart: Int

  /// Maps the file at `path` read-only and validates it.
  ///
  /// - Parameters:
  ///   - path: the safetensors file.
  ///   - maxHeaderBytes: defaults to `ReadLimits.current` (the
  ///     command line's `--max-header-bytes`).
  /// - Throws: `TensorFileError` naming the file (and the tensor, if one is
  ///   at fault) when it cannot be opened or fails a check.
  public convenience init(path: String, maxHeaderBytes: Int = ReadLimits.current.maxHeaderBytes) throws {
    try self.init(mapped: MappedFile(path: path), maxHeaderBytes: maxHeaderBytes)
  }

  /// Validates a file already mapped, or bytes held in memory
  /// (`MappedFile(copying:path:)`); messages name `file.path`. The header
  /// limit defaults as in `init(path:maxHeaderBytes:)`.
  ///
  /// - Throws: `TensorFileError` when the bytes fail a check.
  public init(mapped file: MappedFile, maxHeaderBytes: Int = ReadLimits.current.maxHeaderBytes) throws {
    let path = file.path
    self.path = path
    self.file = file
    let size = file.count
    guard size >= 10 else { throw TensorFileError.tooShort(path: path, size: size) }
    let headerLength: UInt64 = file.withBytes { bytes in
      (0..<8).reduce(UInt64(0)) { $0 | (UInt64(bytes[$1]) << (8 * UInt64($1))) }
    }
    if headerLength > UInt64(maxHeaderBytes) {
      throw TensorFileError.headerTooLarge(path: path, length: headerLength, limit: maxHeaderBytes)
    }
    if headerLength > UInt64(size - 8) {
      throw TensorFileError.headerPastEndOfFile(path: path, length: headerLength, fileSize: size - 8)
    }
    let n = Int(headerLength)
    dataStart = 8 + n
    let dataSize = size - dataStart
    let header: JSONValue
    do {
      header = try file.withBytes { try JSONValue.parse($0[8..<(8 + n)], maxDepth: 4) }
    } catch let error as JSONParseError {
      throw TensorFileError.invalidHeader(path: path, reason: "JSON: \(error)")
    }
    guard case .object(let members) = header else {
      throw TensorFileError.invalidHeader(path: path, reason: "expected a JSON object")
    }
    var tensors: [String: TensorInfo] = [:]
    var metadata: [String: String] = [:]
    for (name, value) in members {
      if name == "__metadata__" {
        guard case .object(let pairs) = value else {
          throw TensorFileError.invalidHeader(path: path, reason: "__metadata__ must be an object of strings")
        }
        for (key, v) in pairs {
          guard let s = v.stringValue else {
            throw TensorFileError.invalidHeader(path: path, reason: "__metadata__ value for '\(key)' is not a string")
          }
          metadata[key] = s
        }
        continue
      }
      tensors[name] = try Self.parseEntry(name: name, value: value, path: path, dataSize: dataSize)
    }
    // No two tensors may share bytes. Zero-length tensors overlap nothing.
    let ordered = tensors.values.sorted {
      ($0.dataOffsets.lowerBound, $0.name) < ($1.dataOffsets.lowerBound, $1.name)
    }
    var previous: TensorInfo?
    for info in ordered where !info.dataOffsets.isEmpty {
      if let p = previous, info.dataOffsets.lowerBound < p.dataOffsets.upperBound {
        throw TensorFileError.overlappingTensors(path: path, first: p.name, second: info.name)
      }
      previous = info
    }
    self.tensors = tensors
    self.metadata = metadata
    self.names = ordered.map(\.name)
  }

  private static func parseEntry(name: String, value: JSONValue, path: String, dataSize: Int) throws -> TensorInfo {
    guard case .object = value else {
      throw TensorFileError.invalidEntry(path: path, tensor: name, reason: "entry is not an object")
    }
    guard let dtypeName = value["dtype"]?.stringValue else {
      throw TensorFileError.invalidEntry(path: path, tensor: name, reason: "missing string 'dtype'")
    }
    guard let dtype = TensorDType(rawValue: dtypeName) else {
      throw TensorFileError.unknownDType(path: path, tensor: name, dtype: dtypeName)
    }
    guard case .array(let dims) = value["shape"] else {
      throw TensorFileError.invalidEntry(path: path, tensor: name, reason: "missing array 'shape'")
    }
    var shape: [Int] = []
    var elements = 1
    var overflow = false
    for d in dims {
      guard let n = d.nonNegativeInteger else {
        throw TensorFileError.invalidEntry(path: path, tensor: name, reason: "shape holds a value that is not a non-negative integer")
      }
      shape.append(n)
      (elements, overflow) = elements.multipliedReportingOverflow(by: n)
      if overflow {
        throw TensorFileError.invalidEntry(path: path, tensor: name, reason: "shape \(shape) overflows")
      }
    }
    guard case .array(let offsets) = value["data_offsets"], offsets.count == 2,
      let begin = offsets[0].nonNegativeInteger, let end = offsets[1].nonNegativeInteger
    else {
      throw TensorFileError.invalidEntry(path: path, tensor: name, reason: "data_offsets must be [begin, end] non-negative integers")
    }
    guard begin <= end, end <= dataSize else {
      throw TensorFileError.offsetsOutOfRange(path: path, tensor: name, begin: begin, end: end, dataSize: dataSize)
    }
    let (expected, o) = elements.multipliedReportingOverflow(by: dtype.size)
    if o || expected != end - begin {
      throw TensorFileError.byteLengthMismatch(
        path: path, tensor: name, shape: shape, dtype: dtype.rawValue, expected: o ? Int.max : expected,
        actual: end - begin)
    }
    return TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
  }

  /// The entry for `name`, or a `missingTensor` error naming the file.
  ///
  /// - Parameters:
  ///   - name: the tensor's name.
  ///   - expected: if given, the tensor must have exactly this shape
  ///     (otherwise `unexpectedShape`).
  public func info(_ name: String, shape expected: [Int]? = nil) throws -> TensorInfo {
    guard let info = tensors[name] else { throw TensorFileError.missingTensor(path: path, tensor: name) }
    if let expected, expected != info.shape {
      throw TensorFileError.unexpectedShape(path: path, tensor: name, expected: expected, actual: info.shape)
    }
    return info
  }

  /// Calls `body` with the raw little-endian bytes of tensor `name`.
  public func withRawBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
    let info = try info(name)
    return try file.withBytes { all in
      try body(UnsafeRawBufferPointer(rebasing: all[(dataStart + info.dataOffsets.lowerBound)..<(dataStart + info.dataOffsets.upperBound)]))
    }
  }

  /// Calls `body` with tensor `name` viewed in place as `Float`s (F32 only,
  /// no copy when aligned). Use `floats(_:)` for other floating dtypes.
  public func withFloats<R>(_ name: String, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
    let info = try info(name)
    guard info.dtype == .f32 else {
      throw TensorFileError.unexpectedDType(path: path, tensor: name, expected: "F32", actual: info.dtype.rawValue)
    }
    return try withFloats(info, body)
  }

  /// Calls `body` with an F32 tensor whose `TensorInfo` came from this file
  /// (so it is known to exist and to be in bounds); no copy when aligned.
  public func withFloats<R>(_ info: TensorInfo, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    precondition(info.dtype == .f32 && tensors[info.name] == info, "tensor info must come from this file and be F32")
    return try withElements(info, as: Float.self, body)
  }

  /// Calls `body` with a BF16 tensor whose `TensorInfo` came from this file,
  /// viewed in place as raw bfloat16 bit patterns (no copy when aligned).
  public func withBF16<R>(_ info: TensorInfo, _ body: (UnsafeBufferPointer<UInt16>) throws -> R) rethrows -> R {
    precondition(info.dtype == .bf16 && tensors[info.name] == info, "tensor info must come from this file and be BF16")
    return try withElements(info, as: UInt16.self, body)
  }

  /// The tensor's bytes viewed in place as `T` when they are aligned for
  /// it, or a copy when not. `T` must be the size of the tensor's dtype.
  private func withElements<T, R>(_ info: TensorInfo, as type: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
    try file.withBytes { all in
      let raw = UnsafeRawBufferPointer(rebasing: all[(dataStart + info.dataOffsets.lowerBound)..<(dataStart + info.dataOffsets.upperBound)])
      if Int(bitPattern: raw.baseAddress) % MemoryLayout<T>.alignment == 0 {
        return try body(raw.bindMemory(to: T.self))
      }
      let copy = [T](unsafeUninitializedCapacity: info.elementCount) { buffer, count in
        UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
        count = info.elementCount
      }
      return try copy.withUnsafeBufferPointer(body)
    }
  }

  /// Tensor `name` as `Float`s, widening F16/BF16 and rounding F64.
  ///
  /// - Parameters:
  ///   - name: the tensor's name.
  ///   - expected: if given, the tensor must have exactly this shape.
  /// - Throws: `TensorFileError` for a missing tensor, another shape, or an
  ///   integer dtype.
  public func floats(_ name: String, shape expected: [Int]? = nil) throws -> [Float] {
    let info = try info(name, shape: expected)
    let n = info.elementCount
    return try withRawBytes(name) { raw in
      switch info.dtype {
      case .f32:
        return (0..<n).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian) }
      case .f16:
        return (0..<n).map { Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self).littleEndian)) }
      case .bf16:
        return (0..<n).map {
          Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self).littleEndian) << 16)
        }
      case .f64:
        return (0..<n).map { Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian)) }
      case .i64, .i32, .u8:
        throw TensorFileError.unexpectedDType(path: path, tensor: name, expected: "a floating dtype", actual: info.dtype.rawValue)
      }
    }
  }

  /// Tensor `name` as `Double`s (F64 exactly; other floating dtypes widened).
  public func doubles(_ name: String, shape expected: [Int]? = nil) throws -> [Double] {
    let info = try info(name, shape: expected)
    if info.dtype == .f64 {
      return try withRawBytes(name) { raw in
        (0..<info.elementCount).map { Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian) }
      }
    }
    return try floats(name).map(Double.init)
  }

  /// Tensor `name` as `Int64`s (I64, I32 or U8).
  public func integers(_ name: String) throws -> [Int64] {
    let info = try info(name)
    let n = info.elementCount
    return try withRawBytes(name) { raw in
      switch info.dtype {
      case .i64: return (0..<n).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
      case .i32: return (0..<n).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
      case .u8: return (0..<n).map { Int64(raw[$0]) }
      default:
        throw TensorFileError.unexpectedDType(path: path, tensor: name, expected: "an integer dtype", actual: info.dtype.rawValue)
      }
    }
  }

  /// Metadata value for `key`, or a `missingMetadata` error naming the file.
  public func requireMetadata(_ key: String) throws -> String {
    guard let value = metadata[key] else { throw TensorFileError.missingMetadata(path: path, key: key) }
    return value
  }

  /// The SHA-256 of the whole file, as lowercase hex.
  public func sha256() -> String {
    file.withBytes { SHA256.hex(of: $0) }
  }
}
