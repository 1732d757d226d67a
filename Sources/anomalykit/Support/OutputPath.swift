import Foundation
import TensorFiles

/// Checks an output path before any work is done, so a long run never ends
/// in "cannot write".
enum OutputPath {
  /// The folder must exist, the path must not be a folder, and the output
  /// must not be one of the inputs.
  static func check(_ path: String, inputs: [String] = []) throws {
    try AtomicFile.checkDestination(path)
    let target = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    for input in inputs where URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath().path == target {
      throw CLIError("\(path): output would overwrite the input \(input)")
    }
  }
}
