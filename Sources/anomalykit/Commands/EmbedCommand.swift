import ArgumentParser
import FeatureExtraction
import Foundation
import TensorFiles

extension FeatureLayer: ExpressibleByArgument {
  public init?(argument: String) { self.init(argument) }
  public static var allValueStrings: [String] { ["pooled", "logits"] + (1...7).map { "stage\($0)" } }
}

/// `anomalykit embed IMAGES_OR_DIRS... --out FEATURES.npy`.
struct EmbedCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "embed",
    abstract: "Write one feature vector per image to .npy (N×D float32) or .safetensors.",
    discussion: """
      Rows follow the input order; folders are walked in sorted order. The input paths, one per row, go to \
      FEATURES.npy.paths.txt (for .npy) or to the 'paths' metadata key (for .safetensors). Stage maps are \
      flattened in PyTorch's C×H×W order.
      """)

  @Argument(help: "Images or folders of images.")
  var inputs: [String]

  @Option(name: .long, help: "Output file: .npy or .safetensors.")
  var out: String

  @Option(name: .long, help: "pooled (1280-d), logits (1000) or stage1…stage7 (flattened maps).")
  var layer: FeatureLayer = .pooled

  @OptionGroup var image: ImageOptions

  @OptionGroup var limits: LimitOptions

  func validate() throws {
    guard out.hasSuffix(".npy") || out.hasSuffix(".safetensors") else {
      throw ValidationError("--out must end in .npy or .safetensors")
    }
    if case .stage(let n) = layer, !(1...7).contains(n) {
      throw ValidationError("--layer stage\(n): EfficientNet-Lite has stages 1…7")
    }
  }

  func run() throws {
    let paths = try InputFiles.images(inputs, maxFiles: image.maxFiles)
    try OutputPath.check(out, inputs: paths)
    let extractor = try image.extractor(for: paths)
    if case .stage(let n) = layer, extractor.model.stageShape(n) == nil {
      throw ValidationError("--layer stage\(n): the model has \(extractor.model.stageCount) stages")
    }
    let progress = Progress("embed", total: paths.count)
    let (dimension, values) = try extractor.vectors(paths, layer: layer, progress: { done, _ in progress.update(done) })
    if out.hasSuffix(".npy") {
      try NPYFile.write(rows: paths.count, columns: dimension, values: values, to: out)
      try AtomicFile.write(Array((paths.joined(separator: "\n") + "\n").utf8), to: out + ".paths.txt")
    } else {
      var writer = SafeTensorsWriter(metadata: [
        "format": "features", "format_version": "1", "toolkit_version": AnomalyKitCommand.version,
        "backbone": extractor.model.architecture, "weights_sha256": extractor.model.weightsSHA256,
        "layer": layer.description, "resize": image.resize.rawValue,
        "paths": JSONValue.array(paths.map { .string($0) }).serialized,
      ])
      try writer.add("features", floats: values, shape: [paths.count, dimension])
      try writer.write(to: out)
    }
    warn("wrote \(paths.count)×\(dimension) \(layer) features to \(out)")
  }
}
