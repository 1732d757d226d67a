/// NumPy `.npy` files (format version 1.0) holding 2-D float matrices.
///
/// Layout: the magic `\x93NUMPY`, version bytes `1 0`, a little-endian UInt16
/// header length, an ASCII Python-dict header
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }` padded with
/// spaces and a newline so that the data starts on a 64-byte boundary, then the
/// raw C-order data.
public enum NPYFile {
  /// Writes an N×D float32 matrix atomically.
  public static func write(rows: Int, columns: Int, values: [Float], to path: String) throws {
    precondition(values.count == rows * columns, "values.count must equal rows × columns")
    try write(descr: "<f4", rows: rows, columns: columns, to: path) { w in try values.withUnsafeBytes { try w.write($0) } }
  }

  /// Writes an N×D little-endian int64 matrix atomically (row ids, for
  /// example; numpy reads it as `int64`).
  public static func write(rows: Int, columns: Int, int64 values: [Int64], to path: String) throws {
    precondition(values.count == rows * columns, "values.count must equal rows × columns")
    try write(descr: "<i8", rows: rows, columns: columns, to: path) { w in
      try values.map(\.littleEndian).withUnsafeBytes { try w.write($0) }
    }
  }

  private static func write(
    descr: String, rows: Int, columns: Int, to path: String, data: (inout AtomicFile.Writer) throws -> Void
  ) throws {
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let n = UInt16(header.utf8.count)
    bytes += [UInt8(n & 0xFF), UInt8(n >> 8)]
    bytes += Array(header.utf8)
    try AtomicFile.write(to: path) { w in
      try w.write(bytes)
      try data(&w)
    }
  }

  /// Reads a 1-D or 2-D `.npy` of little-endian int64 in C order, as
  /// (rows, columns, values) like `read(path:)`.
  public static func readInt64(path: String) throws -> (rows: Int, columns: Int, values: [Int64]) {
    let file = try MappedFile(path: path)
    return try file.withBytes { raw in
      let layout = try parse(raw, path: path, dtypes: ["<i8": 8])
      let values = (0..<(layout.rows * layout.columns)).map {
        Int64(bitPattern: raw.loadUnaligned(fromByteOffset: layout.dataStart + 8 * $0, as: UInt64.self).littleEndian)
      }
      return (layout.rows, layout.columns, values)
    }
  }

  /// Reads a 1-D or 2-D `.npy` of little-endian float32 or float64 in C order.
  ///
  /// - Returns: the shape as (rows, columns) — a 1-D array of length n is
  ///   read as 1×n — and the values as `Float`.
  public static func read(path: String) throws -> (rows: Int, columns: Int, values: [Float]) {
    let file = try MappedFile(path: path)
    return try file.withBytes { try read(bytes: $0, path: path) }
  }

  /// `read(path:)` on the bytes of a `.npy` file held in memory; `path` is
  /// only used in messages.
  public static func read(bytes raw: UnsafeRawBufferPointer, path: String) throws -> (rows: Int, columns: Int, values: [Float]) {
    let layout = try parse(raw, path: path, dtypes: ["<f4": 4, "<f8": 8])
    let values: [Float] = (0..<(layout.rows * layout.columns)).map { i in
      if layout.elementSize == 4 {
        return Float(bitPattern: raw.loadUnaligned(fromByteOffset: layout.dataStart + 4 * i, as: UInt32.self).littleEndian)
      }
      return Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: layout.dataStart + 8 * i, as: UInt64.self).littleEndian))
    }
    return (layout.rows, layout.columns, values)
  }

  /// The header of a `.npy`: shape, element size (of one of `dtypes`, a
  /// descr such as `<f4` and its size) and where the data starts; checks
  /// that the data fills the rest of the file exactly.
  private static func parse(
    _ raw: UnsafeRawBufferPointer, path: String, dtypes: [String: Int]
  ) throws -> (rows: Int, columns: Int, elementSize: Int, dataStart: Int) {
    func fail(_ reason: String) -> TensorFileError { .invalidNPY(path: path, reason: reason) }
    guard raw.count >= 10, raw[0] == 0x93, Array(raw[1..<6]) == Array("NUMPY".utf8) else {
      throw fail("missing the \\x93NUMPY magic")
    }
    let major = raw[6]
    let headerLength: Int
    let headerStart: Int
    switch major {
    case 1:
      headerLength = Int(raw[8]) | Int(raw[9]) << 8
      headerStart = 10
    case 2, 3:
      guard raw.count >= 12 else { throw fail("truncated header length") }
      headerLength = Int(raw[8]) | Int(raw[9]) << 8 | Int(raw[10]) << 16 | Int(raw[11]) << 24
      headerStart = 12
    default:
      throw fail("unsupported format version \(major) (expected 1, 2 or 3)")
    }
    guard headerLength <= 65_536, headerStart + headerLength <= raw.count else {
      throw fail("header length \(headerLength) runs past the end of the file")
    }
    guard let header = String(validating: raw[headerStart..<(headerStart + headerLength)], as: UTF8.self) else {
      throw fail("header is not text")
    }
    let compact = header.filter { !$0.isWhitespace }
    guard compact.hasPrefix("{"), compact.hasSuffix("}") else {
      throw fail("header is not a Python dict literal (expected {'descr': ..., 'fortran_order': ..., 'shape': (...)})")
    }
    guard let elementSize = dtypes.keys.sorted().first(where: { contains(compact, "'descr':'\($0)'") }).flatMap({ dtypes[$0] }) else {
      throw fail("dtype must be " + dtypes.keys.sorted().map { "'\($0)'" }.joined(separator: " or ") + " (little-endian)")
    }
    guard contains(compact, "'fortran_order':False") else { throw fail("only C order is supported") }
    let key = Array("'shape':(")
    let chars = Array(compact)
    guard let open = (0...max(0, chars.count - key.count)).first(where: { chars[$0...].starts(with: key) }),
      let close = chars[(open + key.count)...].firstIndex(of: ")")
    else { throw fail("no shape in header") }
    let dims = chars[(open + key.count)..<close].split(separator: ",").map { Int(String($0)) }
    guard !dims.isEmpty, dims.count <= 2, dims.allSatisfy({ $0 != nil && $0! >= 0 }) else {
      throw fail("shape must be 1-D or 2-D with non-negative sizes")
    }
    let shape = dims.compactMap { $0 }
    let rows = shape.count == 2 ? shape[0] : 1
    let columns = shape.count == 2 ? shape[1] : shape[0]
    let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
    let dataStart = headerStart + headerLength
    guard !overflow, count <= (raw.count - dataStart) / elementSize, (raw.count - dataStart) == count * elementSize else {
      throw fail("shape (\(rows), \(columns)) needs \(overflow ? Int.max : count * elementSize) data bytes, file has \(raw.count - dataStart)")
    }
    return (rows, columns, elementSize, dataStart)
  }

  private static func contains(_ text: String, _ needle: String) -> Bool {
    let t = Array(text.utf8)
    let n = Array(needle.utf8)
    guard t.count >= n.count else { return false }
    return (0...(t.count - n.count)).contains { t[$0...].starts(with: n) }
  }
}
