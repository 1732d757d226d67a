import Foundation

/// Standard normal draws from a counter-based generator, so that a perturbed
/// image is the same on every run, thread and machine, and so that the
/// numpy reference (`Notebooks-export/scripts/deepfake_cues.py`,
/// `counter_normals`) draws the very same numbers.
///
/// Uniform `j` (j = 0, 1, …) is splitmix64 of the counter
/// `seed + (j + 1) · 0x9E3779B97F4A7C15` (wrapping), reduced to its top 53
/// bits: `u_j = (bits + ½) / 2⁵³ ∈ (0, 1)`. Normal `i` is Box–Muller's
/// cosine branch on the pair `(u_2i, u_2i+1)`:
///
///     z_i = √(−2 ln u_2i) · cos(2π u_2i+1).
public enum CounterNormals {
  /// The `j`-th uniform in (0, 1).
  @inline(__always)
  static func uniform(_ j: UInt64, seed: UInt64) -> Double {
    var z = seed &+ (j &+ 1) &* 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z = z ^ (z >> 31)
    return (Double(z >> 11) + 0.5) / 9_007_199_254_740_992  // 2^53
  }

  /// `count` standard normals.
  public static func draw(count: Int, seed: UInt64 = 0) -> [Float] {
    (0..<count).map { i in
      let u1 = uniform(UInt64(2 * i), seed: seed)
      let u2 = uniform(UInt64(2 * i + 1), seed: seed)
      return Float((-2 * Foundation.log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
  }
}
