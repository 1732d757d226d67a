import Density
import FeatureExtraction
import Foundation
import TensorFiles

/// A reference bank of normal images and the pipeline that extracts its
/// features: fit on normal images only, then score new images.
///
/// ```swift
/// let detector = try await ImageAnomalyDetector.fit(normal: normalURLs)
/// for result in try await detector.score(testURLs) {
///   print(result.path, result.score, result.anomalous ?? false)
/// }
/// try detector.save(to: URL(fileURLWithPath: "bank.safetensors"))
/// ```
///
/// The score of an image feature `x` against normal features `n_1 … n_N`
/// is the scorer's (`ScorerKind`): the kNN scorers sum the distances to
/// the `k` nearest normals, `s(x) = Σ_{j≤k} d(x, n_(j))`; patch banks
/// score every location and pool the location scores (max by default).
/// With `holdout > 0` the fit also calibrates a threshold at the
/// configuration's false-positive rate by cross-fitting on the normals
/// alone, and each result carries a verdict.
///
/// The bank file is the same one `anomalykit fit` writes from the same
/// images and configuration, byte for byte; the command-line tool and the
/// HTTP service are thin layers over this type.
///
/// Fitting and scoring are CPU-bound. The `async` methods run them off
/// Swift's cooperative thread pool; the synchronous ones run on the
/// caller's thread.
public struct ImageAnomalyDetector: Sendable {
  /// The fitted bank: features, scorer, threshold and provenance metadata.
  public private(set) var bank: ReferenceBank
  /// How images become features; nil for a detector fitted on external
  /// features (`fit(features:configuration:)`), which scores features only.
  public let pipeline: ImageBankPipeline?

  /// Wraps a bank and the pipeline that reproduces its features.
  ///
  /// - Parameters:
  ///   - bank: the fitted bank.
  ///   - pipeline: the pipeline that makes its features; nil for a bank of
  ///     external features, which then scores features only.
  ///   - allowMixedPrecision: accept a pipeline whose backbone runs in
  ///     another `ComputePrecision` than the bank was fitted in.
  /// - Throws: `DensityError.incompatibleBank` when the pipeline's backbone,
  ///   weights or feature width differ from the bank's;
  ///   `PrecisionError.mixed` when its precision differs.
  public init(bank: ReferenceBank, pipeline: ImageBankPipeline?, allowMixedPrecision: Bool = false) throws {
    if let pipeline {
      try Self.checkCompatible(bank, path: "bank", pipeline: pipeline, allowMixedPrecision: allowMixedPrecision)
    }
    self.bank = bank
    self.pipeline = pipeline
  }

  /// A detector that scores features only (no pipeline), whatever the bank's recipe.
  package static func featuresOnly(_ bank: ReferenceBank) -> ImageAnomalyDetector {
    ImageAnomalyDetector(unchecked: bank, pipeline: nil)
  }

  init(unchecked bank: ReferenceBank, pipeline: ImageBankPipeline?) {
    self.bank = bank
    self.pipeline = pipeline
  }

  /// The image threshold, or nil when the bank was fitted without one.
  public var threshold: Float? { bank.threshold }

  /// The calibration the threshold was set with (its false-positive rate,
  /// hold-out fraction and seed), or nil without a threshold.
  public var thresholdCalibration: ThresholdCalibration? {
    guard bank.threshold != nil, let fpr = Double(bank.metadata["threshold_fpr"] ?? ""),
      let holdout = Double(bank.metadata["threshold_holdout"] ?? "")
    else { return nil }
    return ThresholdCalibration(holdout: holdout, fpr: fpr, seed: UInt64(bank.metadata["threshold_seed"] ?? "") ?? 0)
  }

  /// The pixel threshold of a patch bank, for defect masks: the `1 − pixelFPR`
  /// quantile of the normal images' cross-fitted, smoothed location scores
  /// (`BankConfiguration.pixelFPR`); nil for image banks and banks without
  /// a threshold. Compare it with `AnomalyMap.dense` maps.
  public var pixelThreshold: Float? { bank.metadata["pixel_threshold"].flatMap { Float($0) } }

  /// Whether the bank scores image locations (and results carry maps).
  public var isPatchBank: Bool { bank.metadata["patches"] == "true" }

  // MARK: - Fitting

