/// How an adapted detector scores (see `ColdFusionAdaptation` for the math).
public enum ColdStartRule: String, Sendable, CaseIterable {
  /// `min_k f_k d(x, p_k)`: shrunk medians with predictive calibration (default).
  case predictive
  /// `min_k d(x, z̃_k)`: the paper's ColdFusion medians.
  case coldFusion = "coldfusion"
  /// Zero-shot and predictive scores, each standardised on the kept
  /// observations, summed (`ScoreFusion`); zero-shot until 20 are kept.
  case fused
}

/// A cold-start anomaly detector: named normal classes, their zero-shot
/// prototypes, and the adaptation to the observations seen so far (see
/// `ColdFusionAdaptation` for the math).
///
/// ```
/// score(x) = min_k f_k d(x, p_k)         rule predictive (the text default)
///          = min_k d(x, z̃_k)             rule coldfusion
///          = z(S_zs(x)) + z(S_pred(x))    rule fused (the image default; `ScoreFusion`)
/// ```
///
/// Both equal the zero-shot score `min_k d(x, z_k)` (up to a constant
/// factor) before any observation.
///
/// A detector is a value: `adapting(_:)` returns the updated detector and
/// `DetectorFile` stores it. It keeps the raw prototypes and every raw
/// observation embedding (the trimming step ranks the whole history again at
/// each arrival), never the texts or images themselves.
public struct ColdStartDetector: Sendable {
  /// One name per prototype (a class may have several prototypes).
  public let classNames: [String]
  /// The prototypes as given (`K × d`, before the metric's preparation).
  public let prototypes: FeatureMatrix
  /// Every observation adapted to so far, as given, in arrival order.
  public private(set) var observations: FeatureMatrix
  /// The prototypes adapted to the observations so far.
  public private(set) var adaptation: ColdFusionAdaptation
  /// Provenance recorded in the file (modality, encoder, weights SHA-256…).
  public var metadata: [String: String]
  /// Scores above this are flagged; nil until there are observations (see
  /// `calibratedThreshold`).
  public private(set) var threshold: Float?

  /// How the detector scores.
  public let rule: ColdStartRule
  /// The fused rule's standardisation, fitted on the kept observations when
  /// they change (nil for the other rules, or below `ScoreFusion.minimumKept`).
  private var fusion: ScoreFusion?
  /// How observations are compared with prototypes.
  public var metric: PrototypeMetric { adaptation.metric }
  /// The kept fraction q of the trimming step, in (0, 1].
  public var trim: Double { adaptation.trim }
  /// Embedding dimension d.
  public var dimension: Int { prototypes.columns }

  /// A zero-shot detector (no observations yet).
  public init(
    classNames: [String], prototypes: FeatureMatrix, metric: PrototypeMetric, trim: Double = 0.9, rule: ColdStartRule = .predictive,
    kappa: Float = ColdFusionAdaptation.defaultKappa, metadata: [String: String] = [:]
  ) throws {
    guard classNames.count == prototypes.rows else {
      throw DensityError.invalidArgument("\(classNames.count) class names for \(prototypes.rows) prototypes")
    }
    self.classNames = classNames
    self.prototypes = prototypes
    observations = FeatureMatrix(rows: 0, columns: prototypes.columns, values: [])
    adaptation = try ColdFusionAdaptation(prototypes: prototypes, metric: metric, trim: trim, kappa: kappa)
    self.rule = rule
    self.metadata = metadata
    threshold = nil
  }

  /// This detector adapted to `newObservations` too (`n × d`, raw).
  public func adapting(_ newObservations: FeatureMatrix, source: String = "observations") throws -> ColdStartDetector {
    var next = self
    try next.adaptation.add(newObservations, source: source)
    next.observations = observations.rows == 0 ? newObservations : observations.appending(newObservations)
    next.fusion = rule == .fused ? next.fittedFusion() : nil
    next.threshold = next.calibratedThreshold()
    return next
  }

  /// Anomaly scores of raw rows under the detector's rule (or against the
  /// zero-shot prototypes with `zeroShot`).
  public func scores(_ rows: FeatureMatrix, zeroShot: Bool = false, source: String = "input") throws -> [Float] {
    try nearest(rows, zeroShot: zeroShot, source: source).distances
  }

