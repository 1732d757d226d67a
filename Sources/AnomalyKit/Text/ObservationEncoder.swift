import Density
import FeatureExtraction

/// What turns a cold-start detector's inputs into embeddings: the sentence
/// encoder for text detectors, the image pipeline (pooled backbone
/// features) for image detectors.
///
/// Built for a new detector, or from a stored detector's metadata
/// (`forDetector`), refusing weights other than those it was made with.
public enum ObservationEncoder: Sendable {
  /// MiniLM sentence embeddings (masked mean, not normalised).
  case text(TextEmbedder)
  /// Pooled image features of a backbone.
  case image(ImageBankPipeline)

  /// `text` or `image`, as stored in a detector's `modality` metadata.
  public var modality: String {
    switch self {
    case .text: return "text"
    case .image: return "image"
    }
  }

  /// Provenance recorded in a detector file: modality, encoder and weights hash.
  public var provenance: [String: String] {
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
  ///
  /// - Parameters:
  ///   - detector: the stored detector.
  ///   - path: its file, for messages.
  ///   - textWeights: MiniLM weights; nil finds the bundled file.
  ///   - imageWeights: EfficientNet-Lite weights; nil finds the bundled file.
  ///   - limits: limits on decoded images (image detectors).
  ///   - batchSize: images per forward pass (image detectors).
  /// - Throws: `AnomalyKitError.mismatch` for an unknown modality or other
  ///   weights than the detector was made with.
  public static func forDetector(
    _ detector: ColdStartDetector, path: String, textWeights: String? = nil, imageWeights: String? = nil,
    limits: ImageLimits = ImageLimits(), batchSize: Int = 32
  ) throws -> ObservationEncoder {
    let meta = detector.metadata
    let encoder: ObservationEncoder
    switch meta["modality"] {
    case "text":
      encoder = .text(try TextEmbedder.bundled(weights: textWeights))
    case "image":
      let recipe = BankRecipe(features: .pooled, resize: ResizePolicy(rawValue: meta["resize"] ?? "") ?? .crop, flipAverage: meta["tta"] == "hflip")
      let model = try EfficientNetLite(
        path: try imageWeights ?? BundledWeights.path("efficientnet-lite0.safetensors"), inputSize: meta["input_size"].flatMap(Int.init))
      encoder = .image(try ImageBankPipeline(model: model, recipe: recipe, limits: limits, batchSize: batchSize))
    default:
      throw AnomalyKitError.mismatch("\(path): detector has no known 'modality' (text or image) in its metadata")
    }
    try encoder.check(detector, path: path)
    return encoder
  }

  /// Throws unless `detector` was made with this encoder's weights.
  func check(_ detector: ColdStartDetector, path: String) throws {
    let current = provenance["weights_sha256"] ?? ""
    if let recorded = detector.metadata["weights_sha256"], recorded != current {
      let flag = modality == "text" ? "--text-weights" : "--weights"
      throw AnomalyKitError.mismatch(
        "\(path): detector was made with other \(modality) weights (sha256 \(recorded.prefix(12))…), but this run uses \(current.prefix(12))…; pass the matching \(flag) or build a new detector")
    }
  }
}

extension TextEmbedder {
  /// The MiniLM embedder of `weights` (vocabulary beside it), or of the
  /// bundled `all-minilm-l6-v2.safetensors`.
  public static func bundled(weights: String? = nil) throws -> TextEmbedder {
    TextEmbedder(encoder: try MiniLMEncoder(path: try weights ?? BundledWeights.path("all-minilm-l6-v2.safetensors")))
  }
}
