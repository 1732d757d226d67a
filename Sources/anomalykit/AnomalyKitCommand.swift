import AnomalyKit
import ArgumentParser
import FeatureExtraction
import Foundation
import TensorFiles

/// The `anomalykit` command-line tool.
///
/// Exit codes: 0 success; 1 bad input or data (unreadable image, malformed
/// file, mismatched bank); 2 usage (unknown option, invalid value).
@main
struct AnomalyKitCommand: ParsableCommand {
  static let version = ToolkitVersion.current

  static let configuration = CommandConfiguration(
    commandName: "anomalykit",
    abstract: "Anomaly detection on frozen pretrained features, on the CPU.",
    version: version,
    subcommands: [
      DemoCommand.self, FitCommand.self, ScoreCommand.self, AddCommand.self, EvalCommand.self,
      InfoCommand.self, EmbedCommand.self, ClassifyCommand.self, AdaptCommand.self, ColdStartCommand.self,
      DeepfakeCommand.self, IdentityCommand.self, ServeCommand.self, ShardCommand.self, MergeScoresCommand.self,
    ])

  static func main() {
    let command: ParsableCommand
    do {
      command = try parseAsRoot()
    } catch {
      let code = exitCode(for: error)
      let message = fullMessage(for: error)
      if code == .success {
        print(message)
        Foundation.exit(0)
      }
      FileHandle.standardError.write(Data((message + "\n").utf8))
      Foundation.exit(CLIExit.usage)
    }
    do {
      var runnable = command
      try KernelPath.checkEnvironment()
      (command as? any ThreadedCommand)?.threading.apply()
      let limits = (command as? any ReadLimitedCommand)?.limits.readLimits ?? ReadLimits()
      try ReadLimits.$current.withValue(limits) { try runnable.run() }
    } catch let error as ValidationError {
      FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
      Foundation.exit(CLIExit.usage)
    } catch let error as ExitCode {
      Foundation.exit(error.rawValue)
    } catch let error as CleanExit {
      print(fullMessage(for: error))
      Foundation.exit(0)
    } catch {
      // `anomalykit help SUBCOMMAND` and `SUBCOMMAND --help` parse into
      // ArgumentParser's help command, whose run() throws the help request.
      if exitCode(for: error) == .success {
        print(fullMessage(for: error))
        Foundation.exit(0)
      }
      FileHandle.standardError.write(Data("error: \(CLIError.describe(error))\n".utf8))
      Foundation.exit(CLIExit.badInput)
    }
  }
}
