import Density
import Foundation

/// A real-only deepfake detector: generated images as anomalies against
/// real photos, fitted without a single fake (FACTOR's "no fakes seen").
///
/// It keeps, per `CueReading`, the reals' median and spread
/// (`RealOnlyCalibration`), and scores a new image by Fisher's fusion of its
/// cues' tail probabilities. The verdict threshold is the `1 − fpr` quantile
/// of the fused score over the reals, each scored **out of fold** (two folds,
/// alternating in input order: each half is scored against the calibration
/// of the other), so the reals' false-alarm rate is not underestimated by
/// scoring them against themselves.
///
/// The default readings were chosen by leave-one-generator-out and
/// leave-one-real-source-out over this project's development data
/// (`Notebooks-export/deepfake.md`, `scripts/eval_deepfake_lodo.py`).
public struct DeepfakeDetector: Sendable {
  /// Recipe name stored in the file; `deepfake score` refuses anything else.
  public static let recipe = "real-only-cues/1"
  /// The readings chosen by the held-out protocol on all the development
  /// data (greedy forward selection of cue and tail by mean generator AUROC
  /// minus the worst provenance error, over JPEG 90/75 at native size and
  /// 2× downscaled): sensor noise relative to structure, too *low* (generated
  /// images are smoother than photos), and the pooled feature's shift under
  /// a slight blur, too *high*. Held out, this is a weak screen, not a
  /// verdict: see `Notebooks-export/deepfake.md`.
  public static let defaultReadings: [CueReading] = [CueReading(.noise, .lower), CueReading(.minderPooled, .upper)]
  /// The readings the same selection chose when Tiny-LaDeDa's logit was
  /// one of the candidates (the user supplies its weights): that cue alone,
  /// upper tail, calibrated on the user's reals.
  public static let defaultReadingsWithTinyLaDeDa: [CueReading] = [CueReading(.tinyLaDeDa, .upper)]
  /// Default JPEG quality of the compression harmonisation (90).
  public static let defaultHarmonizeJPEG = 90
  /// Default false-positive rate on reals that the threshold is set for (0.05).
  public static let defaultFPR = 0.05
  /// Reals needed to fit: at least 4 per calibration fold.
  public static let minimumReals = 8

  /// Each reading's median and scale over all the reals.
  public var calibration: RealOnlyCalibration
  /// The reals' cue values (`count × readings`), kept so that a detector can
  /// be recalibrated or inspected without the images.
  public var realValues: [[Double]]
  /// Fused-score threshold: images scoring above it are flagged as
  /// generated.
  public var threshold: Double
  /// The false-positive rate on reals that `threshold` was set for, in (0, 1).
  public var fpr: Double
  /// JPEG quality every image is re-encoded at before the cues (nil: none).
  public var harmonizeJPEG: Int?
  /// Provenance (backbone, weights hash, toolkit version, fit images).
  public var metadata: [String: String]

  /// The cue readings, in the order of the cue values (`calibration.readings`).
  public var readings: [CueReading] { calibration.readings }

  /// Fits on the cue values of real images only.
  ///
  /// - Throws: `DeepfakeError.notEnoughReals` below `minimumReals`;
  ///   `.invalidArgument` for an `fpr` outside (0, 1) or a non-finite value.
  public init(
    readings: [CueReading], reals values: [[Double]], fpr: Double = DeepfakeDetector.defaultFPR, harmonizeJPEG: Int?,
    metadata: [String: String] = [:]
  ) throws {
    guard values.count >= Self.minimumReals else { throw DeepfakeError.notEnoughReals(count: values.count, needed: Self.minimumReals) }
    guard fpr > 0, fpr < 1 else { throw DeepfakeError.invalidArgument("--fpr must be in (0, 1), got \(fpr)") }
    guard values.allSatisfy({ $0.count == readings.count && $0.allSatisfy(\.isFinite) }) else {
      throw DeepfakeError.invalidArgument("every real image needs one finite value per cue reading")
    }
    calibration = RealOnlyCalibration(readings: readings, reals: values)
    realValues = values
    self.fpr = fpr
    self.harmonizeJPEG = harmonizeJPEG
    self.metadata = metadata
    threshold = 0
    threshold = Self.crossFittedThreshold(readings: readings, reals: values, fpr: fpr)
  }

  init(
    calibration: RealOnlyCalibration, realValues: [[Double]], threshold: Double, fpr: Double, harmonizeJPEG: Int?,
    metadata: [String: String]
  ) {
    self.calibration = calibration
    self.realValues = realValues
    self.threshold = threshold
    self.fpr = fpr
    self.harmonizeJPEG = harmonizeJPEG
    self.metadata = metadata
  }

  /// The `1 − fpr` quantile of the reals' out-of-fold fused scores.
  static func crossFittedThreshold(readings: [CueReading], reals: [[Double]], fpr: Double) -> Double {
    var scores: [Float] = []
    for fold in 0..<2 {
      let train = reals.indices.filter { $0 % 2 != fold }.map { reals[$0] }
      let held = reals.indices.filter { $0 % 2 == fold }.map { reals[$0] }
      let c = RealOnlyCalibration(readings: readings, reals: train)
      scores += held.map { Float(c.evidence($0).fused) }
    }
    return Double(Metrics.quantile(scores, 1 - fpr) ?? 0)
  }

  /// One image's result.
  public struct Score: Sendable {
    /// Fisher's fused score `T` (higher: more likely generated).
    public var fused: Double
    /// Per reading: the cue value.
    public var values: [Double]
    /// Per reading: `z = (v − m) / s` against the reals' median and scale.
    public var z: [Double]
    /// Per reading: the evidence `−2 log p`, `p` the tail probability of `z`.
    public var evidence: [Double]
    /// Whether `fused` is above the detector's `threshold`.
    public var isGenerated: Bool
  }

  /// Scores one image's cue values, one per reading in the order of `readings`.
  public func score(_ values: [Double]) -> Score {
    let e = calibration.evidence(values)
    return Score(fused: e.fused, values: values, z: e.z, evidence: e.evidence, isGenerated: e.fused > threshold)
  }
}

extension DeepfakeDetector {
  /// Resets the threshold to another false-positive rate on the stored reals.
  public mutating func recalibrate(fpr: Double) throws {
    guard fpr > 0, fpr < 1 else { throw DeepfakeError.invalidArgument("--fpr must be in (0, 1), got \(fpr)") }
    self.fpr = fpr
    threshold = Self.crossFittedThreshold(readings: readings, reals: realValues, fpr: fpr)
  }
}
