import TensorFiles
import Testing

@Suite("JSONValue.parse (strict RFC 8259)")
struct JSONValueTests {
  /// The parse error for `bytes`, or nil (after recording an issue) if it parsed.
  @discardableResult
  static func refusal(_ bytes: [UInt8], maxDepth: Int = 64, sourceLocation: SourceLocation = #_sourceLocation) -> JSONParseError? {
    do {
      let value = try JSONValue.parse(bytes, maxDepth: maxDepth)
      Issue.record("accepted \(String(decoding: bytes.prefix(80), as: UTF8.self).debugDescription) as \(value)", sourceLocation: sourceLocation)
      return nil
    } catch let error as JSONParseError {
      return error
    } catch {
      Issue.record("threw \(error)", sourceLocation: sourceLocation)
      return nil
    }
  }

  @discardableResult
  static func refusal(_ text: String, maxDepth: Int = 64, sourceLocation: SourceLocation = #_sourceLocation) -> JSONParseError? {
    refusal(Array(text.utf8), maxDepth: maxDepth, sourceLocation: sourceLocation)
  }

  @Test("a document with every kind of value")
  func valid() throws {
    let text = """
       {"a": [1, -2.5e3, 0, -0, 1E+2, 1.5e-3, 0.25, true, false, null, "x"],
      \t"b": {}, "c": [], "d": {"e": {"f": "g"}}, "": 9007199254740993 }\r\n
      """
    let value = try JSONValue.parse(text)
    let expected = JSONValue.object([
      ("a", .array([.number(1), .number(-2500), .number(0), .number(-0.0), .number(100), .number(0.0015), .number(0.25),
        .bool(true), .bool(false), .null, .string("x")])),
      ("b", .object([])), ("c", .array([])), ("d", .object([("e", .object([("f", .string("g"))]))])),
      ("", .number(9_007_199_254_740_992)),
    ])
    #expect(value == expected)
    #expect(value["d"]?["e"]?["f"]?.stringValue == "g")
    #expect(value["missing"] == nil)
    #expect(value["a"]?["x"] == nil)
  }

