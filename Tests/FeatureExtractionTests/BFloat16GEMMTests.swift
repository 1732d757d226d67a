import CKernels
import Foundation
import Testing

/// `ak_bf16_gemm_bias_activation` against a float64 reference over the
/// same bfloat16-rounded operands, on whichever path this process runs: the
/// AVX-512 BF16 kernel where the CPU has it, the portable loop otherwise or
/// under `ANOMALYKIT_KERNELS=portable` (`.ci/run` runs this suite a second
/// time that way).
@Suite("bf16 GEMM kernel")
struct BFloat16GEMMTests {
  static func rounded(_ x: Float) -> Double { Double(ak_bf16_to_f32_one(ak_f32_to_bf16_one(x))) }

  /// Deterministic pseudo-random floats in [-scale, scale).
  static func randomFloats(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var state = seed
    return (0..<count).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
  }

  static func activate(_ v: Double, _ activation: ak_activation) -> Double {
    switch activation {
    case AK_ACTIVATION_RELU6: return min(max(v, 0), 6)
    case AK_ACTIVATION_RELU: return max(v, 0)
    case AK_ACTIVATION_GELU_ERF: return 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
    default: return v
    }
  }

  /// Runs the kernel on `m × k` A (leading dimension `lda`) and `k × n` B.
  static func run(
    m: Int, n: Int, k: Int, lda: Int, a: [Float], b: [Float], bias: [Float], residual: [Float]?, activation: ak_activation
  ) -> [Float] {
    var packed = [UInt16](repeating: 0xFFFF, count: ak_bf16_gemm_packed_count(k, n))
    ak_bf16_gemm_pack(b, bias, k, n, &packed)
    var c = [Float](repeating: .nan, count: m * n)
    var scratch = [UInt32](repeating: 0, count: ak_bf16_gemm_scratch_count(m, k))
    if let residual {
      ak_bf16_gemm_bias_activation(m, n, k, a, lda, packed, residual, &c, n, activation, &scratch)
    } else {
      ak_bf16_gemm_bias_activation(m, n, k, a, lda, packed, nil, &c, n, activation, &scratch)
    }
    return c
  }

  @Test(
    "matches float64 sums of the rounded operands, to float32 rounding",
    arguments: [
      (1, 1, 1), (5, 17, 33), (7, 31, 16), (8, 32, 32), (9, 48, 27), (13, 16, 96), (25, 80, 240), (40, 1152, 384), (3, 384, 1536),
    ])
  func matchesReference(shape: (m: Int, n: Int, k: Int)) {
    let (m, n, k) = shape
    let lda = k + 3  // A is read with a leading dimension, as im2col strips are
    let a = Self.randomFloats(m * lda, seed: UInt64(m * 7919 + k), scale: 2)
    let b = Self.randomFloats(k * n, seed: UInt64(n * 104_729 + k), scale: 0.5)
    let bias = Self.randomFloats(n, seed: 99)
    let residual = Self.randomFloats(m * n, seed: 7)
    for activation in [AK_ACTIVATION_NONE, AK_ACTIVATION_RELU6, AK_ACTIVATION_RELU, AK_ACTIVATION_GELU_ERF] {
      for withResidual in [false, true] {
        let c = Self.run(
          m: m, n: n, k: k, lda: lda, a: a, b: b, bias: bias, residual: withResidual ? residual : nil, activation: activation)
        var worst = 0.0
        for i in 0..<m {
          for j in 0..<n {
            var sum = 0.0
            var magnitude = 0.0
            for p in 0..<k {
              let product = Self.rounded(a[i * lda + p]) * Self.rounded(b[p * n + j])
              sum += product
              magnitude += abs(product)
            }
            var want = Self.activate(sum + Double(bias[j]), activation)
            if withResidual { want += Double(residual[i * n + j]) }
            // float32 accumulation of k products: a few ulps of the sum of magnitudes.
            let bound = 4 * Double(Float.ulpOfOne) * (magnitude + abs(Double(bias[j])) + 1) * Double(k).squareRoot()
            worst = max(worst, abs(Double(c[i * n + j]) - want) / bound)
          }
        }
        #expect(worst <= 1, "m \(m) n \(n) k \(k) activation \(activation.rawValue) residual \(withResidual): \(worst) of the bound")
      }
    }
  }

  @Test("a row depends only on its own row of A: rows in a block of 37 and alone give the same bits")
  func rowIndependence() {
    let (m, n, k) = (37, 48, 100)
    let a = Self.randomFloats(m * k, seed: 3)
    let b = Self.randomFloats(k * n, seed: 4)
    let bias = Self.randomFloats(n, seed: 5)
    let all = Self.run(m: m, n: n, k: k, lda: k, a: a, b: b, bias: bias, residual: nil, activation: AK_ACTIVATION_GELU_ERF)
    for i in [0, 7, 8, 11, 12, 36] {
      let alone = Self.run(
        m: 1, n: n, k: k, lda: k, a: Array(a[(i * k)..<((i + 1) * k)]), b: b, bias: bias, residual: nil,
        activation: AK_ACTIVATION_GELU_ERF)
      #expect(Array(all[(i * n)..<((i + 1) * n)]) == alone, "row \(i)")
    }
  }
}