  /// Each raw row's score and the prototype that gave it.
  public func nearest(_ rows: FeatureMatrix, zeroShot: Bool = false, source: String = "input") throws -> (distances: [Float], indices: [Int]) {
    guard rows.columns == dimension || rows.rows == 0 else {
      throw DensityError.dimensionMismatch(source: source, expected: dimension, actual: rows.columns)
    }
    if let bad = rows.firstNonFinite {
      throw DensityError.nonFinite(source: source, row: bad / rows.columns, column: bad % rows.columns)
    }
    var x = rows.values
    metric.prepare(&x, dimension: dimension)
    return scoreRows(x, zeroShot: zeroShot)
  }

  /// `nearest` for rows already in the metric's space.
  func scoreRows(_ x: [Float], zeroShot: Bool = false) -> (distances: [Float], indices: [Int]) {
    if zeroShot {
      return PrototypeScoring.nearest(x, prototypes: adaptation.original, norms: adaptation.originalNorms, metric: metric, dimension: dimension)
    }
    switch rule {
    case .coldFusion:
      return PrototypeScoring.nearest(x, prototypes: adaptation.adapted, norms: adaptation.adaptedNorms, metric: metric, dimension: dimension)
    case .predictive:
      return predictiveNearest(x)
    case .fused:
      guard let fusion else {
        return PrototypeScoring.nearest(x, prototypes: adaptation.original, norms: adaptation.originalNorms, metric: metric, dimension: dimension)
      }
      let zs = PrototypeScoring.nearest(x, prototypes: adaptation.original, norms: adaptation.originalNorms, metric: metric, dimension: dimension)
      let adapted = predictiveNearest(x)
      return (zip(zs.distances, adapted.distances).map { fusion.score(zeroShot: $0, adapted: $1) }, adapted.indices)
    }
  }

  /// `ScoreFusion` on the kept observations' zero-shot and predictive
  /// scores (nil while too few are kept).
  func fittedFusion() -> ScoreFusion? {
    let kept = adaptation.isKept.indices.filter { adaptation.isKept[$0] }
    var keptRows: [Float] = []
    keptRows.reserveCapacity(kept.count * dimension)
    for i in kept { keptRows += adaptation.observations[(i * dimension)..<((i + 1) * dimension)] }
    return ScoreFusion(
      zeroShotReference: kept.map { adaptation.zeroShotDistances[$0] }, adaptedReference: predictiveNearest(keptRows).distances)
  }

  func predictiveNearest(_ x: [Float]) -> (distances: [Float], indices: [Int]) {
    PrototypeScoring.nearest(
      x, prototypes: adaptation.predictive, norms: adaptation.predictiveNorms, factors: adaptation.predictiveFactors, metric: metric,
      dimension: dimension)
  }

  /// Fewest observations before a threshold is set.
  public static let minimumObservationsForThreshold = 20

  /// The `q`-quantile (numpy's linear interpolation) of the observations'
  /// own scores, `q` being the kept fraction: the detector flags about the
  /// share of the stream that trimming discards as presumed contamination.
  /// Nil with fewer than `minimumObservationsForThreshold` observations or
  /// without trimming (`q = 1`: nothing is presumed anomalous).
  func calibratedThreshold() -> Float? {
    guard observations.rows >= Self.minimumObservationsForThreshold, trim < 1 else { return nil }
    return Metrics.quantile(scoreRows(adaptation.observations).distances, trim)
  }

  /// Rebuilds a detector from stored parts, checking that the stored
  /// adapted prototypes follow from them bit for bit.
  static func restore(
    classNames: [String], prototypes: FeatureMatrix, observations: FeatureMatrix, storedAdapted: [Float], metric: PrototypeMetric,
    trim: Double, rule: ColdStartRule, kappa: Float, metadata: [String: String]
  ) throws -> ColdStartDetector? {
    var detector = try ColdStartDetector(
      classNames: classNames, prototypes: prototypes, metric: metric, trim: trim, rule: rule, kappa: kappa, metadata: metadata)
    if observations.rows > 0 { detector = try detector.adapting(observations) }
    return detector.adaptation.adapted == storedAdapted ? detector : nil
  }
}
