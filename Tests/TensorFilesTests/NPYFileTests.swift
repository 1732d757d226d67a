import Foundation
import TensorFiles
import Testing

@Suite("NPY files")
struct NPYFileTests {
  static func fixture(_ name: String) -> String { TestPaths.fixture("tensorfiles/" + name) }

  /// A version-1.0 .npy with `header` (padded to 64 bytes unless `pad` is
  /// false) followed by `data`.
  static func npy(_ header: String, data: [UInt8], pad: Bool = true, magic: [UInt8] = [0x93] + Array("NUMPY".utf8), version: UInt8 = 1) -> [UInt8] {
    var h = header
    if pad {
      let unpadded = 10 + h.utf8.count + 1
      h += String(repeating: " ", count: (64 - unpadded % 64) % 64)
    }
    h += "\n"
    let n = h.utf8.count
    return magic + [version, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(h.utf8) + data
  }

  static func floatBytes(_ values: [Float]) -> [UInt8] { littleEndianBytes(values.map(\.bitPattern)) }

  @Test("write → read round trip, and the header numpy expects")
  func roundTrip() throws {
    let dir = try TemporaryFolder()
    let path = dir.path + "/m.npy"
    let values: [Float] = (0..<15).map { Float($0) * 0.7 - 3 } + []
    try NPYFile.write(rows: 5, columns: 3, values: values, to: path)
    let read = try NPYFile.read(path: path)
    #expect(read.rows == 5 && read.columns == 3)
    #expect(read.values == values)

    let bytes = try dir.read("m.npy")
    #expect(Array(bytes[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
    let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
    #expect((10 + headerLength) % 64 == 0, "data must start 64-byte aligned")
    let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
    #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (5, 3), }"))
    #expect(header.hasSuffix("\n"))
    #expect(bytes.count == 10 + headerLength + 15 * 4)

    // Empty and single-element matrices; overwriting an existing file.
    try NPYFile.write(rows: 0, columns: 4, values: [], to: path)
    let empty = try NPYFile.read(path: path)
    #expect(empty.rows == 0 && empty.columns == 4 && empty.values.isEmpty)
    try NPYFile.write(rows: 1, columns: 1, values: [.pi], to: path)
    #expect(try NPYFile.read(path: path).values == [.pi])
    #expect(try dir.listing() == ["m.npy"])
  }

  @Test("numpy-written <f4 2-D and 1-D")
  func numpyFloat32() throws {
    let m = try NPYFile.read(path: Self.fixture("f4_2d.npy"))
    #expect(m.rows == 3 && m.columns == 4)
    #expect(m.values == (0..<12).map { Float($0) * 0.25 - 1 })
    let v = try NPYFile.read(path: Self.fixture("f4_1d.npy"))
    #expect(v.rows == 1 && v.columns == 5, "a 1-D array of n reads as 1×n")
    #expect(v.values == (0..<5).map { Float($0) * -1.5 })
    // Format version 2.0 (4-byte header length).
    let v2 = try NPYFile.read(path: Self.fixture("f4_2d_v2.npy"))
    #expect(v2.rows == 3 && v2.columns == 4 && v2.values == m.values)
  }

  @Test("numpy-written <f8 2-D and 1-D, rounded to Float")
  func numpyFloat64() throws {
    let m = try NPYFile.read(path: Self.fixture("f8_2d.npy"))
    #expect(m.rows == 2 && m.columns == 3)
    #expect(m.values == (0..<6).map { Float(Double($0) * 0.1) })
    let v = try NPYFile.read(path: Self.fixture("f8_1d.npy"))
    #expect(v.rows == 1 && v.columns == 4)
    #expect(v.values == (0..<4).map { Float(1.0 / (Double($0) + 3)) })
  }

  /// Writes `bytes` and expects `.invalidNPY` naming the file.
  static func refuse(_ bytes: [UInt8], _ label: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let dir = try TemporaryFolder()
    let path = try dir.write("bad.npy", bytes)
    let e = expectTensorFileError(path: path, sourceLocation: sourceLocation) { try NPYFile.read(path: path) }
    guard case .invalidNPY = e else {
      Issue.record("\(label): \(String(describing: e))", sourceLocation: sourceLocation)
      return
    }
  }

  static let good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }"
  static let four: [UInt8] = floatBytes([1, 2, 3, 4])