  @Test("scalars at the top level", arguments: [
    ("0", JSONValue.number(0)), ("-1.25", .number(-1.25)), (#""s""#, .string("s")), ("true", .bool(true)),
    ("false", .bool(false)), ("null", .null), (" \n\t\r 7 \n", .number(7)), ("1e308", .number(1e308)),
  ])
  func scalars(text: String, expected: JSONValue) throws {
    #expect(try JSONValue.parse(text) == expected)
  }

  @Test("members keep document order; equality is order-sensitive")
  func memberOrder() throws {
    guard case .object(let members) = try JSONValue.parse(#"{"z":1,"a":2,"m":3}"#) else {
      Issue.record("not an object")
      return
    }
    #expect(members.map(\.0) == ["z", "a", "m"])
    #expect(try JSONValue.parse(#"{"a":1,"b":2}"#) != JSONValue.parse(#"{"b":2,"a":1}"#))
  }

  @Test("escapes, \\u escapes and surrogate pairs")
  func escapes() throws {
    #expect(try JSONValue.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
    #expect(try JSONValue.parse(#""\u00e9\u00C9""#) == .string("éÉ"))
    #expect(try JSONValue.parse(#""\u0000x""#) == .string("\u{0}x"))
    #expect(try JSONValue.parse(#""\u2713 \uFFFF""#) == .string("✓ \u{FFFF}"))
    #expect(try JSONValue.parse(#""\uD83D\uDE00""#) == .string("😀"))
    #expect(try JSONValue.parse(#""\ud834\udd1e""#) == .string("𝄞"))
    #expect(try JSONValue.parse(#""\uDBFF\uDFFF""#) == .string("\u{10FFFF}"))
    // Raw UTF-8 passes through.
    #expect(try JSONValue.parse("\"ünïcode ✓ 😀\"") == .string("ünïcode ✓ 😀"))
  }

  @Test("quote() output parses back to the same string")
  func quoteRoundTrip() throws {
    for s in ["", "plain", "quote \" backslash \\ slash /", "controls \u{0}\u{1}\u{8}\u{1F}\n\r\t", "ünïcode ✓ 😀", "\u{7F}\u{2028}"] {
      #expect(try JSONValue.parse(JSONValue.quote(s)) == .string(s), "\(s.debugDescription)")
    }
    let value = JSONValue.object([("k", .array([.number(1), .number(-0.5), .string("a\"b"), .null, .bool(true)]))])
    #expect(try JSONValue.parse(value.serialized) == value)
  }

  @Test("trailing data is refused", arguments: ["{} x", "1 2", "[1]]", #""a""b""#, "{}{}", "null,", "0 0"])
  func trailing(text: String) {
    Self.refusal(text)
  }

  @Test("duplicate keys are refused, at any depth")
  func duplicateKeys() {
    let e = Self.refusal(#"{"a":1,"b":2,"a":3}"#)
    #expect(e?.reason.contains("duplicate") == true)
    Self.refusal(#"{"x":{"k":1,"k":1}}"#)
    // Keys equal after unescaping are duplicates too.
    Self.refusal(#"{"é":1,"\u00e9":2}"#)
  }

  @Test("nesting beyond maxDepth throws instead of overflowing the stack")
  func deepNesting() {
    let deep = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
    let e = Self.refusal(deep)
    #expect(e?.reason.contains("nesting") == true)
    Self.refusal([UInt8](repeating: UInt8(ascii: "{"), count: 100_000))
    Self.refusal(Array(String(repeating: #"{"a":"#, count: 100_000).utf8))
    // Even a generous limit stops 100k levels.
    Self.refusal(deep, maxDepth: 1_000)
    // Exactly maxDepth levels parse; one more does not.
    let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
    #expect((try? JSONValue.parse(ok)) != nil)
    Self.refusal(String(repeating: "[", count: 65) + String(repeating: "]", count: 65))
    #expect((try? JSONValue.parse(#"{"a":[1]}"#, maxDepth: 2)) != nil)
    Self.refusal(#"{"a":[[1]]}"#, maxDepth: 2)
  }

  @Test("invalid UTF-8 inside strings is refused", arguments: [
    [0xFF], [0x80], [0xC3], [0xC3, 0x28], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80],
    [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE2, 0x82],
  ] as [[UInt8]])
  func invalidUTF8(bad: [UInt8]) {
    let doc = Array(#"{"k":"ok "#.utf8) + bad + Array(#" ok"}"#.utf8)
    let e = Self.refusal(doc)
    #expect(e?.reason.contains("UTF-8") == true, "\(String(describing: e))")
    // In a key as well.
    Self.refusal([UInt8(ascii: "{"), UInt8(ascii: "\"")] + bad + Array(#"":1}"#.utf8))
  }

  @Test("raw control characters inside strings are refused", arguments: [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F] as [UInt8])
  func controlCharacters(c: UInt8) {
    let e = Self.refusal([UInt8(ascii: "\""), UInt8(ascii: "a"), c, UInt8(ascii: "\"")])
    #expect(e?.reason.contains("control") == true)
  }

  @Test("numbers RFC 8259 forbids", arguments: [
    "01", "-01", "00", "[00]", "[01]", #"{"a":012}"#, "0123.5", "1.", ".5", "-.5", "+1", "-", "1e", "1e+", "1.e3",
    "0x10", "NaN", "-Infinity", "Infinity", "1e400", "-1e400", "1_000", "٣",
  ])
  func badNumbers(text: String) {
    Self.refusal(text)
  }

  @Test("bad escapes and surrogates", arguments: [
    #""\x""#, #""\u12G4""#, #""\u12""#, #""\U0041""#, #""\'""#, #""\uD800""#, #""\uDC00""#, #""\uD800\u0041""#,
    #""\uD800x""#, #""\uD83D\uD83D""#, #""\"#, #""abc"#,
  ])
  func badEscapes(text: String) {
    Self.refusal(text)
  }

  @Test("other syntax errors", arguments: [
    "", " ", "[1,]", #"{"a":1,}"#, "[,1]", #"{"a" 1}"#, #"{a:1}"#, "{'a':1}", #"{"a":}"#, "[1 2]", "tru", "nul", "True",
    "NULL", "[", "{", #"{"a""#, "]", "\u{FEFF}{}", "/* c */ {}",
  ])
  func syntax(text: String) {
    Self.refusal(text)
  }

  @Test("nonNegativeInteger accepts only exact non-negative integers up to 2^53")
  func nonNegativeInteger() throws {
    #expect(JSONValue.number(0).nonNegativeInteger == 0)
    #expect(JSONValue.number(-0.0).nonNegativeInteger == 0)
    #expect(JSONValue.number(9_007_199_254_740_992).nonNegativeInteger == 9_007_199_254_740_992)
    #expect(JSONValue.number(9_007_199_254_740_994).nonNegativeInteger == nil)
    #expect(JSONValue.number(1e300).nonNegativeInteger == nil)
    #expect(JSONValue.number(-1).nonNegativeInteger == nil)
    #expect(JSONValue.number(2.5).nonNegativeInteger == nil)
    #expect(JSONValue.string("3").nonNegativeInteger == nil)
    #expect(try JSONValue.parse("4.0e0").nonNegativeInteger == 4)
  }
}
