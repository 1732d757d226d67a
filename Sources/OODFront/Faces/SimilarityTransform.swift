/// A 2-D similarity transform (uniform scale, rotation, translation) in
/// double precision, `p ↦ M p + b` with `M = [[a, -c], [c, a]]`.
///
/// `fit(from:to:)` is dlib's `find_similarity_transform` (Umeyama 1991,
/// "Least-squares estimation of transformation parameters between two point
/// patterns", eqs. 34–43): with the means `μ_f, μ_t`, the source variance
/// `σ² = (1/n) Σ |f_i − μ_f|²` and the covariance `C = (1/n) Σ (t_i − μ_t)(f_i − μ_f)ᵀ`,
///
/// ```
/// c·R = (1/σ²) · U S Vᵀ · tr(D S)      (C = U D Vᵀ, S fixes a reflection)
/// b   = μ_t − c R μ_f
/// ```
///
/// Where we differ: dlib takes an SVD of the 2×2 `C`; we use its closed form.
/// For 2×2, the best rotation maximises `tr(Rᵀ C) = cos θ (C₀₀ + C₁₁) + sin θ (C₁₀ − C₀₁)`,
/// so `c·R = [[p, −q], [q, p]] / σ²` with `p = C₀₀ + C₁₁`, `q = C₁₀ − C₀₁`. The two
/// agree to rounding (≈1e-16 relative). When `σ² = 0` (all source points equal)
/// dlib uses `c = 1` and its SVD of the zero `C` gives `R = I`; so do we.
struct SimilarityTransform: Sendable, Equatable {
  /// `M₀₀ = M₁₁`.
  var a: Double
  /// `M₁₀ = −M₀₁`.
  var c: Double
  var bx: Double
  var by: Double

  func apply(x: Double, y: Double) -> (x: Double, y: Double) {
    (a * x + -c * y + bx, c * x + a * y + by)
  }

  /// Least-squares similarity from `from` to `to` (`x0, y0, x1, y1, …`, the
  /// same even length ≥ 4), accumulated in `Double` as dlib does.
  static func fit<F: BinaryFloatingPoint>(from: UnsafeBufferPointer<F>, to: UnsafeBufferPointer<F>) -> SimilarityTransform {
    let n = from.count / 2
    var mfx = 0.0, mfy = 0.0, mtx = 0.0, mty = 0.0
    for i in 0..<n {
      mfx += Double(from[2 * i]); mfy += Double(from[2 * i + 1])
      mtx += Double(to[2 * i]); mty += Double(to[2 * i + 1])
    }
    let count = Double(n)
    mfx /= count; mfy /= count; mtx /= count; mty /= count
    var sigma = 0.0
    var c00 = 0.0, c01 = 0.0, c10 = 0.0, c11 = 0.0
    for i in 0..<n {
      let fx = Double(from[2 * i]) - mfx, fy = Double(from[2 * i + 1]) - mfy
      let tx = Double(to[2 * i]) - mtx, ty = Double(to[2 * i + 1]) - mty
      sigma += fx * fx + fy * fy
      c00 += tx * fx; c01 += tx * fy
      c10 += ty * fx; c11 += ty * fy
    }
    sigma /= count
    c00 /= count; c01 /= count; c10 /= count; c11 /= count
    var a = 1.0, c = 0.0
    if sigma != 0 {
      a = (c00 + c11) / sigma
      c = (c10 - c01) / sigma
    }
    return SimilarityTransform(a: a, c: c, bx: mtx - (a * mfx + -c * mfy), by: mty - (c * mfx + a * mfy))
  }
}