  /// Fits a bank on normal images with the bundled EfficientNet-Lite0.
  ///
  /// - Parameters:
  ///   - normal: normal images (PNG or JPEG); at least one, two for a threshold.
  ///   - configuration: the fit's settings (`BankConfiguration.imageDefault`,
  ///     `.patchDefault`, …).
  ///   - weights: an EfficientNet-Lite weights file; nil finds the bundled one
  ///     (`BundledWeights`).
  ///   - options: image limits, batch size, scratch folder, progress and warnings.
  /// - Throws: `AnomalyKitError` for a bad configuration or budget, and the
  ///   decoders' `ImageError` naming any image that cannot be read.
  public static func fit(
    normal: [URL], configuration: BankConfiguration = .imageDefault, weights: URL? = nil, options: FitOptions = FitOptions()
  ) async throws -> ImageAnomalyDetector {
    try await offloaded { try fit(normal: normal, configuration: configuration, weights: weights, options: options) }
  }

  /// Synchronous `fit(normal:configuration:weights:options:)`.
  public static func fit(
    normal: [URL], configuration: BankConfiguration = .imageDefault, weights: URL? = nil, options: FitOptions = FitOptions()
  ) throws -> ImageAnomalyDetector {
    let model = try EfficientNetLite.forFit(
      weights: try weights?.path ?? BundledWeights.path("efficientnet-lite0.safetensors"), configuration: configuration,
      normalPaths: normal.map(\.path), options: options)
    return try fit(normalPaths: normal.map(\.path), backbone: model, configuration: configuration, options: options)
  }

  /// Fits a bank on normal images with any `ImageBackbone`.
  ///
  /// `configuration.inputSize` must be nil or the backbone's `inputSize`:
  /// the backbone is built for one input size.
  public static func fit(
    normal: [URL], backbone: any ImageBackbone, configuration: BankConfiguration = .imageDefault, options: FitOptions = FitOptions()
  ) async throws -> ImageAnomalyDetector {
    try await offloaded { try fit(normalPaths: normal.map(\.path), backbone: backbone, configuration: configuration, options: options) }
  }

  /// Synchronous `fit(normal:backbone:configuration:options:)`.
  public static func fit(
    normal: [URL], backbone: any ImageBackbone, configuration: BankConfiguration = .imageDefault, options: FitOptions = FitOptions()
  ) throws -> ImageAnomalyDetector {
    try fit(normalPaths: normal.map(\.path), backbone: backbone, configuration: configuration, options: options)
  }

  /// Fits a bank on features from any source: an N×D matrix, one row per
  /// normal sample.
  ///
  /// The detector has no pipeline and scores features
  /// (`score(features:)`). Patch configurations need images and are refused.
  public static func fit(
    features: FeatureMatrix, configuration: BankConfiguration = .externalFeatures, options: FitOptions = FitOptions()
  ) throws -> ImageAnomalyDetector {
    guard !configuration.isPatchBank else {
      throw AnomalyKitError.invalidConfiguration("patch banks need images, not a feature matrix; use a configuration with features .pooled")
    }
    try configuration.validate()
    guard features.rows > 0, features.columns > 0 else {
      throw AnomalyKitError.invalidInput("features: expected an N×D matrix with N, D ≥ 1, found \(features.rows)×\(features.columns)")
    }
    return try fitting(
      features, images: features.rows, pipeline: nil, configuration: configuration,
      metadata: ["backbone": "external", "layer": "external"].merging(options.metadata) { $1 }, options: options)
  }

  /// The fit behind every public `fit`: features stream to a scratch file
  /// (`FeatureSpool`), so images are never all held in memory; only the
  /// rows the bank keeps are read back.
  package static func fit(
    normalPaths paths: [String], backbone: any ImageBackbone, configuration: BankConfiguration, options: FitOptions
  ) throws -> ImageAnomalyDetector {
    try configuration.validate()
    if let size = configuration.inputSize, size != backbone.inputSize {
      throw AnomalyKitError.invalidConfiguration(
        "inputSize \(size) differs from the backbone's input size \(backbone.inputSize); build the backbone at \(size) or set inputSize to nil")
    }
    if configuration.precision != backbone.precision {
      throw AnomalyKitError.invalidConfiguration(
        "precision \(configuration.precision.rawValue) differs from the backbone's precision \(backbone.precision.rawValue); build the backbone in \(configuration.precision.rawValue) or set precision to .\(backbone.precision.rawValue)")
    }
    guard !paths.isEmpty else { throw AnomalyKitError.invalidInput("no normal images given; a bank needs at least one") }
    let pipeline = try ImageBankPipeline(
      model: backbone, recipe: configuration.recipe, limits: options.limits, batchSize: options.batchSize)
    let scratch = options.scratchFolder ?? FileManager.default.temporaryDirectory.path
    let spool = try FeatureSpool(folder: scratch, columns: pipeline.featureDimension)
    try FitMemoryBudget(
      images: paths.count, rowsPerImage: pipeline.grid.height * pipeline.grid.width, columns: pipeline.featureDimension,
      k: configuration.k, coreset: configuration.coreset,
      method: configuration.coresetMethod
    ).check(budget: configuration.maxFitMemory ?? FitMemoryBudget.defaultBytes, scratchFolder: scratch)
    try pipeline.forEachFeatureBatch(paths, progress: options.progress) { try spool.append($0) }
    var metadata = pipeline.provenance.merging(options.metadata) { $1 }
    metadata["fit_images"] = String(paths.count)
    return try fitting(spool, images: paths.count, pipeline: pipeline, configuration: configuration, metadata: metadata, options: options)
  }

