import CBLAS
import CKernels

/// `C[M×N] = A[M×K] · B[K×N] (+ β·C)`, row-major, through OpenBLAS `sgemm`.
@inline(__always)
func gemm(
  m: Int, n: Int, k: Int,
  a: UnsafePointer<Float>, lda: Int,
  b: UnsafePointer<Float>, ldb: Int,
  c: UnsafeMutablePointer<Float>, ldc: Int,
  beta: Float = 0
) {
  cblas_sgemm(
    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c,
    Int32(ldc))
}

/// The weights of a convolution lowered to a matrix product, and that product
/// with its epilogue fused:
///
/// ```
/// C[M×N] = act(A[M×K] · W[K×N] + bias) (+ R)
/// ```
///
/// On x86_64 CPUs with AVX2 + FMA the weights are packed once into the
/// panels of `ak_gemm_bias_activation`, which applies bias, activation and
/// residual in registers and writes C once. Elsewhere the product goes
/// through OpenBLAS with β = 1 on a C prefilled with the bias (and the
/// residual, when there is no activation in between), so no separate
/// zeroing or bias pass is needed.
///
/// Which path runs depends only on the CPU, so a result never depends on the
/// batch size or the worker count.
package struct FusedGEMMWeights: Sendable {
  /// Whether the AVX2 + FMA kernels run on this CPU (fixed per process).
  static let usesPackedKernel = ak_cpu_has_avx2_fma() != 0

  /// Rows K of `W`: the length of an input row.
  package let k: Int
  /// Columns N of `W`: the length of an output row.
  package let n: Int
  /// Packed panels (packed kernel) or `W` row-major `K × N` (BLAS).
  private let storage: [Float]
  private let bias: [Float]

  /// `weights` is `K × N` row-major, `bias` has `N` entries.
  package init(weights: [Float], bias: [Float], k: Int, n: Int) {
    precondition(weights.count == k * n && bias.count == n, "weights must be K × N and bias N")
    self.k = k
    self.n = n
    self.bias = bias
    if Self.usesPackedKernel {
      var packed = [Float](repeating: 0, count: ak_gemm_packed_count(k, n))
      packed.withUnsafeMutableBufferPointer { p in
        weights.withUnsafeBufferPointer { w in
          bias.withUnsafeBufferPointer { b in
            ak_gemm_pack(w.baseAddress, b.baseAddress, k, n, p.baseAddress)
          }
        }
      }
      storage = packed
    } else {
      storage = weights
    }
  }

  /// `c = act(a · W + bias) (+ residual)` for `m` rows; `a` has leading
  /// dimension `lda`, `c` and `residual` are dense `m × N`. `residual` may
  /// not alias `c`.
  package func run(
    m: Int, a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>,
    residual: UnsafePointer<Float>? = nil, activation: Activation
  ) {
    guard m > 0 else { return }
    storage.withUnsafeBufferPointer { s in
      let w = s.baseAddress.unsafelyUnwrapped
      if Self.usesPackedKernel {
        ak_gemm_bias_activation(m, n, k, a, lda, w, residual, c, n, activation.kernelValue)
        return
      }
      bias.withUnsafeBufferPointer { b in
        let bias = b.baseAddress.unsafelyUnwrapped
        if activation == .none {
          fillRows(c, rows: m, channels: n, bias: bias, adding: residual)
          gemm(m: m, n: n, k: k, a: a, lda: lda, b: w, ldb: n, c: c, ldc: n, beta: 1)
        } else {
          fillRows(c, rows: m, channels: n, bias: bias)
          gemm(m: m, n: n, k: k, a: a, lda: lda, b: w, ldb: n, c: c, ldc: n, beta: 1)
          activate(c, rows: m, channels: n, activation: activation, adding: residual)
        }
      }
    }
  }

  /// `run` over rows stacked from independent groups (the tokens of several
  /// sentences), such that every group's rows come out bit for bit as if
  /// that group had been run alone: `groups` are consecutive, non-empty row
  /// ranges starting at row 0.
  ///
  /// The packed kernel computes each row on its own, so it takes all rows in
  /// one call (the weights are read once per call, not once per group).
  /// OpenBLAS's blocking, and with it the rounding of a row, changes with the
  /// number of rows and the row's position, so on that path each group gets
  /// its own call.
  func run(
    groups: [Range<Int>], a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>,
    residual: UnsafePointer<Float>? = nil, activation: Activation
  ) {
    guard let rows = groups.last?.upperBound, rows > 0 else { return }
    if Self.usesPackedKernel {
      run(m: rows, a: a, lda: lda, c: c, residual: residual, activation: activation)
      return
    }
    for group in groups {
      run(
        m: group.count, a: a + group.lowerBound * lda, lda: lda, c: c + group.lowerBound * n,
        residual: residual.map { $0 + group.lowerBound * n }, activation: activation)
    }
  }
}
