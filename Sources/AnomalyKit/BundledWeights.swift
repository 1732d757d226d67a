import Foundation

/// Finds the weight files and demo images that ship in the repository's
/// `Weights/` and `Examples/` folders.
///
/// Search order for a file name:
/// 1. `$ANOMALYKIT_WEIGHTS_DIR/<name>`;
/// 2. `Weights/<name>` at the root of the AnomalyKit package this library
///    was built from (found from this source file's path, so an app that
///    depends on AnomalyKit by path or by Git finds the bundled weights);
/// 3. `Weights/<name>` beside the running executable and up to four
///    folders above it (`<root>/.build/<config>/anomalykit`);
/// 4. `./Weights/<name>`, then `<prefix>/share/anomalykit/Weights/<name>`.
public enum BundledWeights {
  /// The path of the bundled weights file `fileName`
  /// (e.g. `efficientnet-lite0.safetensors`).
  ///
  /// - Throws: `AnomalyKitError.notFound` listing where it looked.
  public static func path(_ fileName: String) throws -> String {
    var candidates: [String] = []
    if let dir = ProcessInfo.processInfo.environment["ANOMALYKIT_WEIGHTS_DIR"] { candidates.append(dir + "/" + fileName) }
    candidates += Self.candidates(for: "Weights/" + fileName)
    for c in candidates where FileManager.default.isReadableFile(atPath: c) { return c }
    throw AnomalyKitError.notFound(
      "\(fileName): weights not found (looked in \(candidates.prefix(3).joined(separator: ", ")), …); pass --weights PATH or set ANOMALYKIT_WEIGHTS_DIR")
  }

  /// The URL of the bundled weights file `fileName`.
  public static func url(_ fileName: String) throws -> URL { URL(fileURLWithPath: try path(fileName)) }

  /// The bundled demo images (`Examples/demo`, with `normal/` and `test/`).
  ///
  /// - Throws: `AnomalyKitError.notFound` when the folder is not beside the package or executable.
  public static func demoFolder() throws -> String {
    for c in candidates(for: "Examples/demo") where FileManager.default.fileExists(atPath: c + "/normal") { return c }
    throw AnomalyKitError.notFound("Examples/demo: bundled demo images not found; run from the repository or pass --examples DIR")
  }

  /// `relative` at the package root, beside the executable and the folders
  /// above it, in the current folder, and under `<prefix>/share/anomalykit/`.
  static func candidates(for relative: String) -> [String] {
    // <root>/Sources/AnomalyKit/BundledWeights.swift
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var out = [root.appendingPathComponent(relative).path]
    let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    for _ in 0..<5 {
      out.append(dir.appendingPathComponent(relative).path)
      dir = dir.deletingLastPathComponent()
    }
    out.append(FileManager.default.currentDirectoryPath + "/" + relative)
    out.append(exe.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/anomalykit/" + relative).path)
    return out
  }
}
