import Foundation

/// Runs the `anomalykit` binary built beside the test bundle.
enum CLIRunner {
  struct Result {
    let status: Int32
    let stdout: String
    let stderr: String
  }

  static let repositoryRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/CLITests/CLIRunner.swift
    return parts.joined(separator: "/")
  }()

  static var binary: String {
    let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [bundleDir, bundleDir.deletingLastPathComponent()] {
      let path = candidate.appendingPathComponent("anomalykit").path
      if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return repositoryRoot + "/.build/release/anomalykit"
  }

  static func fixture(_ relative: String) -> String { repositoryRoot + "/Tests/Fixtures/" + relative }
  static var weights: String { repositoryRoot + "/Weights/efficientnet-lite0.safetensors" }

  /// The binary with `arguments`, finding the bundled weights, not yet started.
  static func process(_ arguments: [String], environment: [String: String] = [:]) -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["ANOMALYKIT_WEIGHTS_DIR"] = repositoryRoot + "/Weights"
    for (k, v) in environment { env[k] = v }
    process.environment = env
    return process
  }

  static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
    let process = process(arguments, environment: environment)
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting so a full pipe cannot deadlock the child.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  /// A fresh temporary folder.
  static func temporaryFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("anomalykit-cli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  static func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }
}
