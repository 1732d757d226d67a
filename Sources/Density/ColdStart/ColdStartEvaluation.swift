import ParallelCompute

/// A cold-start method compared by the evaluation protocol.
public enum ColdStartMethod: String, CaseIterable, Sendable, Codable {
  /// Nearest description: `S(x) = min_k d(x, z_k)`, no data used.
  case zeroShot = "zs"
  /// 1-NN over the kept (trimmed) observations: `S(x) = min_{i∈keep} d(x, x_i)`
  /// (the official code's DN2 baseline, which runs after trimming).
  case dn2
  /// Nearest adapted prototype, `S(x) = min_k d(x, z̃_k)` (`ColdFusionAdaptation`).
  case coldFusion = "coldfusion"
  /// This toolkit's rule: `S(x) = min_k f_k d(x, p_k)`, shrunk medians with
  /// predictive-variance calibration (`ColdFusionAdaptation`).
  case predictive
  /// Zero-shot and predictive scores, standardised on the kept
  /// observations and summed (`ScoreFusion`).
  case fused
}

/// The evaluation protocol of the ColdFusion paper's code, run
/// incrementally: feed a `ColdStartStream` one observation at a time and
/// measure each method's AUROC on a fixed test set (normal test queries
/// versus held-out-intent anomalies, label 1 = anomaly) after every step.
///
/// Every method shares one `ColdFusionAdaptation` (so they see the same
/// trimmed set), and each step costs only what changed: the adapted
/// prototypes of the touched classes are rescored against the test set, and
/// DN2 keeps each test point's nearest kept observation, updated as
/// observations enter or leave the kept set from a precomputed
/// candidate × test distance table. Trimming is on only for a contaminated
/// stream (contamination > 0), as in the official code.
public struct ColdStartEvaluation: Sendable {
  /// How observations are compared with prototypes.
  public let metric: PrototypeMetric
  /// The kept fraction q, used only for a contaminated stream.
  public let trim: Double
  /// κ of the predictive rule.
  public let kappa: Float
  /// The methods measured.
  public let methods: [ColdStartMethod]
  let prototypes: FeatureMatrix
  let normals: FeatureMatrix
  let pool: FeatureMatrix
  /// Prepared test rows: normals first, then anomalies.
  let test: [Float]
  let labels: [Bool]
  /// `d(candidate, test_j)` at `[c · testCount + j]`, candidates being the
  /// normals then the pool (DN2 only).
  let candidateDistances: [Float]

  /// Embedding dimension d.
  public var dimension: Int { prototypes.columns }
  /// Number of test rows, normals and anomalies together.
  public var testCount: Int { labels.count }

  /// Prepares an evaluation: every input is `rows × d` raw embeddings.
  ///
  /// - Parameters:
  ///   - prototypes: the zero-shot prototypes, one row per normal class.
  ///   - streamNormals: the normal observations every stream contains.
  ///   - anomalyPool: anomalies a contaminated stream draws from (may be empty).
  ///   - testNormals: normal test queries (label 0).
  ///   - testAnomalies: anomalous test queries (label 1).
  ///   - metric: how observations are compared with prototypes.
  ///   - trim: the kept fraction q, in (0, 1].
  ///   - kappa: κ of the predictive rule.
  ///   - methods: the methods to measure (default all).
  /// - Throws: `DensityError` for an empty input (other than the pool), a
  ///   dimension mismatch, a non-finite value, or an invalid trim or κ.
  public init(
    prototypes: FeatureMatrix, streamNormals: FeatureMatrix, anomalyPool: FeatureMatrix, testNormals: FeatureMatrix,
    testAnomalies: FeatureMatrix, metric: PrototypeMetric, trim: Double = 0.9, kappa: Float = ColdFusionAdaptation.defaultKappa,
    methods: [ColdStartMethod] = ColdStartMethod.allCases
  ) throws {
    let d = prototypes.columns
    for (name, m) in [
      ("stream normals", streamNormals), ("anomaly pool", anomalyPool), ("test normals", testNormals),
      ("test anomalies", testAnomalies),
    ] {
      guard m.rows > 0 || name == "anomaly pool" else { throw DensityError.emptyBank(reason: "no \(name)") }
      guard m.columns == d || m.rows == 0 else { throw DensityError.dimensionMismatch(source: name, expected: d, actual: m.columns) }
      if let bad = m.firstNonFinite { throw DensityError.nonFinite(source: name, row: bad / d, column: bad % d) }
    }
    // Validates the prototypes and the trim.
    _ = try ColdFusionAdaptation(prototypes: prototypes, metric: metric, trim: trim, kappa: kappa)
    self.prototypes = prototypes
    self.metric = metric
    self.trim = trim
    self.kappa = kappa
    self.methods = methods
    normals = streamNormals
    pool = anomalyPool
    var t = testNormals.values + testAnomalies.values
    metric.prepare(&t, dimension: d)
    test = t
    labels = Array(repeating: false, count: testNormals.rows) + Array(repeating: true, count: testAnomalies.rows)
    if methods.contains(.dn2) {
      var candidates = streamNormals.values + anomalyPool.values
      metric.prepare(&candidates, dimension: d)
      candidateDistances = Self.distanceTable(candidates, test, metric: metric, dimension: d)
    } else {
      candidateDistances = []
    }
  }