  /// Bank and threshold from features already extracted.
  static func fitting(
    _ features: some FeatureRows, images: Int, pipeline: ImageBankPipeline?, configuration c: BankConfiguration,
    metadata: [String: String], options: FitOptions
  ) throws -> ImageAnomalyDetector {
    if c.scorer.usesNeighbors && c.k > features.rows {
      throw AnomalyKitError.invalidConfiguration(
        "k = \(c.k) is larger than the bank (\(features.rows) features); use --k \(features.rows) or fewer")
    }
    var bank = try ImageBankPipeline.fitBank(
      features, scorer: c.scorer, k: c.k, coreset: c.coreset, coresetMethod: c.coresetMethod,
      coresetProjection: c.coresetProjection, transform: c.transform, metadata: metadata, seed: c.seed, dtype: c.bankDType)
    if let calibration = c.calibration {
      if images < 2 * calibration.folds {
        options.warning?("warning: only \(images) normal images for \(calibration.folds) calibration folds; the threshold is rough")
      }
      if images >= 2 {
        do {
          let pixels = pipeline.flatMap { $0.recipe.isPatchBank ? PixelThreshold(grid: $0.grid, inputSize: $0.model.inputSize) : nil }
          let (threshold, scores) = try ImageBankPipeline.calibrate(
            features, images: images, scorer: c.scorer, k: c.k, coreset: c.coreset, calibration: calibration,
            pooling: pipeline?.pooling, transform: c.transform, coresetMethod: c.coresetMethod,
            coresetProjection: c.coresetProjection, seed: c.seed, dtype: c.bankDType, rowScores: pixels.map { p in { _, grid in p.add(grid) } })
          bank.setThreshold(threshold, calibration: calibration, scores: scores.count)
          if let pixels, let t = pixels.threshold(fpr: c.pixelFPR) {
            bank.metadata["pixel_threshold"] = "\(t)"
            bank.metadata["pixel_fpr"] = "\(c.pixelFPR)"
            bank.metadata["pixel_threshold_method"] = PixelThreshold.method
          }
        } catch let error as DensityError {
          guard case .cannotCalibrate = error else { throw error }
          options.warning?("warning: \(error); verdicts will be null")
        }
      } else {
        options.warning?("warning: a single normal image cannot calibrate a threshold; verdicts will be null")
      }
    }
    return ImageAnomalyDetector(unchecked: bank, pipeline: pipeline)
  }

  // MARK: - Scoring

  /// Scores images: one result per image, in order, with the score, the
  /// verdict (nil without a threshold) and, for patch banks, the map of
  /// location scores.
  ///
  /// - Parameters:
  ///   - images: the images to score (PNG or JPEG).
  ///   - keepMaps: keep each image's location scores (patch banks);
  ///     without them memory does not grow with images × locations.
  /// - Throws: `AnomalyKitError.invalidInput` for a detector without a
  ///   pipeline, and `ImageError` naming an image that cannot be read.
  public func score(_ images: [URL], keepMaps: Bool = true) async throws -> [ImageScore] {
    try await offloaded { try score(images, keepMaps: keepMaps) }
  }

  /// Synchronous `score(_:keepMaps:)`.
  public func score(_ images: [URL], keepMaps: Bool = true) throws -> [ImageScore] {
    try score(paths: images.map(\.path), keepMaps: keepMaps, progress: nil)
  }

  /// `score(_:keepMaps:)` on file paths, with progress.
  package func score(paths: [String], keepMaps: Bool, progress: ((Int, Int) -> Void)?) throws -> [ImageScore] {
    guard let pipeline else {
      throw AnomalyKitError.invalidInput("this bank was fitted on external features; score features (score(features:)), not images")
    }
    return try pipeline.score(paths, bank: bank, keepMaps: keepMaps, progress: progress)
  }

