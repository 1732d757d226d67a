/// A frozen image network that banks and detectors extract features with.
///
/// AnomalyKit's pipelines (`ImageFeatureExtractor`, `ImageBankPipeline`,
/// the patch-feature builder and the detectors above them) talk to this
/// protocol only; `EfficientNetLite` is the implementation that ships.
///
/// ## The contract
/// - **Input.** `forward` receives `count` square images back to back,
///   each `inputSize × inputSize × 3` floats in channels-last (HWC) order,
///   already normalised as `x ↦ (x − inputMean) / inputStd` from 0–255 RGB
///   by `Preprocessor`. A network trained with per-channel statistics
///   (torchvision's `mean = (0.485, 0.456, 0.406)·255`,
///   `std = (0.229, 0.224, 0.225)·255`) keeps `inputMean = 0`,
///   `inputStd = 1` and folds its normalisation into the first convolution:
///   `W'[o,c,·] = W[o,c,·] / std_c`, `b'_o = b_o − Σ_{c,·} W[o,c,·]·mean_c / std_c`,
///   which is exact.
/// - **Pooled feature.** `.pooled` is one `featureDimension`-wide vector
///   per image (the DN2/PANDA image embedding); image banks hold these.
/// - **Stages.** `.stage(n)` for `n` in `1...stageCount` is the output map
///   of the network's n-th resolution stage, channels-last, with the shape
///   `stageShape(n)` reports; patch banks join these maps location by
///   location. A backbone without a useful hierarchy can report
///   `stageCount = 0` and serve image banks only.
/// - **Determinism.** An image's outputs must not depend on the batch it
///   came in or on `workers`: banks are compared bit for bit.
/// - **Provenance.** `architecture` and `weightsSHA256` are written into
///   every bank; a bank refuses to score with a backbone whose values
///   differ, so two weight files never mix in one feature space.
///
/// See the "Plugging in another backbone" article for a worked recipe.
public protocol ImageBackbone: Sendable {
  /// A short, stable name of the network (e.g. `efficientnet-lite0`),
  /// recorded in bank metadata.
  var architecture: String { get }
  /// SHA-256 (hex) of the weights, recorded in bank metadata and checked
  /// when a bank is loaded.
  var weightsSHA256: String { get }
  /// Side of the square input, in pixels.
  var inputSize: Int { get }
  /// Mean subtracted from every 0–255 channel value before `forward`.
  var inputMean: Float { get }
  /// Divisor applied after subtracting `inputMean`.
  var inputStd: Float { get }
  /// Width of the pooled image feature.
  var featureDimension: Int { get }
  /// Number of stages `forward` can return maps of (`.stage(1...stageCount)`).
  var stageCount: Int { get }
  /// The arithmetic `forward` runs in, recorded in bank metadata; a bank
  /// refuses features of another precision unless mixing is allowed.
  /// Default `fp32`.
  var precision: ComputePrecision { get }
  /// For `int8`, the activation ranges the network quantises with, recorded
  /// in bank metadata so that queries are quantised the same way. Default nil.
  var int8Calibration: Int8Calibration? { get }
  /// Height, width and channel count of stage `n`'s map at `inputSize`, or
  /// nil when `n` is not a stage.
  func stageShape(_ n: Int) -> (height: Int, width: Int, channels: Int)?
  /// Runs `count` normalised HWC images (`count × inputSize² × 3` floats)
  /// through the network and returns the requested `layers`.
  ///
  /// - Parameters:
  ///   - input: the images, back to back.
  ///   - count: how many images `input` holds.
  ///   - layers: which outputs to return; others stay nil / absent.
  ///   - workers: threads the backbone may use.
  /// - Returns: pooled features (`count × featureDimension`), logits if the
  ///   backbone is a classifier, and the stage maps asked for.
  func forward(_ input: [Float], count: Int, layers: Set<FeatureLayer>, workers: Int) -> BackboneOutput
}

/// An image backbone with a classifier head over named classes, whose rows
/// serve as zero-shot prototypes ("normal = these classes") for image
/// cold-start detectors.
public protocol ImageClassifierBackbone: ImageBackbone {
  /// Class names, in the classifier's output order.
  var classNames: [String] { get }
  /// The classifier's weight rows `W[c, :]` for `classes`, one
  /// `featureDimension`-wide row per class, back to back; they live in the
  /// pooled feature's space (`logit_c = W[c,:]·pooled + b_c`).
  func classifierRows(_ classes: [Int]) -> [Float]
  /// Logits of `count` pooled features (`count × featureDimension`), as
  /// `count × classNames.count` values.
  func classify(pooled: [Float], count: Int) -> [Float]
}

extension ImageBackbone {
  /// `fp32`, for backbones that do not say otherwise.
  public var precision: ComputePrecision { .fp32 }

  /// nil, for backbones that do not say otherwise.
  public var int8Calibration: Int8Calibration? { nil }

  /// Metadata that ties features to this backbone: architecture, weights
  /// hash, input size, normalisation, precision and (for `int8`) the
  /// activation ranges.
  public var provenance: [String: String] {
    var values = [
      "backbone": architecture, "weights_sha256": weightsSHA256, "input_size": String(inputSize),
      "input_normalization": "(x - \(Self.formatted(inputMean))) / \(Self.formatted(inputStd))",
      ComputePrecision.metadataKey: precision.rawValue,
    ]
    if let calibration = int8Calibration { values[Int8Calibration.metadataKey] = calibration.metadataValue }
    return values
  }

  /// `127` for whole numbers (as banks have always recorded them), `%g` otherwise.
  static func formatted(_ v: Float) -> String {
    v == v.rounded() && abs(v) < 1e7 ? String(Int(v)) : "\(v)"
  }
}
