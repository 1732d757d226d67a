import ArgumentParser

/// `anomalykit deepfake …`: detectors of generated images.
struct DeepfakeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "deepfake", abstract: "Detect generated (deepfake) images: real-only detectors (fit, score) and Tiny-LaDeDa.",
    subcommands: [DeepfakeFitCommand.self, DeepfakeScoreCommand.self, DeepfakeTinyLaDeDaCommand.self])
}
