import ParallelCompute
import TensorFiles

/// A bank of normal features and the scorer that measures how far new
/// features are from it.
///
/// The bank keeps its features in the scorer's base space: raw for `knn`
/// and `gaussian`, L2-normalised for `cosine-knn`, `mean-shifted` and
/// `angular-center`. Derived state (row norms, the center, the mean-shifted
/// copy, the Gaussian factor) is recomputed from them, so `adding` new
/// normals never needs a refit from images.
///
/// Loaded from a file, the features stay memory-mapped (`MappedFile`); only
/// the N row norms (and, for `mean-shifted`, a shifted copy) live on the heap.
public struct ReferenceBank: Sendable {
  /// How the bank scores queries.
  public let scorer: ScorerKind
  /// Applied to bank and query features before the scorer.
  public let transform: FeatureTransform
  /// Neighbours summed by the kNN scorers.
  public let k: Int
  /// Feature dimension D.
  public let dimension: Int
  /// Number of normal features N in the bank.
  public let count: Int
  let store: FeatureStore
  let norms: [Float]
  /// Mean normalised feature (normalising scorers).
  public let center: [Float]?
  /// ψ(b) for `mean-shifted`, with its norms.
  let shifted: (values: [Float], norms: [Float])?
  /// The fitted Gaussian (`gaussian` scorer only, nil otherwise).
  public let gaussian: GaussianDensity?
  /// Scores above this are anomalous (calibrated on normal data only).
  public var threshold: Float?
  /// Provenance and settings, saved as safetensors metadata.
  public var metadata: [String: String]
  /// Block sizes and workers of the kNN search (not saved with the bank).
  public var search = NearestNeighbors()

  /// Default k for the kNN scorers: 2, as in DN2, PANDA and MSC.
  public static let defaultK = 2

  /// Fits a bank to normal features.
  ///
  /// - Throws: `DensityError` for an empty bank, k larger than the bank, or
  ///   a non-finite feature.
  public init(
    fitting features: consuming FeatureMatrix, scorer: ScorerKind, k: Int = ReferenceBank.defaultK, transform: FeatureTransform = .none,
    metadata: [String: String] = [:]
  ) throws {
    guard features.rows > 0 else { throw DensityError.emptyBank(reason: "no normal features to fit") }
    if let bad = features.firstNonFinite {
      throw DensityError.nonFinite(source: "normal features", row: bad / features.columns, column: bad % features.columns)
    }
    if scorer.usesNeighbors && k > features.rows { throw DensityError.kTooLarge(k: k, bankSize: features.rows) }
    guard k >= 1 else { throw DensityError.invalidArgument("k must be at least 1, got \(k)") }
    let base = Self.baseSpace(consume features, scorer: scorer, transform: transform)
    try self.init(scorer: scorer, k: k, transform: transform, store: FeatureStore(memory: base), threshold: nil, metadata: metadata)
  }

  /// Features as the bank stores them: transformed, then L2-normalised for
  /// the normalising scorers. Works in place on features handed over with
  /// `consume`, so fitting holds one copy of the bank, not three.
  static func baseSpace(_ features: consuming FeatureMatrix, scorer: ScorerKind, transform: FeatureTransform) -> FeatureMatrix {
    var m = features
    transform.apply(to: &m)
    if scorer.normalizes { m.normalizeRows() }
    return m
  }

  init(
    scorer: ScorerKind, k: Int, transform: FeatureTransform, store: FeatureStore, threshold: Float?, metadata: [String: String],
    gaussian: GaussianDensity? = nil
  ) throws {
    self.scorer = scorer
    self.transform = transform
    self.k = k
    self.store = store
    self.dimension = store.columns
    self.count = store.rows
    self.threshold = threshold
    self.metadata = metadata
    if store.dtype != .f32, let refusal = scorer.lowPrecisionRefusal { throw DensityError.invalidArgument(refusal) }
    norms = store.squaredNorms()
    if scorer.normalizes {
      center = store.meanRow()
    } else {
      center = nil
    }
    if scorer == .meanShifted, let c = center {
      let values = store.withValues { v in Self.meanShift(v, rows: store.rows, columns: store.columns, center: c) }
      let n = values.withUnsafeBufferPointer { NearestNeighbors.squaredNorms($0.baseAddress.unsafelyUnwrapped, rows: store.rows, columns: store.columns) }
      shifted = (values, n)
    } else {
      shifted = nil
    }
    if scorer == .gaussian {
      self.gaussian = try gaussian ?? GaussianDensity.fit(store.matrix())
    } else {
      self.gaussian = nil
    }
  }

  /// ψ(v) = (v − c) / ‖v − c‖ for each (already normalised) row.
  static func meanShift(_ v: UnsafeBufferPointer<Float>, rows: Int, columns: Int, center: [Float]) -> [Float] {
    var out = [Float](repeating: 0, count: rows * columns)
    for r in 0..<rows {
      var s: Float = 0
      for j in 0..<columns {
        let x = v[r * columns + j] - center[j]
        out[r * columns + j] = x
        s += x * x
      }
      let inv: Float = s > 0 ? 1 / s.squareRoot() : 0
      for j in 0..<columns { out[r * columns + j] *= inv }
    }
    return out
  }

  /// Checks that `queries` can be scored against this bank.
  public func validate(_ queries: FeatureMatrix, source: String) throws {
    guard queries.columns == dimension || queries.rows == 0 else {
      throw DensityError.dimensionMismatch(source: source, expected: dimension, actual: queries.columns)
    }
    if let bad = queries.firstNonFinite {
      throw DensityError.nonFinite(source: source, row: bad / queries.columns, column: bad % queries.columns)
    }
  }

