import CBLAS
import CLAPACKE

/// A Gaussian fitted to normal features, with Ledoit–Wolf shrinkage, for
/// squared Mahalanobis scores.
///
/// Ledoit & Wolf (2004), in sklearn's `ledoit_wolf_shrinkage` form, with
/// centred data X (n × D) and S = XᵀX / n:
/// ```
/// μ_S = tr S / D
/// δ   = (‖S‖²_F − 2 μ_S tr S + D μ_S²) / D          (= ‖S − μ_S I‖²_F / D)
/// β   = min(δ, (Σ_n ‖x_n‖⁴ / n − ‖S‖²_F) / (n D))
/// ρ   = β / δ
/// Σ̂   = (1 − ρ) S + ρ μ_S I
/// ```
/// All of this runs in float64. Σ̂ is factored Σ̂ = L Lᵀ (LAPACKE `dpotrf`),
/// and `s(x) = ‖L⁻¹ (x − μ)‖²` (BLAS `dtrsm`).
public struct GaussianDensity: Sendable {
  /// Feature dimension D.
  public let dimension: Int
  /// The mean μ of the fitted features (D values).
  public let mean: [Double]
  /// Lower-triangular Cholesky factor of Σ̂, row-major D × D.
  public let cholesky: [Double]
  /// The Ledoit–Wolf shrinkage ρ of Σ̂, in [0, 1].
  public let shrinkage: Double

  /// A Gaussian from stored parameters (as a bank file holds them); nothing
  /// is checked or refitted.
  public init(dimension: Int, mean: [Double], cholesky: [Double], shrinkage: Double) {
    self.dimension = dimension
    self.mean = mean
    self.cholesky = cholesky
    self.shrinkage = shrinkage
  }

  /// Fits to the rows of `features`.
  public static func fit(_ features: FeatureMatrix) throws -> GaussianDensity {
    let n = features.rows
    let d = features.columns
    guard n >= 2 else { throw DensityError.emptyBank(reason: "a Gaussian needs at least 2 normal samples, got \(n)") }
    var mean = [Double](repeating: 0, count: d)
    for r in 0..<n {
      for c in 0..<d { mean[c] += Double(features.values[r * d + c]) }
    }
    for c in 0..<d { mean[c] /= Double(n) }
    var x = [Double](repeating: 0, count: n * d)
    var fourth = 0.0
    for r in 0..<n {
      var sq = 0.0
      for c in 0..<d {
        let v = Double(features.values[r * d + c]) - mean[c]
        x[r * d + c] = v
        sq += v * v
      }
      fourth += sq * sq
    }
    // S = XᵀX / n
    var s = [Double](repeating: 0, count: d * d)
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(d), Int32(d), Int32(n), 1 / Double(n), x, Int32(d), x, Int32(d), 0, &s, Int32(d))
    var trace = 0.0
    for i in 0..<d { trace += s[i * d + i] }
    let mu = trace / Double(d)
    var frob = 0.0
    for v in s { frob += v * v }
    var delta = (frob - 2 * mu * trace + Double(d) * mu * mu) / Double(d)
    var beta = (fourth / Double(n) - frob) / (Double(n) * Double(d))
    delta = max(delta, 0)
    beta = min(max(beta, 0), delta)
    let shrinkage = delta == 0 ? 0 : beta / delta
    var cov = s
    for i in 0..<d {
      for j in 0..<d { cov[i * d + j] *= (1 - shrinkage) }
      cov[i * d + i] += shrinkage * mu
    }
    let info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(d), &cov, Int32(d))
    guard info == 0 else {
      throw DensityError.numerical(reason: "Cholesky of the shrunk covariance failed (LAPACK info \(info)); the features may be constant")
    }
    for i in 0..<d {
      for j in (i + 1)..<d { cov[i * d + j] = 0 }
    }
    return GaussianDensity(dimension: d, mean: mean, cholesky: cov, shrinkage: shrinkage)
  }

  /// Squared Mahalanobis distance of each row of `queries`.
  public func score(_ queries: FeatureMatrix) -> [Float] {
    let n = queries.rows
    let d = dimension
    guard n > 0 else { return [] }
    // B = (X − μ)ᵀ, D × n; solve L Y = B in place.
    var b = [Double](repeating: 0, count: d * n)
    for r in 0..<n {
      for c in 0..<d { b[c * n + r] = Double(queries.values[r * d + c]) - mean[c] }
    }
    cholesky.withUnsafeBufferPointer { l in
      cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, Int32(d), Int32(n), 1, l.baseAddress, Int32(d), &b, Int32(n))
    }
    var out = [Float](repeating: 0, count: n)
    for r in 0..<n {
      var s = 0.0
      for c in 0..<d { s += b[c * n + r] * b[c * n + r] }
      out[r] = Float(s)
    }
    return out
  }
}