  @Test("malformed .npy files are .invalidNPY naming the path")
  func malformed() throws {
    // The control: this one is valid.
    let dir = try TemporaryFolder()
    let ok = try dir.write("ok.npy", Self.npy(Self.good, data: Self.four))
    #expect(try NPYFile.read(path: ok).values == [1, 2, 3, 4])

    try Self.refuse([], "empty")
    try Self.refuse(Array(Self.npy(Self.good, data: Self.four).prefix(9)), "shorter than the preamble")
    try Self.refuse(Self.npy(Self.good, data: Self.four, magic: [0x93] + Array("NUMPZ".utf8)), "bad magic")
    try Self.refuse(Self.npy(Self.good, data: Self.four, magic: [0x94] + Array("NUMPY".utf8)), "bad magic byte")
    try Self.refuse(Array("PK\u{3}\u{4} this is a zip".utf8), "npz / garbage")
    try Self.refuse(Self.npy(Self.good, data: Self.four, version: 4), "unsupported version")
    try Self.refuse(
      Self.npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", data: Self.four), "big-endian >f4")
    try Self.refuse(
      Self.npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", data: Self.four), "int32")
    try Self.refuse(
      Self.npy("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 4), }", data: Self.four), "float16")
    try Self.refuse(
      Self.npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data: Self.four), "fortran order")
    try Self.refuse(Self.npy("{'descr': '<f4', 'fortran_order': False, }", data: Self.four), "no shape")
    try Self.refuse(
      Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", data: Self.four), "shape needs more data")
    try Self.refuse(
      Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", data: Self.four), "data longer than shape")
    try Self.refuse(Self.npy(Self.good, data: Array(Self.four.prefix(15))), "data cut mid-element")
    try Self.refuse(
      Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }", data: Self.four), "3-D")
    try Self.refuse(
      Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", data: Array(Self.four.prefix(4))), "0-d")
    try Self.refuse(
      Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }", data: Self.four), "negative dim")
    try Self.refuse(
      Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (x, 4), }", data: Self.four), "non-numeric dim")
    try Self.refuse(
      Self.npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", data: Self.four),
      "shape product overflow")
    // Header length past the end of the file (truncated header).
    let full = Self.npy(Self.good, data: Self.four)
    try Self.refuse(Array(full.prefix(40)), "truncated header")
    var lying = full
    lying[8] = 0xFF
    lying[9] = 0xFF
    try Self.refuse(lying, "header length 65535 past EOF")
    // Header bytes that are not UTF-8.
    var binary = full
    binary[20] = 0xFF
    try Self.refuse(binary, "non-text header")
  }

  @Test("a missing file or a directory is refused naming the path")
  func notAFile() throws {
    let dir = try TemporaryFolder()
    let missing = dir.path + "/none.npy"
    let e = expectTensorFileError(path: missing) { try NPYFile.read(path: missing) }
    if case .cannotOpen = e {} else { Issue.record("\(String(describing: e))") }
    let e2 = expectTensorFileError(path: dir.path) { try NPYFile.read(path: dir.path) }
    if case .cannotOpen = e2 {} else { Issue.record("\(String(describing: e2))") }
    // Writing into a missing folder.
    let bad = dir.path + "/missing/out.npy"
    let e3 = expectTensorFileError(path: bad) { try NPYFile.write(rows: 1, columns: 1, values: [1], to: bad) }
    if case .writeFailed = e3 {} else { Issue.record("\(String(describing: e3))") }
  }
}
