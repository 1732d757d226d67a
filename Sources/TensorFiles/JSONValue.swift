/// A parsed JSON document.
///
/// AnomalyKit parses every JSON it reads from users (safetensors headers,
/// description maps, metadata) with `JSONValue.parse`, a strict RFC 8259 parser
/// with a nesting limit, so that hostile input cannot exhaust the stack.
public enum JSONValue: Equatable, Sendable {
  /// JSON `null`.
  case null
  /// `true` or `false`.
  case bool(Bool)
  /// A number, as a `Double` (the parser accepts only finite values).
  case number(Double)
  /// A string, with its escapes decoded.
  case string(String)
  /// Elements in document order.
  case array([JSONValue])
  /// Members in document order (duplicate keys are rejected by the parser).
  case object([(String, JSONValue)])

  public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.number(let a), .number(let b)): return a == b
    case (.string(let a), .string(let b)): return a == b
    case (.array(let a), .array(let b)): return a == b
    case (.object(let a), .object(let b)):
      return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }

  /// The member named `key` of an object, or nil.
  public subscript(key: String) -> JSONValue? {
    if case .object(let members) = self {
      return members.first { $0.0 == key }?.1
    }
    return nil
  }

  /// The string, if the value is a JSON string; otherwise nil.
  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// The value as a non-negative integer, if it is a JSON number with no
  /// fraction that fits exactly in a Double's 53-bit mantissa.
  public var nonNegativeInteger: Int? {
    if case .number(let d) = self, d >= 0, d <= 9_007_199_254_740_992, d.rounded(.towardZero) == d {
      return Int(d)
    }
    return nil
  }
}

/// Why a JSON document was refused, with the byte offset.
public struct JSONParseError: Error, CustomStringConvertible, Sendable {
  /// Byte offset into the document where the problem was found.
  public let offset: Int
  /// What was wrong (e.g. `duplicate key 'k'`).
  public let reason: String
  public var description: String { "\(reason) at byte \(offset)" }
}

extension JSONValue {
  /// Parses a complete JSON document from UTF-8 bytes.
  ///
  /// - Parameters:
  ///   - bytes: the document; whitespace may surround the value, nothing
  ///     else may follow it.
  ///   - maxDepth: nesting limit for arrays and objects (default 64;
  ///     no file AnomalyKit reads nests deeper than 3).
  /// - Throws: `JSONParseError` at the first byte that breaks RFC 8259, a
  ///   duplicate key, a number out of `Double`'s range, or nesting deeper
  ///   than `maxDepth`.
  public static func parse<C: Collection>(_ bytes: C, maxDepth: Int = 64) throws -> JSONValue
  where C.Element == UInt8 {
    let array = Array(bytes)
    return try array.withUnsafeBufferPointer { buffer in
      var parser = JSONParser(bytes: buffer, maxDepth: maxDepth)
      parser.skipWhitespace()
      let value = try parser.parseValue(depth: 0)
      parser.skipWhitespace()
      if parser.position != buffer.count {
        throw JSONParseError(offset: parser.position, reason: "unexpected trailing data")
      }
      return value
    }
  }

  /// Parses a complete JSON document from the UTF-8 bytes of `string`, as
  /// `parse(_:maxDepth:)` on bytes does.
  public static func parse(_ string: String, maxDepth: Int = 64) throws -> JSONValue {
    try parse(Array(string.utf8), maxDepth: maxDepth)
  }
}

private struct JSONParser {
  let bytes: UnsafeBufferPointer<UInt8>
  let maxDepth: Int
  var position = 0