  /// Anomaly scores of each row of `queries` (higher = more anomalous).
  public func score(_ raw: FeatureMatrix, source: String = "queries") throws -> [Float] {
    try validate(raw, source: source)
    if raw.rows == 0 { return [] }
    let queries = transform.apply(raw)
    switch scorer {
    case .knn:
      return sumOfNearest(queries.values, rows: queries.rows, bank: nil)
    case .cosineKNN:
      return sumOfNearest(queries.normalizedRows().values, rows: queries.rows, bank: nil)
    case .meanShifted:
      let q = queries.normalizedRows().values.withUnsafeBufferPointer {
        Self.meanShift($0, rows: queries.rows, columns: dimension, center: center ?? [])
      }
      return sumOfNearest(q, rows: queries.rows, bank: shifted)
    case .angularCenter:
      let c = center ?? []
      let cn = c.reduce(0) { $0 + $1 * $1 }.squareRoot()
      let q = queries.normalizedRows()
      return (0..<q.rows).map { r in
        var dot: Float = 0
        for j in 0..<dimension { dot += q.values[r * dimension + j] * c[j] }
        return 1 - (cn > 0 ? dot / cn : 0)
      }
    case .gaussian:
      return gaussian?.score(queries) ?? []
    }
  }

  /// Σ over the k nearest bank rows of the squared distance.
  private func sumOfNearest(_ q: [Float], rows: Int, bank: (values: [Float], norms: [Float])?) -> [Float] {
    let found = nearest(q, rows: rows, bank: bank)
    let kk = min(k, count)
    return (0..<rows).map { Self.sumOfNearest(found.distances, query: $0, k: kk) }
  }

  /// `Σ_{j<k} d_j` of one query's ascending distances, nearest first: the
  /// one place the kNN sum is taken, so whole and merged shard scores agree.
  static func sumOfNearest(_ distances: [Float], query: Int, k: Int) -> Float {
    (0..<k).reduce(Float(0)) { $0 + distances[query * k + $1] }
  }

  /// The min(k, N) nearest rows of this bank (or of `bank`, the mean-shifted
  /// copy) to each row of `q`, already in the bank's space.
  func nearest(_ q: [Float], rows: Int, bank: (values: [Float], norms: [Float])?) -> (distances: [Float], indices: [Int32]) {
    let kk = min(k, count)
    func run(_ stored: NearestNeighbors.BankRows, _ n: UnsafeBufferPointer<Float>) -> (distances: [Float], indices: [Int32]) {
      q.withUnsafeBufferPointer { qb in
        search.search(
          queries: qb.baseAddress.unsafelyUnwrapped, queryRows: rows, bank: stored, bankRows: count,
          bankNorms: n.baseAddress.unsafelyUnwrapped, dimension: dimension, k: kk)
      }
    }
    if let bank {
      return bank.values.withUnsafeBufferPointer { b in bank.norms.withUnsafeBufferPointer { run(.f32(b.baseAddress.unsafelyUnwrapped), $0) } }
    }
    return norms.withUnsafeBufferPointer { n in
      switch store.dtype {
      case .f32: return store.withValues { run(.f32($0.baseAddress.unsafelyUnwrapped), n) }
      case .bf16: return store.withBF16 { run(.bf16($0.baseAddress.unsafelyUnwrapped), n) }
      }
    }
  }

  /// A new bank holding these normals plus `features`, with derived state
  /// recomputed. The threshold is kept; callers recalibrate if they can.
  public func adding(_ features: FeatureMatrix, source: String = "new normal features") throws -> ReferenceBank {
    try validate(features, source: source)
    let base = Self.baseSpace(features, scorer: scorer, transform: transform)
    return try ReferenceBank(
      scorer: scorer, k: k, transform: transform, store: store.appending(base), threshold: threshold, metadata: metadata)
  }

  /// How the bank stores its rows.
  public var dtype: BankDType { store.dtype }

  /// This bank with its rows stored as `dtype`: bfloat16 halves the bank's
  /// memory and file; its rows are rounded to nearest even, and its norms
  /// and centre recomputed from the rounded rows.
  ///
  /// - Throws: `DensityError.invalidArgument` for a scorer that keeps no
  ///   rows to shrink (`ScorerKind.lowPrecisionRefusal`).
  public func storing(_ dtype: BankDType) throws -> ReferenceBank {
    guard dtype != self.dtype else { return self }
    var meta = metadata
    meta["bank_dtype"] = dtype.rawValue
    return try ReferenceBank(
      scorer: scorer, k: k, transform: transform, store: store.converted(to: dtype), threshold: threshold, metadata: meta)
  }

  /// The bank's features in its base space (transformed and, for the
  /// normalising scorers, L2-normalised).
  public var features: FeatureMatrix { store.matrix() }

  /// Sets the decision threshold and records in the metadata how it was
  /// calibrated (from `scores` out-of-fold normal scores).
  public mutating func setThreshold(_ value: Float, calibration: ThresholdCalibration, scores: Int) {
    threshold = value
    for (key, v) in calibration.metadata(threshold: value, scores: scores) { metadata[key] = v }
  }

  /// Whether a verdict is possible.
  public func isAnomalous(_ score: Float) -> Bool? {
    threshold.map { score > $0 }
  }
}