  /// Each image's k nearest bank rows (each location's, for a patch bank):
  /// this bank's part of a sharded score. Write it with `NeighbourFile`
  /// and merge the shards' files with `ShardSet.merge`.
  ///
  /// - Throws: `AnomalyKitError.invalidInput` for a detector without a
  ///   pipeline; `DensityError.invalidArgument` for a scorer that does not
  ///   shard (`ScorerKind.shardingRefusal`); `ImageError` naming an image
  ///   that cannot be read.
  public func neighbours(_ images: [URL]) throws -> NeighbourList {
    try neighbours(paths: images.map(\.path), progress: nil)
  }

  /// `neighbours(_:)` on file paths, with progress.
  package func neighbours(paths: [String], progress: ((Int, Int) -> Void)?) throws -> NeighbourList {
    guard let pipeline else {
      throw AnomalyKitError.invalidInput("this bank was fitted on external features; use bank.neighbours(features), not images")
    }
    return try pipeline.neighbours(paths, bank: bank, progress: progress)
  }

  /// Scores feature rows (an N×D matrix in the bank's feature space).
  ///
  /// - Parameters:
  ///   - features: the rows to score, one per sample.
  ///   - source: names the rows in error messages.
  public func score(features: FeatureMatrix, source: String = "features") throws -> [Float] {
    try bank.score(features, source: source)
  }

  // MARK: - Growing

  /// Adds normal images to the bank, recomputing derived state (centre,
  /// Gaussian) and, for image banks with a threshold, recalibrating it over
  /// all normals with the same settings. Patch banks keep their threshold
  /// (their per-image grouping is not stored).
  public mutating func add(_ images: [URL]) async throws {
    let grown = try await offloaded { [self] in try self.adding(paths: images.map(\.path), progress: nil) }
    self = grown
  }

  /// Synchronous `add(_:)`.
  public mutating func add(_ images: [URL]) throws {
    self = try adding(paths: images.map(\.path), progress: nil)
  }

  /// `add(_:)` on file paths, with progress; returns the grown detector.
  package func adding(paths: [String], progress: ((Int, Int) -> Void)?) throws -> ImageAnomalyDetector {
    guard let pipeline else {
      throw AnomalyKitError.invalidInput("this bank was fitted on external features; add features (add(features:)), not images")
    }
    return try adding(try pipeline.features(paths, progress: progress), images: paths.count, source: "new images")
  }

  /// Adds rows of normal features (the bank's feature space).
  public mutating func add(features: FeatureMatrix, source: String = "new normal features") throws {
    self = try adding(features, images: features.rows, source: source)
  }

  func adding(_ features: FeatureMatrix, images: Int, source: String) throws -> ImageAnomalyDetector {
    var grown = try bank.adding(features, source: source)
    grown.metadata["fit_images"] = String((Int(grown.metadata["fit_images"] ?? "") ?? 0) + images)
    // The grown bank keeps the threshold's metadata: recalibrate it with the same settings.
    if !isPatchBank, let calibration = ImageAnomalyDetector(unchecked: grown, pipeline: pipeline).thresholdCalibration {
      let all = grown.features
      let (t, scores) = try ImageBankPipeline.calibrate(
        all, images: all.rows, scorer: grown.scorer, k: grown.k, coreset: nil, calibration: calibration, pooling: nil, dtype: grown.dtype)
      grown.setThreshold(t, calibration: calibration, scores: scores.count)
    }
    return ImageAnomalyDetector(unchecked: grown, pipeline: pipeline)
  }

  // MARK: - Persistence

  /// Writes the bank (safetensors) atomically: a crash leaves any previous
  /// file intact.
  public func save(to url: URL) throws {
    try BankFile.write(bank, to: url.path, toolkitVersion: ToolkitVersion.current)
  }

  /// Loads a bank with the bundled EfficientNet-Lite0 (or `weights`), at the
  /// input size and in the precision the bank was fitted in.
  ///
  /// A bank fitted on external features loads without a pipeline and
  /// scores features only.
  ///
  /// - Parameters:
  ///   - url: the bank file.
  ///   - weights: EfficientNet-Lite weights; nil finds the bundled file.
  ///   - limits: limits on decoded images.
  ///   - batchSize: images per forward pass.
  ///   - precision: run the backbone in this precision; nil follows the bank.
  ///   - allowMixedPrecision: accept a `precision` other than the bank's.
  /// - Throws: the bank file's errors, `DensityError.incompatibleBank`
  ///   when the weights differ from those the bank was fitted with, and
  ///   `PrecisionError` for a precision other than the bank's (without
  ///   `allowMixedPrecision`) or one this CPU cannot run.
  public static func load(
    from url: URL, weights: URL? = nil, limits: ImageLimits = ImageLimits(), batchSize: Int = 32,
    precision: ComputePrecision? = nil, allowMixedPrecision: Bool = false
  ) throws -> ImageAnomalyDetector {
    try load(
      path: url.path, weights: weights?.path, limits: limits, batchSize: batchSize, precision: precision,
      allowMixedPrecision: allowMixedPrecision)
  }

