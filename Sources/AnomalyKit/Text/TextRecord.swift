import FeatureExtraction
import Foundation
import TensorFiles

#if canImport(Glibc)
  import Glibc
  private func readBytes(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { Glibc.read(fd, buffer, count) }
#elseif canImport(Darwin)
  import Darwin
  private func readBytes(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { Darwin.read(fd, buffer, count) }
#endif

/// One text to embed, with where it came from (for messages).
public struct TextRecord: Sendable, Equatable {
  /// The text itself.
  public var text: String
  /// `file:line`, or a label such as `argument 2`.
  public var origin: String

  /// A text and where it came from.
  ///
  /// - Parameters:
  ///   - text: the text.
  ///   - origin: `file:line` or a label, for messages.
  public init(text: String, origin: String) {
    self.text = text
    self.origin = origin
  }
}

/// Problems with text inputs.
public enum TextInputError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file does not exist, is a folder or cannot be read, or a stream is
  /// over `ReadLimits.maxStreamBytes`.
  case unreadable(path: String, reason: String)
  /// Line `line` (1-based) is not valid UTF-8; `byteOffset` is where in the
  /// line the bad sequence starts.
  case invalidUTF8(path: String, line: Int, byteOffset: Int)
  /// The input holds no texts; `what` says what is missing.
  case empty(path: String, what: String)
  /// A JSON descriptions file is not valid JSON, not an object of class →
  /// text(s), names a class twice or has an empty description.
  case invalidDescriptions(path: String, reason: String)
  /// A cold-start dataset folder lacks `file` (a split or the guidance).
  case missingDatasetFile(directory: String, file: String)
  /// A text at `origin` is `bytes` bytes long, over `limit`
  /// (`ReadLimits.maxTextBytes`).
  case textTooLong(origin: String, bytes: Int, limit: Int)

  public var description: String {
    switch self {
    case .unreadable(let p, let reason): return "\(p): cannot read: \(reason)"
    case .invalidUTF8(let p, let line, let offset):
      return "\(p):\(line): text is not valid UTF-8 (bad byte sequence at byte \(offset) of the line); re-encode the file as UTF-8"
    case .empty(let p, let what): return "\(p): \(what)"
    case .invalidDescriptions(let p, let reason): return "\(p): invalid descriptions: \(reason)"
    case .textTooLong(let origin, let bytes, let limit):
      return "\(origin): text is \(bytes) bytes, over the limit of \(limit) (expected one text per line; raise it with --max-text-bytes)"
    case .missingDatasetFile(let dir, let file):
      return "\(dir): not a cold-start dataset: missing \(file) (expected train/seq.in, test/seq.in, id-oos/valid/seq.in, id-oos/test/seq.in and the guidance file: descriptions.json, or the one --descriptions-file names)"
    }
  }
}

/// Reading texts one per line.
public enum TextLines {
  /// The lines of a UTF-8 text file (`\n` or `\r\n`; a final newline is
  /// optional). Blank lines (only whitespace) are dropped, unless
  /// `keepBlank`, and their line numbers returned either way, so callers can
  /// warn.
  ///
  /// - Throws: `TextInputError.unreadable` / `.invalidUTF8` naming the file
  ///   and line.
  ///
  /// `path` may be `-` for standard input, or a pipe such as `<(grep …)`
  /// or `/dev/stdin`: see `contents(of:)`.
  public static func read(_ path: String, keepBlank: Bool = false) throws -> (records: [TextRecord], blankLines: [Int]) {
    return try read(bytes: try contents(of: path), path: displayName(path), keepBlank: keepBlank)
  }

  /// How `path` is named in origins and messages: `-` is standard input.
  public static func displayName(_ path: String) -> String { path == "-" ? "(standard input)" : path }

  /// `read(_:keepBlank:)` on the bytes of a text file held in memory;
  /// `path` is only used in origins and messages.
  public static func read(bytes: [UInt8], path: String, keepBlank: Bool = false) throws -> (records: [TextRecord], blankLines: [Int]) {
    var records: [TextRecord] = []
    var blank: [Int] = []
    var lineNumber = 0
    var bytes = bytes
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // UTF-8 byte-order mark
    var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }  // the final newline ends a line, it does not start one
    let limit = ReadLimits.current.maxTextBytes
    for var line in lines {
      lineNumber += 1
      if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
      guard line.count <= limit else {
        throw TextInputError.textTooLong(origin: "\(path):\(lineNumber)", bytes: line.count, limit: limit)
      }
      let text: String
      do {
        text = try WordPieceTokenizer.decodeUTF8(line)
      } catch {
        let offset: Int
        if case TextEncoderError.invalidUTF8(let o) = error { offset = o } else { offset = 0 }
        throw TextInputError.invalidUTF8(path: path, line: lineNumber, byteOffset: offset)
      }
      if text.allSatisfy(\.isWhitespace) {
        blank.append(lineNumber)
        if !keepBlank { continue }
      }
      records.append(TextRecord(text: text, origin: "\(path):\(lineNumber)"))
    }
    return (records, blank)
  }

  /// The bytes of a text input: a regular file, or a stream.
  ///
  /// `-` reads standard input; a pipe, FIFO or character device (process
  /// substitution's `/dev/fd/63`, `/dev/stdin`) is read to its end as a
  /// stream. A stream cannot be sized first, so its lines are checked
  /// against `ReadLimits.maxTextBytes` as they arrive, and the whole stream
  /// against `ReadLimits.maxStreamBytes`: a stream that is not one text per
  /// line stops early with the same error a file gets.
  ///
  /// - Throws: `TextInputError.unreadable` naming the file when it does not
  ///   exist, is a folder, or cannot be read; `.textTooLong` for a stream
  ///   line over the limit.
  static func contents(of path: String) throws -> [UInt8] {
    if path == "-" { return try stream(fileDescriptor: 0, path: displayName(path)) }
    var info = stat()
    guard stat(path, &info) == 0 else {
      let reason = errno == ENOENT ? "no such file" : String(cString: strerror(errno))
      throw TextInputError.unreadable(path: path, reason: reason)
    }
    switch info.st_mode & S_IFMT {
    case S_IFDIR:
      throw TextInputError.unreadable(path: path, reason: "is a directory, expected a file")
    case S_IFREG:
      do {
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
      } catch {
        throw TextInputError.unreadable(path: path, reason: (error as NSError).localizedDescription)
      }
    case S_IFIFO, S_IFCHR, S_IFSOCK:
      let fd = open(path, O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else { throw TextInputError.unreadable(path: path, reason: String(cString: strerror(errno))) }
      defer { close(fd) }
      return try stream(fileDescriptor: fd, path: path)
    default:
      throw TextInputError.unreadable(path: path, reason: "not a file, pipe or standard input")
    }
  }

  /// Reads `fd` to its end, enforcing the text limits as bytes arrive.
  static func stream(fileDescriptor fd: Int32, path: String) throws -> [UInt8] {
    let limits = ReadLimits.current
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var lineStart = 0
    var lineNumber = 1
    while true {
      let n = chunk.withUnsafeMutableBytes { readBytes(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw TextInputError.unreadable(path: path, reason: String(cString: strerror(errno)))
      }
      if n == 0 { break }
      let start = bytes.count
      bytes += chunk[0..<n]
      for i in start..<bytes.count where bytes[i] == UInt8(ascii: "\n") {
        lineStart = i + 1
        lineNumber += 1
      }
      if bytes.count - lineStart > limits.maxTextBytes + 1 {  // + 1: a line's `\r`
        throw TextInputError.textTooLong(origin: "\(path):\(lineNumber)", bytes: bytes.count - lineStart, limit: limits.maxTextBytes)
      }
      if bytes.count > limits.maxStreamBytes {
        throw TextInputError.unreadable(
          path: path, reason: "the stream is over \(limits.maxStreamBytes) bytes; save it to a file, or raise --max-stream-bytes")
      }
    }
    return bytes
  }

  /// The non-blank lines of `path`; `warn` hears how many blank lines were
  /// skipped.
  public static func read(_ path: String, warn: (String) -> Void) throws -> [TextRecord] {
    let (records, blank) = try read(path)
    if let first = blank.first { warn("\(displayName(path)): skipped \(blank.count) blank line(s) (first: line \(first))") }
    return records
  }
}
