import Density
import FeatureExtraction

/// Everything that decides how a reference bank is fitted: the features,
/// the scorer, the coreset and the threshold calibration.
///
/// This is the one place defaults live. `anomalykit fit` starts from one of
/// the presets below and overrides only the flags given; the HTTP service
/// and `ImageAnomalyDetector` use the same values, so a bank fitted from
/// the command line and one fitted in an app are the same file, byte for
/// byte.
///
/// ```swift
/// var configuration = BankConfiguration.patchDefault
/// configuration.coreset = 0.05
/// let detector = try await ImageAnomalyDetector.fit(normal: urls, configuration: configuration)
/// ```
///
/// Every preset's values were chosen by leave-one-dataset-out and measured
/// on the held-out dataset (Notebooks-export/industrial.md, deepfake.md).
public struct BankConfiguration: Sendable, Equatable {
  /// What each bank row is, and how patch scores pool into an image score.
  public var features: BankRecipe.Features
  /// How a feature is scored against the bank (`ScorerKind`).
  public var scorer: ScorerKind
  /// Neighbours summed by the kNN scorers: `s(x) = Σ_{j≤k} d(x, n_j)`.
  public var k: Int
  /// Transform applied to every feature before fitting and scoring.
  public var transform: FeatureTransform
  /// Square network input side; nil keeps the backbone's own (224 for
  /// EfficientNet-Lite0). Larger inputs give finer patch grids.
  public var inputSize: Int?
  /// How an image becomes a square input.
  public var resize: ResizePolicy
  /// Average the pooled feature of each image with its mirror image's
  /// (image banks only).
  public var flipAverage: Bool
  /// Re-encode every image as JPEG at this quality before features, at fit
  /// and score time alike; nil leaves images as decoded.
  public var harmonizeJPEG: Int?
  /// Where stage maps of a patch bank meet.
  public var patchGrid: PatchFeatureBuilder.Grid
  /// Fraction of feature rows the bank keeps (nil or 1: all of them).
  public var coreset: Double?
  /// How the coreset's rows are chosen.
  public var coresetMethod: Coreset.Method
  /// Random-projection width of the greedy coreset's distances.
  public var coresetProjection: Int
  /// Fraction of normal images held out per cross-fitting fold to
  /// calibrate the threshold; 0 fits a bank without a threshold.
  public var holdout: Double
  /// Target false-positive rate of the image threshold on normal data.
  public var fpr: Double
  /// Target false-positive rate of the pixel threshold of patch banks
  /// (for defect masks), on the normal images' cross-fitted location scores.
  public var pixelFPR: Double
  /// Seed of the calibration folds and the coreset.
  public var seed: UInt64
  /// Refuse fits whose features would need more memory than this many
  /// bytes; nil is half the machine's memory (`FitMemoryBudget`).
  public var maxFitMemory: Int?
  /// How the bank stores its rows: `.f32` (default) or `.bf16`, half the
  /// memory and disk, searched on BF16 dot products and re-ranked in
  /// float32 (knn and cosine-knn only).
  public var bankDType: BankDType = .f32
  /// The arithmetic of the backbone's matrix products (`ComputePrecision`):
  /// `.fp32` (default) or `.bf16`, recorded in the bank. Used when `fit`
  /// builds the backbone; a backbone passed in must have this precision.
  public var precision: ComputePrecision = .fp32

  /// Creates a configuration; every parameter defaults to `imageDefault`'s value.
  public init(
    features: BankRecipe.Features = .pooled, scorer: ScorerKind = .cosineKNN, k: Int = ReferenceBank.defaultK,
    transform: FeatureTransform = .sqrt, inputSize: Int? = nil, resize: ResizePolicy = .crop, flipAverage: Bool = false,
    harmonizeJPEG: Int? = nil, patchGrid: PatchFeatureBuilder.Grid = .finest, coreset: Double? = nil,
    coresetMethod: Coreset.Method = .greedy, coresetProjection: Int = Coreset.defaultProjection, holdout: Double = 0.1,
    fpr: Double = 0.01, pixelFPR: Double = 0.01, seed: UInt64 = 0, maxFitMemory: Int? = nil
  ) {
    self.features = features
    self.scorer = scorer
    self.k = k
    self.transform = transform
    self.inputSize = inputSize
    self.resize = resize
    self.flipAverage = flipAverage
    self.harmonizeJPEG = harmonizeJPEG
    self.patchGrid = patchGrid
    self.coreset = coreset
    self.coresetMethod = coresetMethod
    self.coresetProjection = coresetProjection
    self.holdout = holdout
    self.fpr = fpr
    self.pixelFPR = pixelFPR
    self.seed = seed
    self.maxFitMemory = maxFitMemory
  }

  /// Image banks (DN2/PANDA): one pooled 1280-d EfficientNet feature per
  /// image, signed square root, cosine kNN with k = 2, central crop.
  ///
  /// On CIFAR-10 pooled features the square root adds 1.3–2.9 AUROC points
  /// to kNN, cosine kNN and the Gaussian.
  public static let imageDefault = BankConfiguration()