  /// `load(from:weights:limits:batchSize:precision:allowMixedPrecision:)` on
  /// paths as given on a command line.
  package static func load(
    path: String, weights: String?, limits: ImageLimits, batchSize: Int, precision: ComputePrecision? = nil,
    allowMixedPrecision: Bool = false
  ) throws -> ImageAnomalyDetector {
    let bank = try BankFile.read(path: path)
    guard bank.metadata["backbone"] != "external" else { return ImageAnomalyDetector(unchecked: bank, pipeline: nil) }
    let chosen = try ComputePrecision.resolve(
      requested: precision, recorded: try ComputePrecision(metadata: bank.metadata, path: path), path: path,
      allowMixed: allowMixedPrecision)
    // The bank's input size wins: features must be extracted as at fit time.
    let model = try EfficientNetLite.forStored(
      weights: try weights ?? BundledWeights.path("efficientnet-lite0.safetensors"), inputSize: Int(bank.metadata["input_size"] ?? ""),
      precision: chosen, metadata: bank.metadata, path: path)
    return try load(bank, path: path, backbone: model, limits: limits, batchSize: batchSize, allowMixedPrecision: allowMixedPrecision)
  }

  /// Loads a bank fitted with `backbone` (same architecture, weights, input
  /// size and precision).
  ///
  /// - Parameters:
  ///   - url: the bank file.
  ///   - backbone: the backbone the bank was fitted with.
  ///   - limits: limits on decoded images.
  ///   - batchSize: images per forward pass.
  ///   - allowMixedPrecision: accept a backbone whose precision differs from
  ///     the bank's.
  /// - Throws: the bank file's errors, `DensityError.incompatibleBank` for
  ///   another architecture, other weights or another feature width,
  ///   `PrecisionError.mixed` for another precision, and
  ///   `AnomalyKitError.mismatch` for another input size or a bank of
  ///   external features.
  public static func load(
    from url: URL, backbone: any ImageBackbone, limits: ImageLimits = ImageLimits(), batchSize: Int = 32,
    allowMixedPrecision: Bool = false
  ) throws -> ImageAnomalyDetector {
    try load(
      try BankFile.read(path: url.path), path: url.path, backbone: backbone, limits: limits, batchSize: batchSize,
      allowMixedPrecision: allowMixedPrecision)
  }

  /// A loaded bank and the pipeline its recipe asks for.
  package static func load(
    _ bank: ReferenceBank, path: String, backbone: any ImageBackbone, limits: ImageLimits, batchSize: Int,
    allowMixedPrecision: Bool = false
  ) throws -> ImageAnomalyDetector {
    guard bank.metadata["backbone"] != "external" else {
      throw AnomalyKitError.mismatch("\(path): bank was fitted on external features (--from-npy); score it with --from-npy too")
    }
    if let size = Int(bank.metadata["input_size"] ?? ""), size != backbone.inputSize {
      throw AnomalyKitError.mismatch("\(path): bank was fitted at input size \(size), the backbone is built for \(backbone.inputSize)")
    }
    let recipe = try BankRecipe(metadata: bank.metadata, path: path)
    let pipeline = try ImageBankPipeline(model: backbone, recipe: recipe, limits: limits, batchSize: batchSize)
    try checkCompatible(bank, path: path, pipeline: pipeline, allowMixedPrecision: allowMixedPrecision)
    return ImageAnomalyDetector(unchecked: bank, pipeline: pipeline)
  }

  /// Throws unless `pipeline` makes the features `bank` was fitted on:
  /// backbone, weights, feature width and (unless `allowMixedPrecision`)
  /// precision.
  static func checkCompatible(_ bank: ReferenceBank, path: String, pipeline: ImageBankPipeline, allowMixedPrecision: Bool) throws {
    let model = pipeline.model
    try BankFile.checkCompatible(
      bank, path: path, expected: ["backbone": model.architecture, "weights_sha256": model.weightsSHA256],
      dimension: pipeline.featureDimension)
    try model.precision.checkMatches(
      ComputePrecision(metadata: bank.metadata, path: path), path: path, allowMixed: allowMixedPrecision)
    try model.checkCalibration(against: bank.metadata, path: path, allowMixed: allowMixedPrecision)
  }
}
