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
    candidates += bundledCandidates("Weights/" + fileName)
    for c in candidates where FileManager.default.isReadableFile(atPath: c) { return c }
    throw CLIError(
      "\(fileName): weights not found (looked in \(candidates.prefix(3).joined(separator: ", ")), …); pass --weights PATH or set ANOMALYKIT_WEIGHTS_DIR")
  }

  /// `relative` beside the package root that built this executable, in the
  /// current folder, and under `<prefix>/share/anomalykit/`.
  static func bundledCandidates(_ relative: String) -> [String] {
    var out: [String] = []
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    for _ in 0..<5 {
      out.append(dir.appendingPathComponent(relative).path)
      dir = dir.deletingLastPathComponent()
    }
    out.append(FileManager.default.currentDirectoryPath + "/" + relative)
    out.append(exe.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/anomalykit/" + relative).path)
    return out
  }

  /// The bundled demo images folder.
  static func demoFolder() throws -> String {
    for c in bundledCandidates("Examples/demo") where FileManager.default.fileExists(atPath: c + "/normal") { return c }
    throw CLIError("Examples/demo: bundled demo images not found; run from the repository or pass --examples DIR")
  }
}
