import CKernels
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The transformer kernels of CKernels (vectorised erf / exp / GELU,
/// attention, LayerNorm) and the row independence of the packed GEMM, on
/// whichever path this process runs (`ANOMALYKIT_KERNELS=portable` selects
/// the portable one).
@Suite("Transformer kernels")
struct TransformerKernelTests {
  /// Distance in representable floats between two finite floats.
  static func ulpDistance(_ a: Float, _ b: Float) -> Int {
    // Floats in order as integers: −0 and +0 both map to 0.
    func ordered(_ x: Float) -> Int64 {
      let magnitude = Int64(x.bitPattern & 0x7fff_ffff)
      return x.sign == .minus ? -magnitude : magnitude
    }
    return Int(abs(ordered(a) - ordered(b)))
  }

  /// Deterministic pseudo-random floats in [-scale, scale).
  static func randomFloats(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var state = seed
    return (0..<count).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
  }

  /// A dense grid over [-10, 10] (step 2⁻¹⁶), the region around 0 at every
  /// binade down to the subnormals, and the edge cases.
  static var erfInputs: [Float] {
    var xs: [Float] = []
    var x: Float = -10
    while x <= 10 {
      xs.append(x)
      x += 1.0 / 65536
    }
    var tiny = Float.leastNonzeroMagnitude
    while tiny < 1 {
      xs += [tiny, -tiny, tiny * 1.37, -tiny * 1.37]
      tiny *= 2
    }
    let split: Float = 0.875
    let edges: [Float] = [0, split, split.nextDown, split.nextUp, 3.92, 4, 4.5, 20, 1e30, .greatestFiniteMagnitude]
    xs += edges + edges.map { -$0 }
    return xs
  }

  @Test("erf within 2 ulp of the C library's erff, tails and special values included")
  func erfMatchesLibm() {
    let xs = Self.erfInputs
    var ys = [Float](repeating: .nan, count: xs.count)
    ak_erf(xs, &ys, xs.count)
    var worst = 0
    var worstAt: Float = 0
    for (x, y) in zip(xs, ys) {
      let d = Self.ulpDistance(y, erff(x))
      if d > worst { (worst, worstAt) = (d, x) }
    }
    print("erf: \(xs.count) inputs, max \(worst) ulp from erff (at \(worstAt))")
    #expect(worst <= 2, "max \(worst) ulp at \(worstAt)")
    let special: [Float] = [.infinity, -.infinity, .nan, 0, -0.0]
    var out = [Float](repeating: 7, count: special.count)
    ak_erf(special, &out, special.count)
    #expect(out[0] == 1 && out[1] == -1 && out[2].isNaN)
    #expect(out[3] == 0 && out[3].sign == .plus && out[4] == 0 && out[4].sign == .minus)
  }

  @Test("exp within 2 ulp of expf on [-87.3, 0]; 0 below the normal range")
  func expMatchesLibm() {
    var xs: [Float] = []
    var x: Float = -87.3
    while x <= 0 {
      xs.append(x)
      x += 1.0 / 4096
    }
    xs += [0, -0.0, -1e-30, -Float.leastNonzeroMagnitude]
    var ys = [Float](repeating: .nan, count: xs.count)
    ak_exp(xs, &ys, xs.count)
    var worst = 0
    for (x, y) in zip(xs, ys) { worst = max(worst, Self.ulpDistance(y, expf(x))) }
    print("exp: \(xs.count) inputs, max \(worst) ulp from expf")
    #expect(worst <= 2)
    let low: [Float] = [-87.5, -100, -1e30, -.infinity]
    var out = [Float](repeating: 7, count: low.count)
    ak_exp(low, &out, low.count)
    #expect(out.allSatisfy { $0 >= 0 && $0 <= Float.leastNormalMagnitude })
    #expect(out[3] == 0)
  }

  @Test("GELU agrees with the erff formula; the GEMM's fused GELU is the standalone one, bit for bit")
  func gelu() {
    var xs: [Float] = []
    var x: Float = -12
    while x <= 12 {
      xs.append(x)
      x += 1.0 / 8192
    }
    var ys = [Float](repeating: .nan, count: xs.count)
    ak_gelu_erf(xs, &ys, xs.count)
    var bad = 0
    for (x, y) in zip(xs, ys) {
      let reference = ak_gelu_erf1(x)
      // erf's error (a couple of ulp of a value near ±1) scaled by x/2, plus rounding of the result.
      let tolerance = 2 * reference.magnitude.ulp + x.magnitude * Float.ulpOfOne
      if (y - reference).magnitude > tolerance { bad += 1 }
    }
    #expect(bad == 0, "\(bad) GELU values off")

    // The packed GEMM with the GELU epilogue vs the GEMM then ak_gelu_erf.
    let (m, k, n) = (13, 40, 77)
    let a = Self.randomFloats(m * k, seed: 1, scale: 2)
    let w = Self.randomFloats(k * n, seed: 2, scale: 0.5)
    let bias = Self.randomFloats(n, seed: 3)
    var packed = [Float](repeating: 0, count: ak_gemm_packed_count(k, n))
    ak_gemm_pack(w, bias, k, n, &packed)
    var linear = [Float](repeating: 0, count: m * n)
    var fused = [Float](repeating: 0, count: m * n)
    ak_gemm_bias_activation(m, n, k, a, k, packed, nil, &linear, n, AK_ACTIVATION_NONE)
    ak_gemm_bias_activation(m, n, k, a, k, packed, nil, &fused, n, AK_ACTIVATION_GELU_ERF)
    var separate = [Float](repeating: 0, count: m * n)
    ak_gelu_erf(linear, &separate, m * n)
    #expect(fused == separate)
  }

  @Test(
    "a GEMM row is bit-identical whatever the number of rows and its position (tail tiles and columns too)",
    arguments: [(k: 384, n: 1152), (k: 37, n: 77), (k: 50, n: 72), (k: 9, n: 5)])
  func gemmRowIndependence(shape: (k: Int, n: Int)) {
    let (k, n) = shape
    let m = 41  // 6·6 + 5: full tiles and a 5-row tail
    let a = Self.randomFloats(m * k, seed: 11, scale: 1)
    let w = Self.randomFloats(k * n, seed: 12, scale: 0.2)
    let bias = Self.randomFloats(n, seed: 13)
    let residual = Self.randomFloats(m * n, seed: 14)
    var packed = [Float](repeating: 0, count: ak_gemm_packed_count(k, n))
    ak_gemm_pack(w, bias, k, n, &packed)
    for activation in [AK_ACTIVATION_NONE, AK_ACTIVATION_GELU_ERF] {
      for withResidual in [false, true] {
        var all = [Float](repeating: 0, count: m * n)
        residual.withUnsafeBufferPointer { r in
          ak_gemm_bias_activation(m, n, k, a, k, packed, withResidual ? r.baseAddress : nil, &all, n, activation)
        }
        // Every window of rows [lo, lo + count) computed on its own.
        for count in [1, 2, 5, 6, 7, 13] {
          for lo in stride(from: 0, through: m - count, by: 3) {
            var part = [Float](repeating: 0, count: count * n)
            a.withUnsafeBufferPointer { a in
              residual.withUnsafeBufferPointer { r in
                ak_gemm_bias_activation(
                  count, n, k, a.baseAddress! + lo * k, k, packed, withResidual ? r.baseAddress! + lo * n : nil, &part,
                  n, activation)
              }
            }
            #expect(part == Array(all[(lo * n)..<((lo + count) * n)]), "rows \(lo)..<\(lo + count)")
          }
        }
      }
    }
  }

  /// Attention in Double, straight from the definition.
  static func referenceAttention(
    tokens t: Int, heads: Int, headDimension dh: Int, qkv: [Float]
  ) -> [Double] {
    let d = heads * dh
    var out = [Double](repeating: 0, count: t * d)
    for h in 0..<heads {
      for i in 0..<t {
        var scores = [Double](repeating: 0, count: t)
        for j in 0..<t {
          var dot: Double = 0
          for c in 0..<dh { dot += Double(qkv[i * 3 * d + h * dh + c]) * Double(qkv[j * 3 * d + d + h * dh + c]) }
          scores[j] = dot / Double(dh).squareRoot()
        }
        let top = scores.max() ?? 0
        let e = scores.map { Foundation.exp($0 - top) }
        let sum = e.reduce(0, +)
        for c in 0..<dh {
          var acc: Double = 0
          for j in 0..<t { acc += e[j] / sum * Double(qkv[j * 3 * d + 2 * d + h * dh + c]) }
          out[i * d + h * dh + c] = acc
        }
      }
    }
    return out
  }

  @Test(
    "attention matches a double-precision reference",
    arguments: [(1, 32), (2, 32), (7, 32), (8, 32), (9, 32), (16, 32), (17, 8), (33, 16), (5, 12)])
  func attention(tokens: Int, headDimension: Int) {
    let heads = 3
    let d = heads * headDimension
    let qkv = Self.randomFloats(tokens * 3 * d, seed: UInt64(tokens * 100 + headDimension), scale: 1.5)
    var out = [Float](repeating: .nan, count: tokens * d)
    var scratch = [Float](repeating: .nan, count: ak_attention_scratch_count(tokens, headDimension))
    qkv.withUnsafeBufferPointer { p in
      let base = p.baseAddress!
      ak_attention(
        tokens, heads, headDimension, base, base + d, base + 2 * d, 3 * d, 1 / Float(headDimension).squareRoot(), &out,
        d, &scratch)
    }
    let reference = Self.referenceAttention(tokens: tokens, heads: heads, headDimension: headDimension, qkv: qkv)
    let worst = zip(out, reference).map { abs(Double($0) - $1) }.max() ?? .nan
    #expect(worst <= 2e-5, "max |Δ| = \(worst)")
  }

  @Test("LayerNorm matches a double-precision reference, in place and at odd widths")
  func layerNorm() {
    for n in [384, 37, 8, 3] {
      let rows = 5
      // Rows with a large common offset test the accuracy of the statistics.
      var x = Self.randomFloats(rows * n, seed: UInt64(n), scale: 2)
      for r in 0..<rows { for j in 0..<n { x[r * n + j] += Float(r) * 100 } }
      let gamma = Self.randomFloats(n, seed: 5)
      let beta = Self.randomFloats(n, seed: 6)
      let eps: Float = 1e-12
      var y = x
      ak_layer_norm(rows, n, y, n, gamma, beta, eps, &y, n)
      for r in 0..<rows {
        let row = x[(r * n)..<((r + 1) * n)].map(Double.init)
        let mean = row.reduce(0, +) / Double(n)
        let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        for j in 0..<n {
          let expected = (row[j] - mean) / (variance + Double(eps)).squareRoot() * Double(gamma[j]) + Double(beta[j])
          #expect(abs(Double(y[r * n + j]) - expected) <= 1e-5 * max(1, abs(expected)), "n \(n) row \(r) column \(j)")
        }
      }
    }
  }
}
