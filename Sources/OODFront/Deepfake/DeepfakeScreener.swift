import AnomalyKit
import FeatureExtraction
import Foundation
import TensorFiles

/// Deepfake screening with real photographs only: fit on reals, flag
/// images whose forensic cues fall in the reals' tails. No generated image
/// is needed, or seen, to fit.
///
/// ```swift
/// let screener = try await DeepfakeScreener.fit(real: realURLs)
/// for s in try await screener.score(uploads) where s.isGenerated {
///   print(s.path, s.score)
/// }
/// try screener.save(to: URL(fileURLWithPath: "screener.safetensors"))
/// ```
///
/// The screener pairs a `DeepfakeDetector` (each cue's median and MAD on
/// reals, tail probabilities fused by Fisher's method `T = −2 Σ log p`,
/// a threshold cross-fitted on reals at the configured false-positive
/// rate) with the `CueExtractor` that measures those cues. Its file is the
/// one `anomalykit deepfake fit` writes from the same images, byte for byte.
///
/// Held out, the default cues reach a generator AUROC of about 0.58 across
/// eleven generator groups (Notebooks-export/deepfake.md): a screening aid
/// that ranks images for review, not a verdict.
public struct DeepfakeScreener: Sendable {
  /// What to measure and how to calibrate.
  public struct Configuration: Sendable {
    /// Cues and the tail each is read in; nil picks
    /// `DeepfakeDetector.defaultReadings`, or
    /// `defaultReadingsWithTinyLaDeDa` when `tinyLaDeDaWeights` is given.
    public var readings: [CueReading]?
    /// JPEG quality every image is re-encoded at before measuring, so reals
    /// and fakes share one compression history; nil measures as decoded.
    public var harmonizeJPEG: Int?
    /// Target false-positive rate on reals.
    public var fpr: Double
    /// EfficientNet-Lite0 weights for the network cues; nil finds the bundled file.
    public var backboneWeights: URL?
    /// Tiny-LaDeDa weights (research licence, never bundled) for the
    /// `tiny_ladeda` cue.
    public var tinyLaDeDaWeights: URL?
    /// Limits on each decoded image.
    public var limits: ImageLimits

    /// A configuration; the defaults are those of `anomalykit deepfake fit`.
    public init(
      readings: [CueReading]? = nil, harmonizeJPEG: Int? = DeepfakeDetector.defaultHarmonizeJPEG,
      fpr: Double = DeepfakeDetector.defaultFPR, backboneWeights: URL? = nil, tinyLaDeDaWeights: URL? = nil,
      limits: ImageLimits = ImageLimits()
    ) {
      self.readings = readings
      self.harmonizeJPEG = harmonizeJPEG
      self.fpr = fpr
      self.backboneWeights = backboneWeights
      self.tinyLaDeDaWeights = tinyLaDeDaWeights
      self.limits = limits
    }

    /// The readings this configuration measures.
    public var resolvedReadings: [CueReading] {
      readings ?? (tinyLaDeDaWeights != nil ? DeepfakeDetector.defaultReadingsWithTinyLaDeDa : DeepfakeDetector.defaultReadings)
    }
  }

  /// The calibrated detector (what the file holds).
  public private(set) var detector: DeepfakeDetector
  /// The cue extractor matching the detector's readings and weights.
  public let extractor: CueExtractor

  /// Pairs a detector with an extractor, checking they measure the same
  /// cues with the same weights.
  ///
  /// - Throws: `AnomalyKitError.mismatch` naming the weights that differ.
  public init(detector: DeepfakeDetector, extractor: CueExtractor, path: String = "detector") throws {
    guard detector.readings == extractor.readings else {
      throw AnomalyKitError.mismatch("\(path): the detector reads other cues than the extractor measures")
    }
    let have = try extractor.provenance()
    for (key, flag) in [("weights_sha256", "--weights"), ("tiny_ladeda_sha256", "--tiny-ladeda")] {
      if let want = detector.metadata[key], let now = have[key], want != now {
        throw AnomalyKitError.mismatch(
          "\(path): fitted with \(flag) weights \(want.prefix(12))…, but these are \(now.prefix(12))…; pass the same \(flag) as at fit time")
      }
    }
    self.detector = detector
    self.extractor = extractor
  }

  /// Fits on real images only.
  ///
  /// - Parameters:
  ///   - real: at least `DeepfakeDetector.minimumReals` real images.
  ///   - configuration: cues, harmonisation, false-positive rate and weights.
  ///   - progress: called with (images done, images in all).
  /// - Throws: `DeepfakeError.notEnoughReals`, and the decoders' errors naming any unreadable image.
  public static func fit(
    real: [URL], configuration: Configuration = Configuration(), progress: (@Sendable (Int, Int) -> Void)? = nil
  ) async throws -> DeepfakeScreener {
    try await offloaded { try fit(realPaths: real.map(\.path), configuration: configuration, progress: progress) }
  }