  /// `d(a_c, b_j)` for every row pair, at `[c · |b| + j]`.
  static func distanceTable(_ a: [Float], _ b: [Float], metric: PrototypeMetric, dimension d: Int) -> [Float] {
    let rowsA = a.count / d
    let rowsB = b.count / d
    let norms = rowNorms(a, dimension: d)
    var table = [Float](repeating: 0, count: rowsA * rowsB)
    a.withUnsafeBufferPointer { ap in
      b.withUnsafeBufferPointer { bp in
        table.withUnsafeMutableBufferPointer { tp in
          let ar = SharedReadOnlyBuffer(ap)
          let br = SharedReadOnlyBuffer(bp)
          let out = SharedBuffer(tp)
          ParallelFor.chunks(count: rowsA) { range in
            for c in range {
              for j in 0..<rowsB {
                out[c * rowsB + j] = metric.distance(br.base + j * d, ar.base + c * d, zNorm: norms[c], dimension: d)
              }
            }
          }
        }
      }
    }
    return table
  }

  /// Each method's AUROC after every step of the stream for `seed`.
  public func curves(contamination: Double, seed: UInt64) throws -> [ColdStartMethod: [Double]] {
    let stream = try ColdStartStream(normalCount: normals.rows, poolCount: pool.rows, contamination: contamination, seed: seed)
    let d = dimension
    let n = testCount
    var adaptation = try ColdFusionAdaptation(prototypes: prototypes, metric: metric, trim: contamination > 0 ? trim : 1, kappa: kappa)
    let k = adaptation.classCount
    var curves: [ColdStartMethod: [Double]] = [:]
    for m in methods { curves[m] = [] }
    curves[.zeroShot]?.reserveCapacity(stream.items.count)

    // Zero-shot: fixed.
    let zeroShot = PrototypeScoring.nearest(test, prototypes: adaptation.original, norms: adaptation.originalNorms, metric: metric, dimension: d)
    let zeroShotAUROC = Metrics.auroc(scores: zeroShot.distances, labels: labels) ?? .nan

    // ColdFusion and predictive: test × prototype distance tables, rescored per touched class.
    var coldFusion = PrototypeTable(testCount: n, classCount: k, auroc: zeroShotAUROC)
    var predictive = coldFusion
    coldFusion.rescore(Array(0..<k), prototypes: adaptation.adapted, norms: adaptation.adaptedNorms, in: self)
    predictive.rescore(Array(0..<k), prototypes: adaptation.predictive, norms: adaptation.predictiveNorms, in: self)

    // Fused: every observation's distance to each predictive prototype
    // (`[i · K + c]`), columns refreshed as their prototype moves.
    let wantsFused = curves[.fused] != nil
    var fused = FusedScoring(zeroShot: zeroShot.distances, classCount: k)

    // DN2: each test point's nearest kept observation.
    var nearest = [Float](repeating: .infinity, count: n)
    var nearestObservation = [Int](repeating: -1, count: n)
    var candidateOf: [Int] = []
    candidateOf.reserveCapacity(stream.items.count)

    for item in stream.items {
      let row: Int
      switch item {
      case .normal(let i): row = i
      case .anomaly(let i): row = normals.rows + i
      }
      candidateOf.append(row)
      let source = row < normals.rows ? normals : pool
      let local = row < normals.rows ? row : row - normals.rows
      let change = try adaptation.add(FeatureMatrix(rows: 1, columns: d, values: Array(source[row: local])))

      if curves[.zeroShot] != nil { curves[.zeroShot]?.append(zeroShotAUROC) }

      if curves[.coldFusion] != nil {
        if !change.classes.isEmpty {
          coldFusion.rescore(change.classes, prototypes: adaptation.adapted, norms: adaptation.adaptedNorms, in: self)
          coldFusion.measure(factors: nil, labels: labels)
        }
        curves[.coldFusion]?.append(coldFusion.auroc)
      }

      if curves[.predictive] != nil || wantsFused {
        if !change.classes.isEmpty {
          predictive.rescore(change.classes, prototypes: adaptation.predictive, norms: adaptation.predictiveNorms, in: self)
          if curves[.predictive] != nil { predictive.measure(factors: adaptation.predictiveFactors, labels: labels) }
        }
        curves[.predictive]?.append(predictive.auroc)
      }

      if wantsFused {
        fused.update(adaptation, changed: change.classes, in: self)
        curves[.fused]?.append(fused.auroc(adaptation, predictive: predictive, zeroShotAUROC: zeroShotAUROC, labels: labels))
      }

      if curves[.dn2] != nil {
        if !change.entered.isEmpty || !change.left.isEmpty {
          for e in change.entered {
            let base = candidateOf[e] * n
            for j in 0..<n where candidateDistances[base + j] < nearest[j] {
              nearest[j] = candidateDistances[base + j]
              nearestObservation[j] = e
            }
          }
          let leaving = Set(change.left)
          if !leaving.isEmpty {
            for j in 0..<n where leaving.contains(nearestObservation[j]) {
              nearest[j] = .infinity
              nearestObservation[j] = -1
              for i in 0..<adaptation.observationCount where adaptation.isKept[i] {
                let v = candidateDistances[candidateOf[i] * n + j]
                if v < nearest[j] {
                  nearest[j] = v
                  nearestObservation[j] = i
                }
              }
            }
          }
        }
        curves[.dn2]?.append(Metrics.auroc(scores: nearest, labels: labels) ?? .nan)
      }
    }
    return curves
  }

}

