import AnomalyKit
import ArgumentParser
import Density
import FeatureExtraction

extension PrototypeMetric: ExpressibleByArgument {}

/// Options every text command shares.
struct TextOptions: ParsableArguments {
  @Option(name: .customLong("text-weights"), help: "Sentence-encoder weights (.safetensors, vocabulary beside it). Default: the bundled Weights/all-minilm-l6-v2.safetensors.")
  var textWeights: String?

  func weightsPath() throws -> String {
    try textWeights ?? BundledWeights.path("all-minilm-l6-v2.safetensors")
  }

  /// The sentence encoder, in `precision`.
  func embedder(precision: ComputePrecision = .fp32) throws -> TextEmbedder {
    try TextEmbedder.bundled(weights: textWeights, precision: precision)
  }
}

extension TextEmbedder {
  /// `embed` with progress lines and warnings on standard error.
  func embedReporting(_ records: [TextRecord], label: String) -> FeatureMatrix {
    let progress = Progress(label, total: records.count, quietBelow: 2048)
    return embed(records, warn: { warn("warning: " + $0) }, progress: { progress.update($0) })
  }
}