  init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
    self.bytes = bytes
    self.maxDepth = maxDepth
  }

  func fail(_ reason: String) -> JSONParseError {
    JSONParseError(offset: position, reason: reason)
  }

  mutating func skipWhitespace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  mutating func parseValue(depth: Int) throws -> JSONValue {
    guard position < bytes.count else { throw fail("unexpected end of JSON") }
    switch bytes[position] {
    case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
    case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
    case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
    case UInt8(ascii: "n"): try expectLiteral("null"); return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
    default: throw fail("unexpected character")
    }
  }

  mutating func expectLiteral(_ literal: StaticString) throws {
    let count = literal.utf8CodeUnitCount
    guard position + count <= bytes.count else { throw fail("unexpected end of JSON") }
    let matches = literal.withUTF8Buffer { lit in
      (0..<count).allSatisfy { bytes[position + $0] == lit[$0] }
    }
    guard matches else { throw fail("invalid literal") }
    position += count
  }

  mutating func parseObject(depth: Int) throws -> JSONValue {
    guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
    position += 1
    var members: [(String, JSONValue)] = []
    var seen = Set<String>()
    skipWhitespace()
    if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
      position += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
        throw fail("expected a string key")
      }
      let key = try parseString()
      guard seen.insert(key).inserted else { throw fail("duplicate key '\(key)'") }
      skipWhitespace()
      guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
        throw fail("expected ':'")
      }
      position += 1
      skipWhitespace()
      members.append((key, try parseValue(depth: depth)))
      skipWhitespace()
      guard position < bytes.count else { throw fail("unexpected end of JSON") }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
        continue
      }
      if bytes[position] == UInt8(ascii: "}") {
        position += 1
        return .object(members)
      }
      throw fail("expected ',' or '}'")
    }
  }

  mutating func parseArray(depth: Int) throws -> JSONValue {
    guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
    position += 1
    var elements: [JSONValue] = []
    skipWhitespace()
    if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
      position += 1
      return .array(elements)
    }
    while true {
      skipWhitespace()
      elements.append(try parseValue(depth: depth))
      skipWhitespace()
      guard position < bytes.count else { throw fail("unexpected end of JSON") }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
        continue
      }
      if bytes[position] == UInt8(ascii: "]") {
        position += 1
        return .array(elements)
      }
      throw fail("expected ',' or ']'")
    }
  }

  mutating func parseHex4() throws -> UInt32 {
    guard position + 4 <= bytes.count else { throw fail("truncated \\u escape") }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let c = bytes[position]
      let digit: UInt32
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
      default: throw fail("invalid hex digit in \\u escape")
      }
      value = value * 16 + digit
      position += 1
    }
    return value
  }

  mutating func parseString() throws -> String {
    position += 1  // opening quote
    var utf8: [UInt8] = []
    while true {
      guard position < bytes.count else { throw fail("unterminated string") }
      let c = bytes[position]
      if c == UInt8(ascii: "\"") {
        position += 1
        break
      }
      if c < 0x20 { throw fail("control character in string") }
      if c != UInt8(ascii: "\\") {
        utf8.append(c)
        position += 1
        continue
      }
      position += 1
      guard position < bytes.count else { throw fail("unterminated escape") }
      let e = bytes[position]
      position += 1
      switch e {
      case UInt8(ascii: "\""): utf8.append(0x22)
      case UInt8(ascii: "\\"): utf8.append(0x5C)
      case UInt8(ascii: "/"): utf8.append(0x2F)
      case UInt8(ascii: "b"): utf8.append(0x08)
      case UInt8(ascii: "f"): utf8.append(0x0C)
      case UInt8(ascii: "n"): utf8.append(0x0A)
      case UInt8(ascii: "r"): utf8.append(0x0D)
      case UInt8(ascii: "t"): utf8.append(0x09)
      case UInt8(ascii: "u"):
        var scalar = try parseHex4()
        if (0xD800...0xDBFF).contains(scalar) {
          guard position + 6 <= bytes.count, bytes[position] == UInt8(ascii: "\\"),
            bytes[position + 1] == UInt8(ascii: "u")
          else { throw fail("unpaired surrogate") }
          position += 2
          let low = try parseHex4()
          guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid low surrogate") }
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(scalar) {
          throw fail("unpaired surrogate")
        }
        guard let u = Unicode.Scalar(scalar) else { throw fail("invalid code point") }
        utf8.append(contentsOf: Array(String(Character(u)).utf8))
      default:
        throw fail("invalid escape")
      }
    }
    guard let s = String(validating: utf8, as: UTF8.self) else {
      throw fail("string is not valid UTF-8")
    }
    return s
  }

  mutating func parseNumber() throws -> Double {
    let start = position
    if bytes[position] == UInt8(ascii: "-") { position += 1 }
    func digits(_ p: inout JSONParser) -> Int {
      let s = p.position
      while p.position < p.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(p.bytes[p.position]) {
        p.position += 1
      }
      return p.position - s
    }
    guard position < bytes.count else { throw fail("truncated number") }
    if bytes[position] == UInt8(ascii: "0") {
      position += 1
    } else if digits(&self) == 0 {
      throw fail("invalid number")
    }
    if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
      position += 1
      if digits(&self) == 0 { throw fail("invalid fraction") }
    }
    if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
      position += 1
      if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
        position += 1
      }
      if digits(&self) == 0 { throw fail("invalid exponent") }
    }
    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    guard let value = Double(text), value.isFinite else { throw fail("number out of range") }
    return value
  }
}

extension JSONValue {
  /// Serialises the value as compact JSON (keys in stored order).
  public var serialized: String {
    var out = ""
    write(to: &out)
    return out
  }

  private func write(to out: inout String) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .number(let d):
      if d.rounded(.towardZero) == d, abs(d) < 1e15 { out += String(Int64(d)) } else { out += "\(d)" }
    case .string(let s): out += JSONValue.quote(s)
    case .array(let a):
      out += "["
      for (i, v) in a.enumerated() {
        if i > 0 { out += "," }
        v.write(to: &out)
      }
      out += "]"
    case .object(let members):
      out += "{"
      for (i, (k, v)) in members.enumerated() {
        if i > 0 { out += "," }
        out += JSONValue.quote(k)
        out += ":"
        v.write(to: &out)
      }
      out += "}"
    }
  }

  /// A JSON string literal for `s`, escaping quotes, backslashes and controls.
  public static func quote(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}
