import Foundation
import TensorFiles

/// Checks an output path before any work is done, so a long run never ends
/// in "cannot write", and an output never replaces an input.
enum OutputPath {
  /// The folder must exist, the path must not be a folder (or a symbolic
  /// link loop), and the output must not be one of the inputs.
  static func check(_ path: String, inputs: [String] = []) throws {
    try check(path, inputs: InputSet(inputs))
  }

  /// As above, against inputs resolved once (for many outputs).
  static func check(_ path: String, inputs: InputSet) throws {
    try AtomicFile.checkDestination(path)
    if let input = inputs.byResolvedPath[resolved(path)] {
      throw CLIError("\(path): output would overwrite the input \(input)")
    }
  }

  /// Inputs by their resolved path (symbolic links followed, `.`/`..` removed).
  struct InputSet {
    let byResolvedPath: [String: String]
    init(_ inputs: [String]) {
      var m: [String: String] = [:]
      for input in inputs {
        let r = OutputPath.resolved(input)
        if m[r] == nil { m[r] = input }
      }
      byResolvedPath = m
    }
  }

  static func resolved(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
  }
}
