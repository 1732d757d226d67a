import Foundation
import TensorFiles
import Testing

@Suite("SafeTensors writer → reader round trip")
struct SafeTensorsRoundTripTests {
  static let f16Bits: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00, 0xFC00, 0x8000]
  static let f16Values: [Float] = [1, -2, 0.5, 65504, 0x1p-24, .infinity, -.infinity, -0.0]
  static let bf16Bits: [UInt16] = [0x3F80, 0xC049, 0x7F7F, 0x0001, 0xFF80]
  static let bf16Values: [Float] = [1, -3.140625, 0x1.FEp127, 0x1p-133, -.infinity]
  static let f64Values: [Double] = [0.1, -1e-3, 123_456_789.123, 1e-50, -0.0]

  /// A writer holding one tensor of every dtype, plus an empty and a 0-d one.
  static func writer() throws -> SafeTensorsWriter {
    var w = SafeTensorsWriter(metadata: ["format": "pt", "note": "ünïcode \"quoted\"\n✓"])
    try w.add("weights", floats: [1.5, -2.25, 0, .greatestFiniteMagnitude, -.leastNonzeroMagnitude, 3], shape: [2, 3])
    try w.add("ids", integers: [0, -1, Int64.max, Int64.min], shape: [4])
    try w.add("half", dtype: .f16, shape: [2, 4], bytes: littleEndianBytes(f16Bits))
    try w.add("brain", dtype: .bf16, shape: [5], bytes: littleEndianBytes(bf16Bits))
    try w.add("double", dtype: .f64, shape: [5, 1], bytes: littleEndianBytes(f64Values.map(\.bitPattern)))
    try w.add("small", dtype: .i32, shape: [3], bytes: littleEndianBytes([Int32(-7), 0, Int32.max]))
    try w.add("bytes", dtype: .u8, shape: [2, 2], bytes: [0, 1, 254, 255])
    try w.add("empty", floats: [], shape: [0, 4])
    try w.add("scalar", floats: [42], shape: [])
    return w
  }

  @Test("every dtype reads back with its shape, values and metadata")
  func roundTrip() throws {
    let dir = try TemporaryFolder()
    let path = dir.path + "/all.safetensors"
    try Self.writer().write(to: path)
    let file = try SafeTensorsFile(path: path)

    #expect(file.path == path)
    #expect(file.metadata == ["format": "pt", "note": "ünïcode \"quoted\"\n✓"])
    // Data order; the zero-length "empty" sorts by name among tensors at the same offset.
    #expect(file.names == ["weights", "ids", "half", "brain", "double", "small", "bytes", "empty", "scalar"])
    #expect(Set(file.tensors.keys) == ["weights", "ids", "half", "brain", "double", "small", "bytes", "empty", "scalar"])

    let weights = try file.info("weights")
    #expect(weights.dtype == .f32 && weights.shape == [2, 3] && weights.elementCount == 6)
    #expect(try file.floats("weights", shape: [2, 3]) == [1.5, -2.25, 0, .greatestFiniteMagnitude, -.leastNonzeroMagnitude, 3])
    try file.withFloats("weights") { #expect(Array($0) == [1.5, -2.25, 0, .greatestFiniteMagnitude, -.leastNonzeroMagnitude, 3]) }

    #expect(try file.info("ids").dtype == .i64)
    #expect(try file.integers("ids") == [0, -1, Int64.max, Int64.min])
    #expect(try file.integers("small") == [-7, 0, Int64(Int32.max)])
    #expect(try file.integers("bytes") == [0, 1, 254, 255])

    let half = try file.floats("half", shape: [2, 4])
    #expect(half.map(\.bitPattern) == Self.f16Values.map(\.bitPattern))  // bit-exact, -0 included
    let brain = try file.floats("brain")
    #expect(brain.map(\.bitPattern) == Self.bf16Values.map(\.bitPattern))
    let double = try file.floats("double", shape: [5, 1])
    #expect(double.map(\.bitPattern) == Self.f64Values.map { Float($0).bitPattern })

    #expect(try file.info("empty").elementCount == 0)
    #expect(try file.floats("empty", shape: [0, 4]) == [])
    #expect(try file.info("scalar").shape == [])
    #expect(try file.floats("scalar", shape: []) == [42])

    try file.withRawBytes("bytes") { #expect(Array($0) == [0, 1, 254, 255]) }
    #expect(try file.requireMetadata("format") == "pt")
  }

  @Test("the header is padded so the data section starts 8-byte aligned; F32 is read in place")
  func alignment() throws {
    let bytes = try Self.writer().serialized()
    let n = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
    #expect(bytes[8 + n - 1] == 0x20 || bytes[8 + n - 1] == UInt8(ascii: "}"))
    #expect((8 + n) % 8 == 0)
    let header = try JSONValue.parse(bytes[8..<(8 + n)])
    guard case .object(let members) = header else {
      Issue.record("header is not an object")
      return
    }
    // Keys sorted, so the same content always gives the same bytes.
    #expect(members.map(\.0) == members.map(\.0).sorted())
    // Tensors are packed back to back from offset 0 with no gap, as the
    // reference implementation requires.
    let spans = members.filter { $0.0 != "__metadata__" }.compactMap { member -> (Int, Int)? in
      guard case .array(let o) = member.1["data_offsets"], o.count == 2,
        let b = o[0].nonNegativeInteger, let e = o[1].nonNegativeInteger
      else { return nil }
      return (b, e)
    }.sorted { $0 < $1 }
    #expect(spans.count == 9)
    var end = 0
    for (b, e) in spans {
      #expect(b == end)
      end = e
    }
    #expect(end == bytes.count - 8 - n)

    let dir = try TemporaryFolder()
    let path = try dir.write("aligned.safetensors", bytes)
    let file = try SafeTensorsFile(path: path)
    try file.withFloats("weights") { buffer in
      #expect(Int(bitPattern: buffer.baseAddress) % MemoryLayout<Float>.alignment == 0)
    }
  }

  @Test("serialisation is deterministic and independent of metadata insertion order")
  func deterministic() throws {
    var a = SafeTensorsWriter()
    a.metadata["x"] = "1"
    a.metadata["a"] = "2"
    try a.add("t", floats: [1, 2], shape: [2])
    var b = SafeTensorsWriter()
    b.metadata["a"] = "2"
    b.metadata["x"] = "1"
    try b.add("t", floats: [1, 2], shape: [2])
    #expect(a.serialized() == b.serialized())
    #expect(try Self.writer().serialized() == Self.writer().serialized())
  }

  @Test("the writer refuses wrong byte counts, duplicate names and '__metadata__'")
  func writerErrors() throws {
    var w = SafeTensorsWriter()
    #expect(throws: TensorFileError.self) { try w.add("a", floats: [1, 2, 3], shape: [2, 2]) }
    #expect(throws: TensorFileError.self) { try w.add("a", dtype: .f16, shape: [3], bytes: [0, 0, 0, 0]) }
    try w.add("a", floats: [1], shape: [1])
    let duplicate = expectTensorFileError(path: "(writer)", tensor: "a") { try w.add("a", floats: [1], shape: [1]) }
    if case .invalidEntry = duplicate {} else { Issue.record("\(String(describing: duplicate))") }
    let reserved = expectTensorFileError(path: "(writer)", tensor: "__metadata__") {
      try w.add("__metadata__", floats: [1], shape: [1])
    }
    if case .invalidEntry = reserved {} else { Issue.record("\(String(describing: reserved))") }
  }

  @Test("writing replaces an existing file atomically and sha256() hashes the whole file")
  func writeAndHash() throws {
    let dir = try TemporaryFolder()
    let path = dir.path + "/h.safetensors"
    try dir.write("h.safetensors", Array("old".utf8))
    let w = try Self.writer()
    try w.write(to: path)
    let onDisk = try dir.read("h.safetensors")
    #expect(onDisk == w.serialized())
    #expect(try SafeTensorsFile(path: path).sha256() == SHA256.hex(of: onDisk))
    #expect(try dir.listing() == ["h.safetensors"])
  }
}

@Suite("SafeTensors written by Python")
struct SafeTensorsPythonFixtureTests {
  static let path = TestPaths.fixture("tensorfiles/python.safetensors")

  @Test("tensors, shapes, dtypes and metadata from safetensors.torch.save_file")
  func layout() throws {
    let file = try SafeTensorsFile(path: Self.path)
    #expect(file.metadata == ["format": "anomalykit-test", "note": "ünïcode ✓", "empty": ""])
    let expected: [String: (TensorDType, [Int])] = [
      "half": (.f16, [2, 5]), "half.as_f32": (.f32, [2, 5]),
      "brain": (.bf16, [3]), "brain.as_f32": (.f32, [3]),
      "weights": (.f32, [3, 4]), "weights.as_f32": (.f32, [3, 4]),
      "indices": (.i64, [5]), "empty": (.f32, [0, 3]), "scalar": (.f32, []),
    ]
    #expect(Set(file.tensors.keys) == Set(expected.keys))
    for (name, (dtype, shape)) in expected {
      let info = try file.info(name)
      #expect(info.dtype == dtype, "\(name)")
      #expect(info.shape == shape, "\(name)")
    }
  }

  @Test("F16, BF16 and F32 widen to exactly numpy's float32 values", arguments: ["half", "brain", "weights"])
  func floatsMatchNumpy(name: String) throws {
    let file = try SafeTensorsFile(path: Self.path)
    let ours = try file.floats(name)
    let numpy = try file.floats(name + ".as_f32")
    #expect(ours.count == numpy.count)
    #expect(ours.map(\.bitPattern) == numpy.map(\.bitPattern))
  }

  @Test("known values: F16 subnormal, max, ±inf, −0; BF16 rounding; I64 extremes; 0-d and empty tensors")
  func knownValues() throws {
    let file = try SafeTensorsFile(path: Self.path)
    let half = try file.floats("half", shape: [2, 5])
    #expect(half[0] == 0 && half[0].sign == .plus)
    #expect(half[1] == 0 && half[1].sign == .minus)
    #expect(Array(half[2...4]) == [1, -2.5, 65504])
    #expect(half[5] == 0x1p-24)  // 6e-8 rounds to the smallest F16 subnormal
    #expect(half[7] == .infinity && half[8] == -.infinity)
    #expect(half[9] == Float(Float16(0.333)))
    #expect(try file.floats("brain") == [1, -3.140625, Float(bitPattern: 0x7E96_0000)])
    #expect(try file.integers("indices") == [0, -1, 1 << 40, -(1 << 62), 123_456_789])
    #expect(try file.floats("scalar", shape: []) == [2.5])
    #expect(try file.floats("empty", shape: [0, 3]).isEmpty)
    try file.withFloats("weights") { #expect($0.count == 12) }
    #expect(try file.sha256() == SHA256.hex(of: Array(Data(contentsOf: URL(fileURLWithPath: Self.path)))))
  }

  @Test("typed accessors refuse the wrong dtype or shape, naming file and tensor")
  func accessorErrors() throws {
    let file = try SafeTensorsFile(path: Self.path)
    let p = Self.path
    let e1 = expectTensorFileError(path: p, tensor: "half") { try file.withFloats("half") { $0.count } }
    #expect(e1 == .unexpectedDType(path: p, tensor: "half", expected: "F32", actual: "F16"))
    let e2 = expectTensorFileError(path: p, tensor: "weights") { try file.integers("weights") }
    if case .unexpectedDType = e2 {} else { Issue.record("\(String(describing: e2))") }
    let e3 = expectTensorFileError(path: p, tensor: "indices") { try file.floats("indices") }
    if case .unexpectedDType = e3 {} else { Issue.record("\(String(describing: e3))") }
    let e4 = expectTensorFileError(path: p, tensor: "weights") { try file.floats("weights", shape: [4, 3]) }
    #expect(e4 == .unexpectedShape(path: p, tensor: "weights", expected: [4, 3], actual: [3, 4]))
    let e5 = expectTensorFileError(path: p, tensor: "nope") { try file.floats("nope") }
    #expect(e5 == .missingTensor(path: p, tensor: "nope"))
    let e6 = expectTensorFileError(path: p) { try file.requireMetadata("absent") }
    #expect(e6 == .missingMetadata(path: p, key: "absent"))
    #expect(e6?.description.contains("'absent'") == true)
  }
}

@Suite("SafeTensors for the Python reader")
struct SafeTensorsWriterTests {
  /// Writes the file that `make_tensorfiles.py --check` verifies. Set
  /// `ANOMALYKIT_WRITER_OUTPUT` to a folder to keep a copy there (see
  /// Tests/Fixtures/tensorfiles/README.md); the test itself needs no Python.
  @Test("writer output opens with the reference layout")
  func pythonReadable() throws {
    let dir = try TemporaryFolder()
    let path = dir.path + "/swift-writer.safetensors"
    var w = SafeTensorsWriter(metadata: ["kind": "swift-writer", "unicode": "ünïcode ✓"])
    try w.add("matrix", floats: (0..<6).map { Float($0) * 0.5 - 1 }, shape: [2, 3])
    try w.add("ids", integers: [-1, 0, 1 << 40, 7], shape: [4])
    try w.add("half", dtype: .f16, shape: [3], bytes: littleEndianBytes([UInt16(0x3C00), 0xC000, 0x3800]))
    try w.write(to: path)

    // What the Python reader checks, checked here: 8-byte LE length, a JSON
    // object header of plain dtype/shape/data_offsets entries, contiguous
    // offsets covering the whole data section, string metadata.
    let bytes = try dir.read("swift-writer.safetensors")
    let n = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
    #expect(n <= bytes.count - 8)
    let header = try JSONValue.parse(bytes[8..<(8 + n)])
    #expect(
      header["matrix"]
        == .object([
          ("dtype", .string("F32")), ("shape", .array([.number(2), .number(3)])),
          ("data_offsets", .array([.number(0), .number(24)])),
        ]))
    #expect(header["half"]?["data_offsets"] == .array([.number(56), .number(62)]))
    #expect(header["__metadata__"]?["kind"] == .string("swift-writer"))
    let file = try SafeTensorsFile(path: path)
    #expect(try file.floats("matrix") == [-1, -0.5, 0, 0.5, 1, 1.5])
    #expect(try file.integers("ids") == [-1, 0, 1 << 40, 7])
    #expect(try file.floats("half") == [1, -2, 0.5])
    #expect(file.names == ["matrix", "ids", "half"])

    if let keep = ProcessInfo.processInfo.environment["ANOMALYKIT_WRITER_OUTPUT"], !keep.isEmpty {
      let target = keep + "/swift-writer.safetensors"
      try? FileManager.default.removeItem(atPath: target)
      try FileManager.default.copyItem(atPath: path, toPath: target)
    }
  }
}
