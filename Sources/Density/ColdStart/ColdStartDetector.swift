/// A cold-start anomaly detector: named normal classes, their zero-shot
/// prototypes, and the ColdFusion adaptation to the observations seen so
/// far (see `ColdFusionAdaptation` for the math).
///
/// ```
/// score(x) = min_k d(x, z̃_k)            (z̃_k = z_k before any observation)
/// ```
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
  public private(set) var adaptation: ColdFusionAdaptation
  /// Provenance recorded in the file (modality, encoder, weights SHA-256…).
  public var metadata: [String: String]
  /// Scores above this are flagged; nil until there are observations (see
  /// `calibratedThreshold`).
  public private(set) var threshold: Float?

  public var metric: PrototypeMetric { adaptation.metric }
  public var trim: Double { adaptation.trim }
  public var dimension: Int { prototypes.columns }

  /// A zero-shot detector (no observations yet).
  public init(classNames: [String], prototypes: FeatureMatrix, metric: PrototypeMetric, trim: Double = 0.9, metadata: [String: String] = [:]) throws {
    guard classNames.count == prototypes.rows else {
      throw DensityError.invalidArgument("\(classNames.count) class names for \(prototypes.rows) prototypes")
    }
    self.classNames = classNames
    self.prototypes = prototypes
    observations = FeatureMatrix(rows: 0, columns: prototypes.columns, values: [])
    adaptation = try ColdFusionAdaptation(prototypes: prototypes, metric: metric, trim: trim)
    self.metadata = metadata
    threshold = nil
  }

  /// This detector adapted to `newObservations` too (`n × d`, raw).
  public func adapting(_ newObservations: FeatureMatrix, source: String = "observations") throws -> ColdStartDetector {
    var next = self
    try next.adaptation.add(newObservations, source: source)
    next.observations = observations.rows == 0 ? newObservations : observations.appending(newObservations)
    next.threshold = next.calibratedThreshold()
    return next
  }

  /// Anomaly scores of raw rows against the adapted prototypes (or the
  /// zero-shot ones with `zeroShot`).
  public func scores(_ rows: FeatureMatrix, zeroShot: Bool = false, source: String = "input") throws -> [Float] {
    try nearest(rows, zeroShot: zeroShot, source: source).distances
  }

  /// Each raw row's nearest prototype (adapted, or zero-shot) and distance.
  public func nearest(_ rows: FeatureMatrix, zeroShot: Bool = false, source: String = "input") throws -> (distances: [Float], indices: [Int]) {
    guard rows.columns == dimension || rows.rows == 0 else {
      throw DensityError.dimensionMismatch(source: source, expected: dimension, actual: rows.columns)
    }
    if let bad = rows.firstNonFinite {
      throw DensityError.nonFinite(source: source, row: bad / rows.columns, column: bad % rows.columns)
    }
    var x = rows.values
    metric.prepare(&x, dimension: dimension)
    return PrototypeScoring.nearest(
      x, prototypes: zeroShot ? adaptation.original : adaptation.adapted,
      norms: zeroShot ? adaptation.originalNorms : adaptation.adaptedNorms, metric: metric, dimension: dimension)
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
    let own = PrototypeScoring.nearest(
      adaptation.observations, prototypes: adaptation.adapted, norms: adaptation.adaptedNorms, metric: metric, dimension: dimension
    ).distances
    return Metrics.quantile(own, trim)
  }

  /// Rebuilds a detector from stored parts, checking that the stored
  /// adapted prototypes follow from them bit for bit.
  static func restore(
    classNames: [String], prototypes: FeatureMatrix, observations: FeatureMatrix, storedAdapted: [Float], metric: PrototypeMetric,
    trim: Double, metadata: [String: String]
  ) throws -> ColdStartDetector? {
    var detector = try ColdStartDetector(classNames: classNames, prototypes: prototypes, metric: metric, trim: trim, metadata: metadata)
    if observations.rows > 0 { detector = try detector.adapting(observations) }
    return detector.adaptation.adapted == storedAdapted ? detector : nil
  }
}
