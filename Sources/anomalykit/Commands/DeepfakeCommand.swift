import ArgumentParser

/// `anomalykit deepfake …`: detectors of generated images.
struct DeepfakeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "deepfake", abstract: "Detect generated (deepfake) images.",
    subcommands: [DeepfakeTinyLaDeDaCommand.self])
}
