import FeatureExtraction
import ParallelCompute

/// Reads images and measures the deepfake cues on them: decode, harmonise
/// the compression (one JPEG round trip at a fixed quality, see
/// `CompressionHarmonizer`), take the `ForensicCrop`, then compute
/// `ForensicStatistics` and, when a reading needs them, the backbone's
/// `PerturbationProbe` and Tiny-LaDeDa (on the whole harmonised image,
/// which it resizes to 256 × 256 itself).
public struct CueExtractor: Sendable {
  /// The cue readings measured, in the order of `Measurement.values`.
  public let readings: [CueReading]
  /// The JPEG round trip applied to every image before the crop (nil: none).
  public let harmonizer: CompressionHarmonizer?
  /// The backbone's perturbation cues; needed when a reading uses the
  /// network (`rigid_*`, `minder_*`).
  public let probe: PerturbationProbe?
  /// Tiny-LaDeDa; needed when a reading is `tiny_ladeda`.
  public let tinyLaDeDa: TinyLaDeDa?
  /// Pixel budget checked before decoding, in `measure(paths:workers:)`.
  public var limits: ImageLimits

  /// One image's measurements.
  public struct Measurement: Sendable {
    /// In the order of `readings`.
    public var values: [Double]
    /// The crop's side in pixels.
    public var side: Int
    /// The `rigid_s3` distance per stage-3 cell, row-major `grid × grid`,
    /// for heatmaps (nil without network cues).
    public var rigidMap: [Float]?
    /// The `minder_s3` distance per stage-3 cell, row-major `grid × grid`,
    /// for heatmaps (nil without network cues).
    public var minderMap: [Float]?
    /// Side of the stage-3 grid of `rigidMap` and `minderMap` (0 without
    /// network cues).
    public var grid: Int
  }

  /// An extractor for `readings`, with the models they need.
  ///
  /// - Throws: `DeepfakeError.invalidArgument` when a reading needs the
  ///   backbone or Tiny-LaDeDa and it is nil.
  public init(
    readings: [CueReading], harmonizer: CompressionHarmonizer?, probe: PerturbationProbe?, tinyLaDeDa: TinyLaDeDa? = nil,
    limits: ImageLimits = ImageLimits()
  ) throws {
    if probe == nil, let r = readings.first(where: { $0.cue.needsNetwork }) {
      throw DeepfakeError.invalidArgument("cue '\(r.cue.rawValue)' needs the EfficientNet-Lite0 weights")
    }
    if tinyLaDeDa == nil, readings.contains(where: \.needsTinyLaDeDa) {
      throw DeepfakeError.invalidArgument(
        "cue 'tiny_ladeda' needs --tiny-ladeda WEIGHTS: the LaDeDa authors' research-licensed checkpoint, converted by "
          + "`python3 Weights/convert.py tiny-ladeda --pth WildRF_Tiny_LaDeDa.pth --out tiny-ladeda-wildrf.safetensors`")
    }
    self.readings = readings
    self.harmonizer = harmonizer
    self.probe = probe
    self.tinyLaDeDa = tinyLaDeDa
    self.limits = limits
  }

  /// Measures a decoded image; `path` names it in errors.
  public func measure(_ image: RGBImage, path: String) throws -> Measurement {
    let harmonised = try harmonizer.map { try $0.apply(image, path: path) } ?? image
    let crop = try ForensicCrop.apply(harmonised, path: path)
    let stats = ForensicStatistics(crop: crop)
    var net: PerturbationProbe.Output?
    if let probe, readings.contains(where: { $0.cue.needsNetwork }) {
      net = try probe.measure(crop: crop, pooled: readings.contains { $0.cue.needsPooled })
    }
    let tinyLogit = readings.contains(where: \.needsTinyLaDeDa) ? tinyLaDeDa.map { Double($0.score(harmonised).meanLogit) } : nil
    let values: [Double] = readings.map { r in
      switch r.cue {
      case .band01: return stats.band01
      case .band12: return stats.band12
      case .noise: return stats.noise
      case .period2: return stats.period2
      case .grid8: return stats.grid8
      case .chroma: return stats.chroma
      case .rigidS3: return net?.rigidS3 ?? .nan
      case .minderS3: return net?.minderS3 ?? .nan
      case .rigidPooled: return net?.rigidPooled ?? .nan
      case .minderPooled: return net?.minderPooled ?? .nan
      case .tinyLaDeDa: return tinyLogit ?? .nan
      }
    }
    return Measurement(values: values, side: crop.width, rigidMap: net?.rigidMap, minderMap: net?.minderMap, grid: net?.grid ?? 0)
  }

  /// Decodes and measures `paths` on `workers` threads, in input order;
  /// the first failing image (in input order) throws, naming its file.
  public func measure(paths: [String], workers: Int = ParallelFor.defaultWorkers) throws -> [Measurement] {
    let slots = ResultSlots<Measurement>(count: paths.count)
    ParallelFor.useSingleThreadedBLAS()
    ParallelFor.chunks(count: paths.count, workers: max(1, workers)) { range in
      for i in range {
        slots.set(i, Result { try self.measure(ImageDecoder.decode(path: paths[i], limits: self.limits), path: paths[i]) })
      }
    }
    return try slots.values()
  }
}
