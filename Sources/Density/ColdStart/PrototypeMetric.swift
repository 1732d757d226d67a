/// How an observation is compared with a class prototype in cold-start
/// detection.
///
/// - `squaredL2`: `d(x, z) = ‖x − z‖²` on the embeddings as given. This is
///   the official ColdFusion code (faiss `IndexFlatL2` on raw mean-pooled
///   sentence embeddings) and the default for text.
/// - `cosine`: `d(x, z) = 1 − x̂·z / ‖z‖`, with every observation
///   L2-normalised on entry (`x̂ = x / ‖x‖`), so medians are taken over unit
///   vectors and a prototype counts only by its direction. The default for
///   images, where the prototypes are EfficientNet classifier rows whose
///   scale has nothing to do with the pooled features'.
public enum PrototypeMetric: String, Sendable, CaseIterable, Codable {
  /// `d(x, z) = ‖x − z‖²` on the embeddings as given (stored as `l2`).
  case squaredL2 = "l2"
  /// `d(x, z) = 1 − x̂·z / ‖z‖`, observations L2-normalised on entry.
  case cosine

  /// Brings rows into this metric's space, in place: L2-normalised for
  /// `cosine` (a zero row stays zero), unchanged for `squaredL2`.
  public func prepare(_ rows: inout [Float], dimension d: Int) {
    guard self == .cosine, d > 0 else { return }
    for start in stride(from: 0, to: rows.count, by: d) {
      var squares: Double = 0
      for j in start..<(start + d) { squares += Double(rows[j]) * Double(rows[j]) }
      guard squares > 0 else { continue }
      let inverse = Float(1 / squares.squareRoot())
      for j in start..<(start + d) { rows[j] *= inverse }
    }
  }

  /// `d(x, z)` for a prepared observation `x` and a prototype `z` of
  /// Euclidean norm `zNorm` (only used by `cosine`; a zero prototype is at
  /// distance 1 from everything).
  @inline(__always)
  public func distance(_ x: UnsafePointer<Float>, _ z: UnsafePointer<Float>, zNorm: Float, dimension d: Int) -> Float {
    switch self {
    case .squaredL2: return squaredDistance(x, z, count: d)
    case .cosine: return zNorm > 0 ? 1 - dot(x, z, d) / zNorm : 1
    }
  }
}

/// `Σ_j a_j b_j`, accumulated in eight single-precision lanes like
/// `squaredDistance` (Coreset.swift), so the same inputs always give the
/// same bits. Multiply and add stay separate: `addProduct` would call
/// libm's `fmaf` per lane on a baseline x86-64 build.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
  var lanes = SIMD8<Float>(repeating: 0)
  var j = 0
  while j + 8 <= d {
    lanes += UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self)
    j += 8
  }
  var sum = lanes.sum()
  while j < d {
    sum += a[j] * b[j]
    j += 1
  }
  return sum
}

/// Euclidean norm of each `d`-wide row.
func rowNorms(_ rows: [Float], dimension d: Int) -> [Float] {
  guard d > 0 else { return [] }
  return rows.withUnsafeBufferPointer { p in
    guard let base = p.baseAddress else { return [] }
    return (0..<(rows.count / d)).map { r in dot(base + r * d, base + r * d, d).squareRoot() }
  }
}
