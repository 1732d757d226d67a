import Foundation
import TensorFiles
import Testing

/// Hostile and broken safetensors files, built byte by byte. Each must be
/// refused in `init` with the right `TensorFileError`, naming the file (and
/// the tensor, where there is one).
@Suite("SafeTensors: malformed files")
struct SafeTensorsMalformedTests {
  let dir: TemporaryFolder

  init() throws { dir = try TemporaryFolder() }

  /// Writes `bytes` as `name` and opens it, expecting a refusal.
  func refuse(
    _ name: String, _ bytes: [UInt8], tensor: String? = nil, maxHeaderBytes: Int = SafeTensorsFile.defaultMaxHeaderBytes,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> (path: String, error: TensorFileError?) {
    let path = try dir.write(name, bytes)
    let error = expectTensorFileError(path: path, tensor: tensor, sourceLocation: sourceLocation) {
      try SafeTensorsFile(path: path, maxHeaderBytes: maxHeaderBytes)
    }
    return (path, error)
  }

  /// A one-tensor header: `{"t": {<entry>}}`.
  static func one(_ entry: String) -> String { #"{"t":{"# + entry + "}}" }

  @Test("a 0-byte file is tooShort")
  func empty() throws {
    let (p, e) = try refuse("empty.safetensors", [])
    #expect(e == .tooShort(path: p, size: 0))
  }

  @Test("a 5-byte file is tooShort")
  func fiveBytes() throws {
    let (p, e) = try refuse("five.safetensors", [2, 0, 0, 0, 0])
    #expect(e == .tooShort(path: p, size: 5))
  }

  @Test("a header length past the end of the file")
  func headerPastEOF() throws {
    let (p, e) = try refuse("past.safetensors", safetensorsBytes(header: "{}", declaredLength: 1000))
    #expect(e == .headerPastEndOfFile(path: p, length: 1000, fileSize: 2))
    // The largest possible length must not overflow anything.
    let (q, f) = try refuse("max.safetensors", safetensorsBytes(header: "{}", declaredLength: .max))
    #expect(f == .headerTooLarge(path: q, length: .max, limit: SafeTensorsFile.defaultMaxHeaderBytes))
  }

  @Test("a header longer than maxHeaderBytes is refused before parsing")
  func headerTooLarge() throws {
    let header = Self.one(#""dtype":"F32","shape":[1],"data_offsets":[0,4]"#)
    let bytes = safetensorsBytes(header: header, data: [0, 0, 128, 63])
    let (p, e) = try refuse("large.safetensors", bytes, maxHeaderBytes: 16)
    #expect(e == .headerTooLarge(path: p, length: UInt64(header.utf8.count), limit: 16))
    // The same file opens under the default limit.
    #expect(try SafeTensorsFile(path: p).floats("t") == [1])
  }

  @Test("invalid JSON", arguments: [#"{"t": "#, "not json", #"{"a":1,}"#, "{}}", #"{"a":01}"#, "\u{FEFF}{}"])
  func invalidJSON(header: String) throws {
    let (_, e) = try refuse("bad.safetensors", safetensorsBytes(header: header))
    guard case .invalidHeader(_, let reason) = e else {
      Issue.record("\(header): \(String(describing: e))")
      return
    }
    #expect(reason.contains("JSON"))
  }

  @Test("invalid UTF-8 inside a header string")
  func invalidUTF8() throws {
    let bytes = [UInt8](repeating: 0, count: 8) + Array(#"{"t"#.utf8) + [0xC3, 0x28] + Array(#"":1}"#.utf8)
    var withLength = bytes
    let n = bytes.count - 8
    for i in 0..<8 { withLength[i] = UInt8(truncatingIfNeeded: n >> (8 * i)) }
    let (_, e) = try refuse("utf8.safetensors", withLength)
    guard case .invalidHeader = e else {
      Issue.record("\(String(describing: e))")
      return
    }
  }

  @Test("duplicate tensor names in the header")
  func duplicateKeys() throws {
    let entry = #"{"dtype":"U8","shape":[1],"data_offsets":[0,1]}"#
    let (_, e) = try refuse("dup.safetensors", safetensorsBytes(header: #"{"t":"# + entry + #","t":"# + entry + "}", data: [1]))
    guard case .invalidHeader(_, let reason) = e else {
      Issue.record("\(String(describing: e))")
      return
    }
    #expect(reason.contains("duplicate"))
  }

  @Test("a header that is not a JSON object", arguments: ["[]", #""string""#, "42", "null"])
  func notAnObject(header: String) throws {
    let (p, e) = try refuse("array.safetensors", safetensorsBytes(header: header))
    #expect(e == .invalidHeader(path: p, reason: "expected a JSON object"))
  }

  @Test("a header nested deeper than the format allows")
  func tooDeep() throws {
    let header = #"{"t":{"dtype":"F32","shape":[[[[1]]]],"data_offsets":[0,4]}}"#
    let (_, e) = try refuse("deep.safetensors", safetensorsBytes(header: header, data: [0, 0, 0, 0]))
    guard case .invalidHeader = e else {
      Issue.record("\(String(describing: e))")
      return
    }
  }

  @Test("__metadata__ must map strings to strings", arguments: [#"{"k":1}"#, #"{"k":null}"#, #"{"k":["v"]}"#, #"["k"]"#])
  func nonStringMetadata(metadata: String) throws {
    let (_, e) = try refuse("meta.safetensors", safetensorsBytes(header: #"{"__metadata__":"# + metadata + "}"))
    guard case .invalidHeader(_, let reason) = e else {
      Issue.record("\(String(describing: e))")
      return
    }
    #expect(reason.contains("__metadata__"))
    if metadata.hasPrefix("{") { #expect(reason.contains("'k'")) }
  }

  @Test("an unknown dtype names the tensor and the dtype", arguments: ["F8", "f32", "BOOL", "I16", ""])
  func unknownDType(dtype: String) throws {
    let header = Self.one(#""dtype":""# + dtype + #"","shape":[1],"data_offsets":[0,1]"#)
    let (p, e) = try refuse("dtype.safetensors", safetensorsBytes(header: header, data: [0]), tensor: "t")
    #expect(e == .unknownDType(path: p, tensor: "t", dtype: dtype))
  }

  @Test("entry fields of the wrong kind", arguments: [
    #""dtype":1,"shape":[1],"data_offsets":[0,4]"#,
    #""shape":[1],"data_offsets":[0,4]"#,
    #""dtype":"F32","shape":1,"data_offsets":[0,4]"#,
    #""dtype":"F32","shape":[1],"data_offsets":[0]"#,
    #""dtype":"F32","shape":[1],"data_offsets":[0,4,8]"#,
    #""dtype":"F32","shape":[1],"data_offsets":"0,4""#,
    #""dtype":"F32","shape":[1],"data_offsets":[-4,0]"#,
    #""dtype":"F32","shape":[1],"data_offsets":[0.5,4]"#,
  ])
  func wrongFields(entry: String) throws {
    let (_, e) = try refuse("fields.safetensors", safetensorsBytes(header: Self.one(entry), data: [0, 0, 0, 0]), tensor: "t")
    guard case .invalidEntry(_, "t", _) = e else {
      Issue.record("\(entry): \(String(describing: e))")
      return
    }
  }

  @Test("an entry that is not an object")
  func entryNotObject() throws {
    let (p, e) = try refuse("entry.safetensors", safetensorsBytes(header: #"{"t":[1,2]}"#), tensor: "t")
    #expect(e == .invalidEntry(path: p, tensor: "t", reason: "entry is not an object"))
  }

  @Test("a shape with a negative, fractional or non-numeric entry", arguments: ["[-1]", "[2,-3]", "[2.5]", "[1e300]", "[9007199254740994]", #"["2"]"#, "[null]", "[1,[2]]"])
  func badShape(shape: String) throws {
    let header = Self.one(#""dtype":"U8","shape":"# + shape + #","data_offsets":[0,2]"#)
    let (_, e) = try refuse("shape.safetensors", safetensorsBytes(header: header, data: [0, 0]), tensor: "t")
    guard case .invalidEntry(_, "t", let reason) = e else {
      Issue.record("\(shape): \(String(describing: e))")
      return
    }
    #expect(reason.contains("shape"))
  }

  @Test("a number out of Double's range is a JSON error")
  func hugeNumber() throws {
    let header = Self.one(#""dtype":"U8","shape":[1e400],"data_offsets":[0,2]"#)
    let (_, e) = try refuse("shape.safetensors", safetensorsBytes(header: header, data: [0, 0]))
    guard case .invalidHeader(_, let reason) = e else {
      Issue.record("\(String(describing: e))")
      return
    }
    #expect(reason.contains("out of range"))
  }

  @Test("data_offsets outside the data section, or reversed")
  func offsetsOutOfRange() throws {
    let (p, e) = try refuse(
      "range.safetensors",
      safetensorsBytes(header: Self.one(#""dtype":"F32","shape":[25],"data_offsets":[0,100]"#), data: [UInt8](repeating: 0, count: 8)),
      tensor: "t")
    #expect(e == .offsetsOutOfRange(path: p, tensor: "t", begin: 0, end: 100, dataSize: 8))
    let (q, f) = try refuse(
      "reversed.safetensors",
      safetensorsBytes(header: Self.one(#""dtype":"F32","shape":[1],"data_offsets":[8,4]"#), data: [UInt8](repeating: 0, count: 8)),
      tensor: "t")
    #expect(f == .offsetsOutOfRange(path: q, tensor: "t", begin: 8, end: 4, dataSize: 8))
    // Offsets near 2^53 do not overflow.
    let (r, g) = try refuse(
      "huge.safetensors",
      safetensorsBytes(
        header: Self.one(#""dtype":"U8","shape":[1],"data_offsets":[9007199254740991,9007199254740992]"#), data: [0]),
      tensor: "t")
    #expect(g == .offsetsOutOfRange(path: r, tensor: "t", begin: 9_007_199_254_740_991, end: 9_007_199_254_740_992, dataSize: 1))
  }

  @Test("overlapping tensors name both")
  func overlapping() throws {
    let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
    let (p, e) = try refuse("overlap.safetensors", safetensorsBytes(header: header, data: [UInt8](repeating: 0, count: 12)))
    #expect(e == .overlappingTensors(path: p, first: "a", second: "b"))
    #expect(e?.description.contains("'a'") == true && e?.description.contains("'b'") == true)
    // Identical spans overlap too; a zero-length tensor inside another does not.
    let same = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#
    let (q, f) = try refuse("same.safetensors", safetensorsBytes(header: same, data: [0, 0, 0, 0]))
    #expect(f == .overlappingTensors(path: q, first: "a", second: "b"))
    let zero = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"z":{"dtype":"F32","shape":[0],"data_offsets":[2,2]}}"#
    let ok = try dir.write("zero.safetensors", safetensorsBytes(header: zero, data: [1, 2, 3, 4]))
    let file = try SafeTensorsFile(path: ok)
    #expect(try file.integers("a") == [1, 2, 3, 4])
    #expect(try file.floats("z").isEmpty)
  }

  @Test("a byte length that disagrees with shape × dtype size")
  func byteLengthMismatch() throws {
    let (p, e) = try refuse(
      "length.safetensors",
      safetensorsBytes(header: Self.one(#""dtype":"F32","shape":[3],"data_offsets":[0,8]"#), data: [UInt8](repeating: 0, count: 8)),
      tensor: "t")
    #expect(e == .byteLengthMismatch(path: p, tensor: "t", shape: [3], dtype: "F32", expected: 12, actual: 8))
    let (q, f) = try refuse(
      "scalar.safetensors",
      safetensorsBytes(header: Self.one(#""dtype":"F64","shape":[],"data_offsets":[0,4]"#), data: [0, 0, 0, 0]),
      tensor: "t")
    #expect(f == .byteLengthMismatch(path: q, tensor: "t", shape: [], dtype: "F64", expected: 8, actual: 4))
  }

  @Test("a shape whose element count overflows")
  func shapeOverflow() throws {
    // 2^40 × 2^40 elements: the product itself overflows Int.
    let (_, e) = try refuse(
      "overflow.safetensors",
      safetensorsBytes(header: Self.one(#""dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4]"#), data: [0, 0, 0, 0]),
      tensor: "t")
    guard case .invalidEntry(_, "t", let reason) = e else {
      Issue.record("\(String(describing: e))")
      return
    }
    #expect(reason.contains("overflow"))
    // 2^31 × 2^31 = 2^62 elements fits, but × 4 bytes does not.
    let (q, f) = try refuse(
      "bytes-overflow.safetensors",
      safetensorsBytes(header: Self.one(#""dtype":"F32","shape":[2147483648,2147483648],"data_offsets":[0,4]"#), data: [0, 0, 0, 0]),
      tensor: "t")
    #expect(f == .byteLengthMismatch(path: q, tensor: "t", shape: [1 << 31, 1 << 31], dtype: "F32", expected: .max, actual: 4))
    // A zero dimension makes any product zero, even with a huge one beside it.
    let zero = try dir.write(
      "zero-dim.safetensors",
      safetensorsBytes(header: Self.one(#""dtype":"F32","shape":[0,9007199254740992],"data_offsets":[0,0]"#)))
    #expect(try SafeTensorsFile(path: zero).info("t").elementCount == 0)
  }

  @Test("looking up a missing tensor")
  func missingTensor() throws {
    let path = try dir.write("ok.safetensors", safetensorsBytes(header: Self.one(#""dtype":"U8","shape":[1],"data_offsets":[0,1]"#), data: [7]))
    let file = try SafeTensorsFile(path: path)
    #expect(try file.integers("t") == [7])
    for lookup in [{ _ = try file.info("absent") }, { _ = try file.floats("absent") }, { _ = try file.integers("absent") }] {
      let e = expectTensorFileError(path: path, tensor: "absent") { try lookup() }
      #expect(e == .missingTensor(path: path, tensor: "absent"))
    }
    let e = expectTensorFileError(path: path, tensor: "absent") { try file.withRawBytes("absent") { $0.count } }
    #expect(e == .missingTensor(path: path, tensor: "absent"))
  }

  @Test("a directory is refused as cannotOpen")
  func directory() throws {
    let path = dir.path + "/folder.safetensors"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    let e = expectTensorFileError(path: path) { try SafeTensorsFile(path: path) }
    guard case .cannotOpen(_, let reason) = e else {
      Issue.record("\(String(describing: e))")
      return
    }
    #expect(reason.contains("directory"))
  }

  @Test("a nonexistent path is refused as cannotOpen")
  func nonexistent() throws {
    let path = dir.path + "/missing/none.safetensors"
    let e = expectTensorFileError(path: path) { try SafeTensorsFile(path: path) }
    guard case .cannotOpen(_, let reason) = e else {
      Issue.record("\(String(describing: e))")
      return
    }
    #expect(reason.contains("No such file"))
  }

  @Test("the smallest valid file: an empty header")
  func minimal() throws {
    let path = try dir.write("min.safetensors", safetensorsBytes(header: "{}"))
    let file = try SafeTensorsFile(path: path)
    #expect(file.tensors.isEmpty && file.metadata.isEmpty && file.names.isEmpty)
    // Trailing spaces (the writer's padding) are allowed.
    let padded = try dir.write("pad.safetensors", safetensorsBytes(header: "{}      "))
    #expect(try SafeTensorsFile(path: padded).tensors.isEmpty)
  }
}
