import AnomalyKit

/// Command-line inputs (files and folders) as image paths: `ImageFiles`,
/// with its warnings on standard error.
enum InputFiles {
  static func images(_ inputs: [String], maxFiles: Int = 1_000_000) throws -> [String] {
    try ImageFiles.paths(inputs, maxFiles: maxFiles, warning: { warn($0) })
  }
}
