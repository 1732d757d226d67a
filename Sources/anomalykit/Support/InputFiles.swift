import AnomalyKit
import ArgumentParser
import Foundation

/// Command-line inputs (files and folders) as image paths: `ImageFiles`,
/// with its warnings on standard error.
enum InputFiles {
  static func images(_ inputs: [String], maxFiles: Int = 1_000_000) throws -> [String] {
    try ImageFiles.paths(inputs, maxFiles: maxFiles, warning: { warn($0) })
  }
}

/// `--inputs-from FILE`: inputs listed in a file, one per line, for lists
/// longer than a command line holds (a distributed job's chunk, or a
/// sharded fit's millions of images).
struct InputListOptions: ParsableArguments {
  @Option(name: .customLong("inputs-from"), help: "Also take inputs from this file, one image or folder path per line (blank lines skipped), after those on the command line.")
  var inputsFrom: String?

  /// The command-line `inputs` followed by the listed ones.
  func inputs(_ inputs: [String]) throws -> [String] {
    guard let inputsFrom else { return inputs }
    guard let data = FileManager.default.contents(atPath: inputsFrom) else {
      throw CLIError("\(inputsFrom): cannot read the input list")
    }
    guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(inputsFrom): the input list is not UTF-8 text") }
    let listed = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    guard !listed.isEmpty || !inputs.isEmpty else { throw CLIError("\(inputsFrom): the input list is empty") }
    return inputs + listed
  }
}
