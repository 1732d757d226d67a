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

  /// Runs the binary with `arguments`; `stdin`, when given, is written to
  /// its standard input and then closed.
  static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> Result {
    try run(process(arguments, environment: environment), stdin: stdin)
  }

  /// Runs `command` under bash (for pipes and process substitution), with
  /// `anomalykit` on the PATH and the bundled weights found.
  static func runShell(_ command: String) throws -> Result {
    let process = process([])
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", command]
    let folder = (binary as NSString).deletingLastPathComponent
    var environment = process.environment ?? [:]
    environment["PATH"] = folder + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
    process.environment = environment
    return try run(process, stdin: nil)
  }

  static func run(_ process: Process, stdin: String?) throws -> Result {
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    try process.run()
    // Feed standard input from another thread so a child that writes a lot
    // before reading cannot deadlock against us.
    let feeder = Thread {
      if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
      try? input.fileHandleForWriting.close()
    }
    feeder.start()
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
