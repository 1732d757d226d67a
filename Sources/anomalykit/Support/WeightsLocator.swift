import FeatureExtraction
import Foundation

/// Finds the bundled weight files.
///
/// Search order: an explicit `--weights` path; `$ANOMALYKIT_WEIGHTS_DIR`;
/// `Weights/` beside the package root that built this executable
/// (`<root>/.build/<config>/anomalykit`); `./Weights`; `<prefix>/share/anomalykit/`.
enum WeightsLocator {
  static func locate(_ fileName: String) throws -> String {
    var candidates: [String] = []
    if let dir = ProcessInfo.processInfo.environment["ANOMALYKIT_WEIGHTS_DIR"] { candidates.append(dir + "/" + fileName) }
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    for _ in 0..<5 {
      candidates.append(dir.appendingPathComponent("Weights/\(fileName)").path)
      dir = dir.deletingLastPathComponent()
    }
    candidates.append(FileManager.default.currentDirectoryPath + "/Weights/" + fileName)
    candidates.append(exe.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/anomalykit/\(fileName)").path)
    for c in candidates where FileManager.default.isReadableFile(atPath: c) { return c }
    throw CLIError(
      "\(fileName): weights not found (looked in \(candidates.prefix(3).joined(separator: ", ")), …); pass --weights PATH or set ANOMALYKIT_WEIGHTS_DIR")
  }
}
