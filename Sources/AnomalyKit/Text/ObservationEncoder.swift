import AnomalyKit
import Density
import FeatureExtraction
import Foundation

/// What turns a detector's inputs into embeddings: the sentence encoder for
/// text detectors, the image pipeline (pooled EfficientNet features) for
/// image detectors. Built from the command line for a new detector, or
/// from a detector's metadata, refusing different weights.
enum DetectorEncoder {
  case text(TextEmbedder)
  case image(ImageBankPipeline)

  var modality: String {
    switch self {
    case .text: return "text"
    case .image: return "image"
    }
  }

  /// Provenance recorded in a detector file.
  var provenance: [String: String] {
    switch self {
    case .text(let e):
      return [
        "modality": "text", "encoder": e.encoder.metadata["model"] ?? "all-minilm-l6-v2", "weights_sha256": e.encoder.weightsSHA256,
        "embedding": "masked-mean, not normalised",
      ]
    case .image(let p):
      var m = p.provenance
      m["modality"] = "image"
      m["encoder"] = p.model.architecture
      return m
    }
  }

  /// The encoder a stored detector needs, checked against its metadata.
  static func forDetector(_ detector: ColdStartDetector, path: String, text: TextOptions, image: ImageOptions) throws -> DetectorEncoder {
    let meta = detector.metadata
    let encoder: DetectorEncoder
    switch meta["modality"] {
    case "text":
      encoder = .text(try text.embedder())
    case "image":
      let recipe = BankRecipe(features: .pooled, resize: ResizePolicy(rawValue: meta["resize"] ?? "") ?? .crop, flipAverage: meta["tta"] == "hflip")
      let inputSize = meta["input_size"].flatMap(Int.init)
      let model = try EfficientNetLite(path: try image.weightsPath(), inputSize: inputSize)
      encoder = .image(try ImageBankPipeline(model: model, recipe: recipe, limits: image.limits, batchSize: image.batchSize))
    default:
      throw CLIError("\(path): detector has no known 'modality' (text or image) in its metadata")
    }
    let current = encoder.provenance["weights_sha256"] ?? ""
    if let recorded = meta["weights_sha256"], recorded != current {
      let flag = encoder.modality == "text" ? "--text-weights" : "--weights"
      throw CLIError(
        "\(path): detector was made with other \(encoder.modality) weights (sha256 \(recorded.prefix(12))…), but this run uses \(current.prefix(12))…; pass the matching \(flag) or build a new detector")
    }
    return encoder
  }

  /// Embeddings of observation inputs: lines of text files, or images and
  /// folders of images. Blank text lines are skipped with a warning.
  func embed(_ inputs: [String], maxFiles: Int) throws -> (rows: FeatureMatrix, labels: [String]) {
    switch self {
    case .text(let e):
      var records: [TextRecord] = []
      for path in inputs {
        records += try TextLines.read(path, warn: { warn("warning: " + $0) })
      }
      guard !records.isEmpty else { throw CLIError("\(inputs.joined(separator: ", ")): no texts (every line is blank)") }
      return (e.embedReporting(records, label: "embed"), records.map(\.text))
    case .image(let p):
      let paths = try InputFiles.images(inputs, maxFiles: maxFiles)
      let progress = Progress("embed", total: paths.count)
      return (try p.features(paths) { done, _ in progress.update(done) }, paths)
    }
  }

  /// Embeddings of texts given directly (text detectors only).
  func embed(texts: [TextRecord]) throws -> FeatureMatrix {
    guard case .text(let e) = self else { throw CLIError("this is an image detector: give images, not texts") }
    return e.embedReporting(texts, label: "embed")
  }
}
