import Foundation
import TensorFiles

/// The zero-shot guidance of a cold-start detector: one or more short texts
/// per normal class, each typically an example query ("How can I activate
/// my new card?") rather than the bare class name. Every text becomes one
/// prototype; a class with several texts gets several prototypes.
///
/// Two file forms:
/// - **JSON** (a file named `*.json`, or whose first non-blank character is
///   `{`): an object mapping class name → text, or class name → array of
///   texts. Key order is kept. Anything else in a `.json` file (an array,
///   invalid JSON) is an error, never read as lines of text.
/// - **Plain text**: one description per line; the class name is the text.
public struct ClassDescriptions: Sendable, Equatable {
  /// One entry per prototype, in file order.
  public var classNames: [String]
  /// The description of each prototype, parallel to `classNames`.
  public var texts: [TextRecord]

  /// Guidance from parallel lists: `texts[i]` describes class `classNames[i]`.
  ///
  /// - Parameters:
  ///   - classNames: one class name per prototype.
  ///   - texts: one description per prototype.
  public init(classNames: [String], texts: [TextRecord]) {
    self.classNames = classNames
    self.texts = texts
  }

  /// Reads either form.
  ///
  /// - Throws: `TextInputError` for a missing or unreadable file, an empty
  ///   one, invalid UTF-8 or JSON, a duplicate class, or an empty
  ///   description (naming the class).
  public static func read(_ path: String) throws -> ClassDescriptions {
    return try read(bytes: try TextLines.contents(of: path), path: TextLines.displayName(path))
  }

  /// `read(_:)` on the bytes of a descriptions file held in memory; `path`
  /// is only used in origins and messages (and its `.json` extension).
  public static func read(bytes: [UInt8], path: String) throws -> ClassDescriptions {
    let firstByte = bytes.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
    let isJSONFile = (path as NSString).pathExtension.lowercased() == "json"
    if firstByte == UInt8(ascii: "{") || (isJSONFile && firstByte != nil) { return try readJSON(bytes, path: path) }
    let (records, _) = try TextLines.read(bytes: bytes, path: path)
    guard !records.isEmpty else {
      throw TextInputError.empty(path: path, what: "no descriptions (the file is empty); give one description per normal class")
    }
    return ClassDescriptions(classNames: records.map(\.text), texts: records)
  }

  /// Guidance from the class names alone: `spec` is a file (read as
  /// `read(_:)` does: `names.json` maps class → name) when one exists, or
  /// else a comma-separated list, each name's underscores read as spaces
  /// for the encoder (`card_activation` embeds as "card activation") and
  /// kept as the class name.
  ///
  /// - Throws: `TextInputError.empty` when the list names no class, or the
  ///   file's errors.
  public static func names(_ spec: String) throws -> ClassDescriptions {
    if spec == "-" || FileManager.default.fileExists(atPath: spec) { return try read(spec) }
    return try ClassDescriptions(names: spec.split(separator: ",").map(String.init))
  }

  /// Guidance from class names alone: each name (trimmed; blank names
  /// dropped) is its own description, with underscores read as spaces for
  /// the encoder (`card_activation` embeds as "card activation").
  ///
  /// - Throws: `TextInputError.empty` when no name is left.
  public init(names: [String]) throws {
    let names = names.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard !names.isEmpty else { throw TextInputError.empty(path: "--class-names", what: "no class names (expected a,b,c or a file)") }
    self.init(
      classNames: names,
      texts: names.enumerated().map { TextRecord(text: $0.element.replacingOccurrences(of: "_", with: " "), origin: "--class-names \($0.offset + 1)") })
  }

  static func readJSON(_ bytes: [UInt8], path: String) throws -> ClassDescriptions {
    var bytes = bytes
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
    let value: JSONValue
    do {
      value = try JSONValue.parse(bytes)
    } catch {
      throw TextInputError.invalidDescriptions(path: path, reason: "not valid JSON: \(error)")
    }
    guard case .object(let members) = value else {
      throw TextInputError.invalidDescriptions(path: path, reason: "expected a JSON object mapping class name → description")
    }
    guard !members.isEmpty else {
      throw TextInputError.empty(path: path, what: "no descriptions (the JSON object is empty); give one description per normal class")
    }
    var names: [String] = []
    var texts: [TextRecord] = []
    var seen = Set<String>()
    for (name, member) in members {
      guard seen.insert(name).inserted else {
        throw TextInputError.invalidDescriptions(path: path, reason: "class '\(name)' appears twice")
      }
      let list: [JSONValue]
      switch member {
      case .string: list = [member]
      case .array(let items): list = items
      default:
        throw TextInputError.invalidDescriptions(path: path, reason: "class '\(name)': expected a string or an array of strings")
      }
      guard !list.isEmpty else {
        throw TextInputError.invalidDescriptions(path: path, reason: "class '\(name)' has no description")
      }
      for (i, item) in list.enumerated() {
        guard let text = item.stringValue else {
          throw TextInputError.invalidDescriptions(path: path, reason: "class '\(name)': expected a string or an array of strings")
        }
        guard !text.allSatisfy(\.isWhitespace) else {
          throw TextInputError.invalidDescriptions(path: path, reason: "class '\(name)' has an empty description")
        }
        let origin = list.count == 1 ? "\(path) [\(name)]" : "\(path) [\(name)][\(i)]"
        let limit = ReadLimits.current.maxTextBytes
        guard text.utf8.count <= limit else {
          throw TextInputError.textTooLong(origin: origin, bytes: text.utf8.count, limit: limit)
        }
        names.append(name)
        texts.append(TextRecord(text: text, origin: origin))
      }
    }
    return ClassDescriptions(classNames: names, texts: texts)
  }
}