  /// Patch banks (PatchCore-style): stages 3 and 5 joined on the finest
  /// grid, 320-pixel stretched inputs, no transform, squared-L2 kNN with
  /// k = 1, max-pooled, a 1% greedy coreset.
  ///
  /// Chosen by leave-one-dataset-out over four industrial sets; the square
  /// root that helps image banks cost 14.7 AUROC points on MVTec screw
  /// (Notebooks-export/industrial.md).
  public static let patchDefault = BankConfiguration(
    features: .patches(stages: [3, 5], pooling: .max), scorer: .knn, k: 1, transform: FeatureTransform.none, inputSize: 320,
    resize: .stretch, coreset: 0.01)

  /// A real-only forensic patch bank: stages 1–3 at the image's own
  /// resolution (central 256-pixel crop, no resampling) joined on the
  /// stage-3 grid, every image re-encoded as JPEG 90, squared-L2 kNN
  /// against a random 10% of real patches, mean-pooled.
  ///
  /// Held out it flags an image's source more than generation; for
  /// deepfake screening prefer `DeepfakeDetector` (OODFront). This stays
  /// for patch heatmaps and comparison
  /// (Notebooks-export/explorations/deepfake-patch-preset.md).
  public static let deepfakePatches = BankConfiguration(
    features: .patches(stages: [1, 2, 3], pooling: .mean), scorer: .knn, k: 1, transform: FeatureTransform.none, inputSize: 256,
    resize: .native, harmonizeJPEG: 90, patchGrid: .coarsest, coreset: 0.1, coresetMethod: .random)

  /// Banks of residual pixel patches (`PixelPatchDescriptor`), max-pooled,
  /// squared-L2 kNN with k = 1 and a 1% greedy coreset, at the backbone's
  /// input size with a central crop.
  public static func residualPatches(_ descriptor: PixelPatchDescriptor) -> BankConfiguration {
    BankConfiguration(features: .pixelPatches(descriptor, pooling: .max), scorer: .knn, k: 1, coreset: 0.01)
  }

  /// Banks of features computed elsewhere (`ImageAnomalyDetector.fit(features:)`):
  /// cosine kNN with k = 2 on the features as given (no transform, since
  /// their scale and sign are unknown).
  public static let externalFeatures = BankConfiguration(transform: FeatureTransform.none)

  /// Whether rows are image locations rather than whole images.
  public var isPatchBank: Bool { recipe.isPatchBank }

  /// How locations pool into an image score (nil for image banks);
  /// setting it on an image bank does nothing.
  public var pooling: PatchPooling? {
    get {
      switch features {
      case .pooled: return nil
      case .patches(_, let p), .pixelPatches(_, let p): return p
      }
    }
    set {
      guard let newValue else { return }
      switch features {
      case .pooled: break
      case .patches(let s, _): features = .patches(stages: s, pooling: newValue)
      case .pixelPatches(let d, _): features = .pixelPatches(d, pooling: newValue)
      }
    }
  }

  /// The part of the configuration that decides feature extraction; it is
  /// saved in the bank so that scoring extracts features as fitting did.
  public var recipe: BankRecipe {
    BankRecipe(features: features, resize: resize, flipAverage: flipAverage, harmonizeJPEG: harmonizeJPEG, patchGrid: patchGrid)
  }

  /// The threshold calibration, or nil for a bank without threshold.
  public var calibration: ThresholdCalibration? {
    holdout > 0 ? ThresholdCalibration(holdout: holdout, fpr: fpr, seed: seed) : nil
  }

  /// Throws unless every value is in range.
  ///
  /// - Throws: `AnomalyKitError.invalidConfiguration` naming the value, what
  ///   it is and what was expected.
  public func validate() throws {
    func fail(_ m: String) -> AnomalyKitError { .invalidConfiguration(m) }
    guard k >= 1 else { throw fail("k must be at least 1, found \(k)") }
    guard (0..<1).contains(holdout) else { throw fail("holdout must be in [0, 1), found \(holdout)") }
    guard fpr > 0 && fpr < 1 else { throw fail("fpr must be in (0, 1), found \(fpr)") }
    guard pixelFPR > 0 && pixelFPR < 1 else { throw fail("pixelFPR must be in (0, 1), found \(pixelFPR)") }
    if let c = coreset, !(c > 0 && c <= 1) { throw fail("coreset must be in (0, 1], found \(c)") }
    guard (8...1024).contains(coresetProjection) else { throw fail("coresetProjection must be in 8…1024, found \(coresetProjection)") }
    if let q = harmonizeJPEG, !(1...100).contains(q) { throw fail("harmonizeJPEG must be a JPEG quality in 1…100, found \(q)") }
    if let s = inputSize, !(32...2048).contains(s) { throw fail("inputSize must be in 32…2048, found \(s)") }
    if let m = maxFitMemory, m < 1 << 20 { throw fail("maxFitMemory must be at least 1 MiB, found \(m) bytes") }
    if flipAverage && isPatchBank { throw fail("flipAverage applies to image banks, not to patch banks") }
    if bankDType != .f32, let refusal = scorer.lowPrecisionRefusal { throw fail("bankDType \(bankDType.rawValue): \(refusal)") }
    if case .patches(let stages, _) = features {
      guard !stages.isEmpty else { throw fail("a patch bank needs at least one stage") }
      for s in stages where s < 1 { throw fail("patch stage \(s): stages count from 1") }
    }
  }
}
