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
        "embedding": "masked-mean, not normalised", ComputePrecision.metadataKey: e.encoder.precision.rawValue,
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
  ///   - precision: run the encoder in this precision; nil follows the detector.
  ///   - allowMixedPrecision: accept a `precision` other than the detector's.
  /// - Throws: `AnomalyKitError.mismatch` for an unknown modality or other
  ///   weights than the detector was made with; `PrecisionError` for another
  ///   precision (without `allowMixedPrecision`) or one this CPU cannot run.
  public static func forDetector(
    _ detector: ColdStartDetector, path: String, textWeights: String? = nil, imageWeights: String? = nil,
    limits: ImageLimits = ImageLimits(), batchSize: Int = 32, precision: ComputePrecision? = nil, allowMixedPrecision: Bool = false
  ) throws -> ObservationEncoder {
    let meta = detector.metadata
    let chosen = try ComputePrecision.resolve(
      requested: precision, recorded: try ComputePrecision(metadata: meta, path: path), path: path, allowMixed: allowMixedPrecision)
    let encoder: ObservationEncoder
    switch meta["modality"] {
    case "text":
      encoder = .text(try TextEmbedder.bundled(weights: textWeights, precision: chosen))
    case "image":
      let recipe = BankRecipe(features: .pooled, resize: ResizePolicy(rawValue: meta["resize"] ?? "") ?? .crop, flipAverage: meta["tta"] == "hflip")
      let model = try EfficientNetLite.forStored(
        weights: try imageWeights ?? BundledWeights.path("efficientnet-lite0.safetensors"), inputSize: meta["input_size"].flatMap(Int.init),
        precision: chosen, metadata: meta, path: path)
      encoder = .image(try ImageBankPipeline(model: model, recipe: recipe, limits: limits, batchSize: batchSize))
    default:
      throw AnomalyKitError.mismatch("\(path): detector has no known 'modality' (text or image) in its metadata")
    }
    try encoder.check(detector, path: path, allowMixedPrecision: allowMixedPrecision)
    return encoder
  }

  /// The arithmetic the encoder runs in.
  public var precision: ComputePrecision {
    switch self {
    case .text(let e): return e.encoder.precision
    case .image(let p): return p.model.precision
    }
  }

  /// Throws unless `detector` was made with this encoder's weights and
  /// (unless `allowMixedPrecision`) precision.
  func check(_ detector: ColdStartDetector, path: String, allowMixedPrecision: Bool = false) throws {
    try precision.checkMatches(
      ComputePrecision(metadata: detector.metadata, path: path), path: path, allowMixed: allowMixedPrecision)
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
  /// bundled `all-minilm-l6-v2.safetensors`, in `precision`.
  public static func bundled(weights: String? = nil, precision: ComputePrecision = .fp32) throws -> TextEmbedder {
    TextEmbedder(
      encoder: try MiniLMEncoder(path: try weights ?? BundledWeights.path("all-minilm-l6-v2.safetensors"), precision: precision))
  }
}
