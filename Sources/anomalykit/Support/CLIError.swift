import Foundation

/// Exit codes of `anomalykit` (stable; scripts rely on them).
enum CLIExit {
  static let ok: Int32 = 0
  /// Bad input or data: the message names the file and what was expected.
  static let badInput: Int32 = 1
  /// Usage: unknown option, invalid value, missing argument.
  static let usage: Int32 = 2
}

/// An error raised by the tool itself (not by a library), with its message.
struct CLIError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }

  /// The message for any error: library errors describe themselves.
  static func describe(_ error: Error) -> String {
    String(describing: error)
  }
}

/// Writes a line to standard error.
func warn(_ message: String) {
  FileHandle.standardError.write(Data((message + "\n").utf8))
}