/// A test × prototype distance table (`[j · K + c]`) and the AUROC of its
/// score `min_c f_c · table[j, c]`, for the prototype methods of
/// `ColdStartEvaluation`.
struct PrototypeTable {
  let testCount: Int
  let classCount: Int
  var distances: [Float]
  var auroc: Double

  init(testCount: Int, classCount: Int, auroc: Double) {
    self.testCount = testCount
    self.classCount = classCount
    distances = [Float](repeating: 0, count: testCount * classCount)
    self.auroc = auroc
  }

  /// Recomputes the columns `classes` against the evaluation's test rows.
  mutating func rescore(_ classes: [Int], prototypes: [Float], norms: [Float], in evaluation: ColdStartEvaluation) {
    let d = evaluation.dimension
    let (n, k, metric) = (testCount, classCount, evaluation.metric)
    prototypes.withUnsafeBufferPointer { z in
      evaluation.test.withUnsafeBufferPointer { x in
        guard let zb = z.baseAddress, let xb = x.baseAddress else { return }
        for c in classes {
          for j in 0..<n { distances[j * k + c] = metric.distance(xb + j * d, zb + c * d, zNorm: norms[c], dimension: d) }
        }
      }
    }
  }

  /// `auroc` of `min_c f_c · distance` (`f_c = 1` without factors).
  mutating func measure(factors: [Float]?, labels: [Bool]) {
    auroc = Metrics.auroc(scores: scores(factors: factors), labels: labels) ?? .nan
  }

  /// `min_c f_c · distance` of each test row.
  func scores(factors: [Float]?) -> [Float] {
    let k = classCount
    return (0..<testCount).map { j in
      var best = Float.infinity
      for c in 0..<k { best = min(best, (factors?[c] ?? 1) * distances[j * k + c]) }
      return best
    }
  }
}

/// The fused rule's state in `ColdStartEvaluation`: each observation's
/// distance to each predictive prototype (`[i · K + c]`), so the kept
/// observations' predictive scores (the fusion's reference) cost one column
/// per moved prototype, not a full rescore, at every step.
struct FusedScoring {
  let zeroShot: [Float]
  let classCount: Int
  var table: [Float] = []

  init(zeroShot: [Float], classCount: Int) {
    self.zeroShot = zeroShot
    self.classCount = classCount
  }

  /// Adds the newest observation's row and refreshes the `changed` columns.
  mutating func update(_ a: ColdFusionAdaptation, changed: [Int], in evaluation: ColdStartEvaluation) {
    let (d, k, metric) = (evaluation.dimension, classCount, evaluation.metric)
    let newest = a.observationCount - 1
    table += [Float](repeating: 0, count: k)
    a.observations.withUnsafeBufferPointer { x in
      a.predictive.withUnsafeBufferPointer { z in
        guard let xb = x.baseAddress, let zb = z.baseAddress else { return }
        for c in 0..<k {
          table[newest * k + c] = metric.distance(xb + newest * d, zb + c * d, zNorm: a.predictiveNorms[c], dimension: d)
        }
        for c in changed {
          for i in 0..<newest { table[i * k + c] = metric.distance(xb + i * d, zb + c * d, zNorm: a.predictiveNorms[c], dimension: d) }
        }
      }
    }
  }

  /// The fused score's AUROC now (zero-shot's until `ScoreFusion` has enough kept observations).
  func auroc(_ a: ColdFusionAdaptation, predictive: PrototypeTable, zeroShotAUROC: Double, labels: [Bool]) -> Double {
    let k = classCount
    var zsReference: [Float] = []
    var adaptedReference: [Float] = []
    for i in 0..<a.observationCount where a.isKept[i] {
      zsReference.append(a.zeroShotDistances[i])
      var best = Float.infinity
      for c in 0..<k { best = min(best, a.predictiveFactors[c] * table[i * k + c]) }
      adaptedReference.append(best)
    }
    guard let fusion = ScoreFusion(zeroShotReference: zsReference, adaptedReference: adaptedReference) else { return zeroShotAUROC }
    let adapted = predictive.scores(factors: a.predictiveFactors)
    let scores = zip(zeroShot, adapted).map { fusion.score(zeroShot: $0, adapted: $1) }
    return Metrics.auroc(scores: scores, labels: labels) ?? .nan
  }
}
