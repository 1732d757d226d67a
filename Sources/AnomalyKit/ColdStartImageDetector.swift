import Density
import FeatureExtraction
import Foundation

/// An image anomaly detector that starts cold from the names of the normal
/// classes, as classes of a classifier backbone (ImageNet for
/// EfficientNet-Lite0), and adapts to unlabelled images as they arrive
/// (ColdFusion).
///
/// ```swift
/// var detector = try ColdStartImageDetector(classes: ["espresso", "cup"])
/// try await detector.observe(todaysPhotos)            // contaminated, unlabelled
/// let scores = try await detector.score(newPhotos)
/// ```
///
/// Each class's zero-shot prototype is its classifier row `W[c, :]`, which
/// lives in the pooled feature's space (`logit_c = W[c,:]·f + b_c`).
/// Images embed as pooled backbone features; observations move the
/// prototypes as `ColdStartConfiguration.image` says (the "fused" rule:
/// zero-shot and adapted scores, each standardised on the kept
/// observations, summed). The file is the one `anomalykit adapt
/// --imagenet-classes` writes, byte for byte.
public struct ColdStartImageDetector: Sendable {
  /// The prototypes, observations, adaptation state and threshold.
  public private(set) var detector: ColdStartDetector
  /// How images become pooled features.
  public let pipeline: ImageBankPipeline

  /// A detector for the normal `classes` of `backbone`'s classifier.
  ///
  /// - Parameters:
  ///   - classes: class names (case-insensitive) or indices, e.g. `["espresso", "967"]`.
  ///   - backbone: a classifier backbone; nil loads the bundled EfficientNet-Lite0.
  ///   - resize: how images become square inputs.
  ///   - flipAverage: average each image's feature with its mirror image's.
  ///   - configuration: metric, rule, trim and κ (`ColdStartConfiguration.image`).
  ///   - limits: limits on decoded images.
  ///   - batchSize: images per forward pass.
  /// - Throws: `AnomalyKitError.invalidInput` for an unknown class or an empty list.
  public init(
    classes: [String], backbone: (any ImageClassifierBackbone)? = nil, resize: ResizePolicy = .crop, flipAverage: Bool = false,
    configuration: ColdStartConfiguration = .image, limits: ImageLimits = ImageLimits(), batchSize: Int = 32
  ) throws {
    let model = try backbone ?? EfficientNetLite(path: try BundledWeights.path("efficientnet-lite0.safetensors"))
    pipeline = try ImageBankPipeline(
      model: model, recipe: BankRecipe(features: .pooled, resize: resize, flipAverage: flipAverage), limits: limits, batchSize: batchSize)
    let indices = try Self.resolve(classes, names: model.classNames)
    detector = try ColdStartDetector(
      classNames: indices.map { model.classNames[$0] },
      prototypes: FeatureMatrix(rows: indices.count, columns: model.featureDimension, values: model.classifierRows(indices)),
      metric: configuration.metric, trim: configuration.trim, rule: configuration.rule, kappa: configuration.kappa,
      metadata: ObservationEncoder.image(pipeline).provenance)
  }

  /// Wraps a stored image detector and the pipeline that embeds its inputs.
  package init(_ detector: ColdStartDetector, pipeline: ImageBankPipeline) {
    self.detector = detector
    self.pipeline = pipeline
  }

  /// Class indices for names (case-insensitive) or indices.
  ///
  /// - Throws: `AnomalyKitError.invalidInput` naming an unknown class or index.
  public static func resolve(_ classes: [String], names: [String]) throws -> [Int] {
    let items = classes.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard !items.isEmpty else { throw AnomalyKitError.invalidInput("--imagenet-classes: no classes given") }
    let lookup = Dictionary(names.enumerated().map { ($0.element.lowercased(), $0.offset) }, uniquingKeysWith: { a, _ in a })
    return try items.map { item in
      if let i = Int(item) {
        guard i >= 0, i < names.count else {
          throw AnomalyKitError.invalidInput("--imagenet-classes: index \(i) is outside 0…\(names.count - 1)")
        }
        return i
      }
      guard let i = lookup[item.lowercased()] else {
        throw AnomalyKitError.invalidInput("--imagenet-classes: unknown class '\(item)' (see Weights/imagenet-classes.txt, or use indices)")
      }
      return i
    }
  }

  /// The calibrated threshold, or nil before
  /// `ColdStartDetector.minimumObservationsForThreshold` observations.
  public var threshold: Float? { detector.threshold }

  /// Adapts to unlabelled images (possibly contaminated by anomalies).
  public mutating func observe(_ images: [URL]) async throws {
    let adapted = try await offloaded { [self] in
      var next = self
      try next.observe(images)
      return next
    }
    self = adapted
  }

  /// Synchronous `observe(_:)`.
  public mutating func observe(_ images: [URL]) throws {
    guard !images.isEmpty else { throw AnomalyKitError.invalidInput("observations: no images given") }
    detector = try detector.adapting(pipeline.features(images.map(\.path)), source: "observations")
  }

  /// Scores images: distance to the nearest prototype, that class, and
  /// the verdict (nil without a threshold); each result's `input` is the
  /// image's path.
  public func score(_ images: [URL], zeroShot: Bool = false) async throws -> [ColdStartScore] {
    try await offloaded { [self] in try self.score(images, zeroShot: zeroShot) }
  }

  /// Synchronous `score(_:zeroShot:)`.
  public func score(_ images: [URL], zeroShot: Bool = false) throws -> [ColdStartScore] {
    guard !images.isEmpty else { return [] }
    let nearest = try detector.nearest(pipeline.features(images.map(\.path)), zeroShot: zeroShot)
    let threshold = zeroShot ? nil : detector.threshold
    return images.indices.map { i in
      ColdStartScore(
        input: images[i].path, score: nearest.distances[i], anomalous: threshold.map { nearest.distances[i] > $0 },
        nearestClass: detector.classNames[nearest.indices[i]])
    }
  }

  /// Writes the detector atomically (safetensors).
  public func save(to url: URL) throws {
    try DetectorFile.write(detector, to: url.path, toolkitVersion: ToolkitVersion.current)
  }

  /// Reads an image detector with the bundled EfficientNet-Lite0 (or `weights`).
  ///
  /// - Throws: `AnomalyKitError.mismatch` for a text detector or other weights.
  public static func load(from url: URL, weights: URL? = nil, limits: ImageLimits = ImageLimits()) throws -> ColdStartImageDetector {
    let stored = try DetectorFile.read(path: url.path)
    guard stored.metadata["modality"] == "image" else {
      throw AnomalyKitError.mismatch("\(url.path): this is a \(stored.metadata["modality"] ?? "unknown") detector, not an image detector")
    }
    guard case .image(let pipeline) = try ObservationEncoder.forDetector(stored, path: url.path, imageWeights: weights?.path, limits: limits)
    else { throw AnomalyKitError.mismatch("\(url.path): not an image detector") }
    return ColdStartImageDetector(stored, pipeline: pipeline)
  }
}