  /// Synchronous `fit(real:configuration:progress:)` on file paths.
  public static func fit(
    realPaths paths: [String], configuration: Configuration = Configuration(), progress: ((Int, Int) -> Void)? = nil
  ) throws -> DeepfakeScreener {
    guard paths.count >= DeepfakeDetector.minimumReals else {
      throw DeepfakeError.notEnoughReals(count: paths.count, needed: DeepfakeDetector.minimumReals)
    }
    let readings = configuration.resolvedReadings
    let extractor = try CueExtractor.make(
      readings: readings, harmonizeJPEG: configuration.harmonizeJPEG, backboneWeights: configuration.backboneWeights?.path,
      tinyLaDeDaWeights: configuration.tinyLaDeDaWeights?.path, limits: configuration.limits)
    let measured = try extractor.measure(paths: paths, progress: progress)
    var metadata = try extractor.provenance()
    metadata["toolkit_version"] = ToolkitVersion.current
    let detector = try DeepfakeDetector(
      readings: readings, reals: measured.map(\.values), fpr: configuration.fpr, harmonizeJPEG: configuration.harmonizeJPEG,
      metadata: metadata)
    return try DeepfakeScreener(detector: detector, extractor: extractor)
  }

  /// Scores images: Fisher's fused evidence, the verdict at the threshold,
  /// and each cue's value, z and evidence.
  public func score(_ images: [URL]) async throws -> [DeepfakeScore] {
    try await offloaded { [self] in try self.score(paths: images.map(\.path), progress: nil).scores }
  }

  /// Synchronous scoring of file paths; also returns the raw measurements
  /// (crop side, stage-3 maps for heatmaps).
  public func score(paths: [String], progress: ((Int, Int) -> Void)? = nil) throws -> (
    scores: [DeepfakeScore], measurements: [CueExtractor.Measurement]
  ) {
    let measured = try extractor.measure(paths: paths, progress: progress)
    let scores = zip(paths, measured).map { path, m in DeepfakeScore(path: path, score: detector.score(m.values)) }
    return (scores, measured)
  }

  /// Moves the threshold to another false-positive rate on the stored reals.
  public mutating func recalibrate(fpr: Double) throws { try detector.recalibrate(fpr: fpr) }

  /// Writes the detector atomically (safetensors).
  public func save(to url: URL) throws { try detector.write(to: url.path) }

  /// Reads a detector and builds its extractor (bundled backbone unless
  /// `backboneWeights`; `tinyLaDeDaWeights` when it reads that cue).
  public static func load(
    from url: URL, backboneWeights: URL? = nil, tinyLaDeDaWeights: URL? = nil, limits: ImageLimits = ImageLimits()
  ) throws -> DeepfakeScreener {
    let detector = try DeepfakeDetector.read(path: url.path)
    let extractor = try CueExtractor.make(
      readings: detector.readings, harmonizeJPEG: detector.harmonizeJPEG, backboneWeights: backboneWeights?.path,
      tinyLaDeDaWeights: tinyLaDeDaWeights?.path, limits: limits)
    return try DeepfakeScreener(detector: detector, extractor: extractor, path: url.path)
  }
}

/// The verdict on one image.
public struct DeepfakeScore: Sendable {
  /// The image scored.
  public let path: String
  /// Fused score, verdict and per-cue evidence.
  public let score: DeepfakeDetector.Score

  /// Fisher's fused evidence (higher is more unlike the reals).
  public var fused: Double { score.fused }
  /// Whether the fused evidence is above the threshold.
  public var isGenerated: Bool { score.isGenerated }
}

extension CueExtractor {
  /// The extractor for `readings`, loading the backbone (bundled unless
  /// `backboneWeights`) and Tiny-LaDeDa only when a reading needs them.
  ///
  /// - Throws: `TinyLaDeDaError`/`DeepfakeError` when a `tiny_ladeda`
  ///   reading has no weights, and the weight files' errors.
  public static func make(
    readings: [CueReading], harmonizeJPEG: Int?, backboneWeights: String? = nil, tinyLaDeDaWeights: String? = nil,
    limits: ImageLimits = ImageLimits()
  ) throws -> CueExtractor {
    let probe = try readings.contains(where: \.needsNetwork)
      ? PerturbationProbe(weights: backboneWeights ?? BundledWeights.path("efficientnet-lite0.safetensors")) : nil
    let tiny = try readings.contains(where: \.needsTinyLaDeDa) ? tinyLaDeDaWeights.map { try TinyLaDeDa(path: $0) } : nil
    return try CueExtractor(
      readings: readings, harmonizer: try harmonizeJPEG.map { try CompressionHarmonizer(quality: $0) }, probe: probe,
      tinyLaDeDa: tiny, limits: limits)
  }

  /// Provenance of the weights this extractor uses, for the detector file:
  /// the backbone's architecture and SHA-256, and Tiny-LaDeDa's SHA-256.
  public func provenance() throws -> [String: String] {
    var m: [String: String] = [:]
    if let probe {
      m["backbone"] = probe.architecture
      m["weights_sha256"] = probe.weightsSHA256
    }
    if let tinyLaDeDa { m["tiny_ladeda_sha256"] = try SafeTensorsFile(path: tinyLaDeDa.path).sha256() }
    return m
  }

  /// Measures `paths` in batches of 16, in order, calling `progress` with
  /// (images done, images in all) after each batch.
  public func measure(paths: [String], progress: ((Int, Int) -> Void)?) throws -> [Measurement] {
    var out: [Measurement] = []
    var start = 0
    while start < paths.count {
      let end = min(paths.count, start + 16)
      out += try measure(paths: Array(paths[start..<end]))
      progress?(end, paths.count)
      start = end
    }
    return out
  }
}
