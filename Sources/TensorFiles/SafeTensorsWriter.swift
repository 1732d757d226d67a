/// Builds a safetensors file and writes it atomically.
///
/// Tensors are packed back to back in the order they are added (the reference
/// `safetensors` library refuses gaps); the JSON header is padded with spaces
/// so the data section starts 8-byte aligned, and a memory map of F32 tensors
/// can be read in place. Header keys are sorted, so the same tensors and
/// metadata always give the same bytes.
public struct SafeTensorsWriter: Sendable {
  private struct Entry: Sendable {
    let name: String
    let dtype: TensorDType
    let shape: [Int]
    let bytes: [UInt8]
  }

  private var entries: [Entry] = []
  /// The `__metadata__` string pairs to write (written sorted by key;
  /// omitted when empty).
  public var metadata: [String: String]

  /// A writer with no tensors yet and the given metadata.
  public init(metadata: [String: String] = [:]) {
    self.metadata = metadata
  }

  /// Adds raw little-endian bytes for a tensor.
  ///
  /// - Precondition (checked, throws): `bytes.count == product(shape) × dtype.size`.
  public mutating func add(_ name: String, dtype: TensorDType, shape: [Int], bytes: [UInt8]) throws {
    let count = shape.reduce(1, *)
    guard count * dtype.size == bytes.count else {
      throw TensorFileError.byteLengthMismatch(
        path: "(writer)", tensor: name, shape: shape, dtype: dtype.rawValue, expected: count * dtype.size,
        actual: bytes.count)
    }
    guard name != "__metadata__", !entries.contains(where: { $0.name == name }) else {
      throw TensorFileError.invalidEntry(path: "(writer)", tensor: name, reason: "duplicate or reserved tensor name")
    }
    entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: bytes))
  }

  /// Adds an F32 tensor.
  public mutating func add(_ name: String, floats: [Float], shape: [Int]) throws {
    try floats.withUnsafeBufferPointer { try add(name, floats: $0, shape: shape) }
  }

  /// Adds an F32 tensor from a buffer (a bank's mapped or heap features)
  /// without an intermediate array.
  public mutating func add(_ name: String, floats: UnsafeBufferPointer<Float>, shape: [Int]) throws {
    var bytes = [UInt8](repeating: 0, count: floats.count * 4)
    bytes.withUnsafeMutableBytes { out in
      for (i, v) in floats.enumerated() { out.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
    }
    try add(name, dtype: .f32, shape: shape, bytes: bytes)
  }

  /// Adds an F64 tensor.
  public mutating func add(_ name: String, doubles: [Double], shape: [Int]) throws {
    var bytes = [UInt8](repeating: 0, count: doubles.count * 8)
    bytes.withUnsafeMutableBytes { out in
      for (i, v) in doubles.enumerated() { out.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 8 * i, as: UInt64.self) }
    }
    try add(name, dtype: .f64, shape: shape, bytes: bytes)
  }

  /// Adds an I64 tensor.
  public mutating func add(_ name: String, integers: [Int64], shape: [Int]) throws {
    var bytes = [UInt8](repeating: 0, count: integers.count * 8)
    bytes.withUnsafeMutableBytes { out in
      for (i, v) in integers.enumerated() { out.storeBytes(of: v.littleEndian, toByteOffset: 8 * i, as: Int64.self) }
    }
    try add(name, dtype: .i64, shape: shape, bytes: bytes)
  }

  /// The complete file as bytes.
  public func serialized() -> [UInt8] {
    var out = prefix()
    for e in entries { out += e.bytes }
    return out
  }

  /// The 8-byte header length and the padded JSON header: everything
  /// before the data section.
  private func prefix() -> [UInt8] {
    var offset = 0
    var members: [(String, JSONValue)] = []
    for e in entries {
      members.append(
        (
          e.name,
          .object([
            ("dtype", .string(e.dtype.rawValue)),
            ("shape", .array(e.shape.map { .number(Double($0)) })),
            ("data_offsets", .array([.number(Double(offset)), .number(Double(offset + e.bytes.count))])),
          ])
        ))
      offset += e.bytes.count
    }
    if !metadata.isEmpty {
      members.append(("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
    }
    members.sort { $0.0 < $1.0 }
    var header = Array(JSONValue.object(members).serialized.utf8)
    while (8 + header.count) % 8 != 0 { header.append(0x20) }
    let n = UInt64(header.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + header
  }

  /// Writes the file to `path` atomically (temp file, fsync, rename),
  /// tensor by tensor, without first joining the file in memory.
  public func write(to path: String) throws {
    try AtomicFile.write(to: path) { w in
      try w.write(prefix())
      for e in entries { try w.write(e.bytes) }
    }
  }
}
