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
/// In `fp32` on x86_64 CPUs with AVX2 + FMA the weights are packed once into
/// the panels of `ak_gemm_bias_activation`, which applies bias, activation
/// and residual in registers and writes C once. Elsewhere the product goes
/// through OpenBLAS with β = 1 on a C prefilled with the bias (and the
/// residual, when there is no activation in between), so no separate
/// zeroing or bias pass is needed.
///
/// In `bf16` the weights are rounded and packed once into the column-pair
/// panels of `ak_bf16_gemm_bias_activation`, which rounds each row of A to
/// bfloat16 and accumulates in float32 (`ComputePrecision`), with the same
/// epilogue.
///
/// In `int8` the weights are quantised per column and packed once, with the
/// activation range the product's input was calibrated to, into the
/// four-row panels of `ak_i8_gemm_bias_activation`, which quantises each row
/// of A and sums in exact int32 (`Int8Calibration`), with the same epilogue.
/// Without a calibrated range each row of A is coded by its own range
/// instead (`ak_i8_gemm_pack_per_row`: the text encoder's linear layers).
/// Either way a row of C depends only on its own row of A.
///
/// Which path runs depends only on the precision and the CPU, so a result
/// never depends on the batch size or the worker count.
package struct FusedGEMMWeights: Sendable {
  /// Whether the AVX2 + FMA kernels run on this CPU (fixed per process).
  static let usesPackedKernel = ak_cpu_has_avx2_fma() != 0

  private enum Storage: Sendable {
    /// Panels of `ak_gemm_pack`.
    case packed([Float])
    /// `W` row-major `K × N`, for OpenBLAS, and the bias.
    case blas(weights: [Float], bias: [Float])
    /// bfloat16 panels of `ak_bf16_gemm_pack`.
    case bfloat16([UInt16])
    /// int8 panels (and the activation quantisation) of `ak_i8_gemm_pack`,
    /// or of `ak_i8_gemm_pack_per_row` when `perRow`.
    case int8([UInt8], perRow: Bool)
  }

  /// Rows K of `W`: the length of an input row.
  package let k: Int
  /// Columns N of `W`: the length of an output row.
  package let n: Int
  /// The arithmetic of the product.
  package let precision: ComputePrecision
  private let storage: Storage

  /// `weights` is `K × N` row-major, `bias` has `N` entries.
  /// `activationRange` is the calibrated range of the input, read only by
  /// `int8`; an `int8` product without one codes each input row by the
  /// row's own range.
  package init(
    weights: [Float], bias: [Float], k: Int, n: Int, precision: ComputePrecision = .fp32,
    activationRange: ClosedRange<Float>? = nil
  ) {
    precondition(weights.count == k * n && bias.count == n, "weights must be K × N and bias N")
    self.k = k
    self.n = n
    self.precision = precision
    switch precision {
    case .bf16:
      var packed = [UInt16](repeating: 0, count: ak_bf16_gemm_packed_count(k, n))
      packed.withUnsafeMutableBufferPointer { p in
        weights.withUnsafeBufferPointer { w in
          bias.withUnsafeBufferPointer { b in ak_bf16_gemm_pack(w.baseAddress, b.baseAddress, k, n, p.baseAddress) }
        }
      }
      storage = .bfloat16(packed)
    case .int8:
      var packed = [UInt8](repeating: 0, count: ak_i8_gemm_packed_count(k, n))
      packed.withUnsafeMutableBufferPointer { p in
        weights.withUnsafeBufferPointer { w in
          bias.withUnsafeBufferPointer { b in
            if let range = activationRange {
              ak_i8_gemm_pack(w.baseAddress, b.baseAddress, k, n, range.lowerBound, range.upperBound, p.baseAddress)
            } else {
              ak_i8_gemm_pack_per_row(w.baseAddress, b.baseAddress, k, n, p.baseAddress)
            }
          }
        }
      }
      storage = .int8(packed, perRow: activationRange == nil)
    case .fp32 where Self.usesPackedKernel:
      var packed = [Float](repeating: 0, count: ak_gemm_packed_count(k, n))
      packed.withUnsafeMutableBufferPointer { p in
        weights.withUnsafeBufferPointer { w in
          bias.withUnsafeBufferPointer { b in ak_gemm_pack(w.baseAddress, b.baseAddress, k, n, p.baseAddress) }
        }
      }
      storage = .packed(packed)
    case .fp32:
      storage = .blas(weights: weights, bias: bias)
    }
  }

  /// Whether this product runs on 8-bit integers with one calibrated code
  /// and so can take its input already quantised (`runQuantized`).
  var takesQuantizedInput: Bool {
    if case .int8(_, perRow: false) = storage { return true }
    return false
  }

  /// Calls `body` with the int8 panels (nil for other precisions and for
  /// per-row codes), for kernels that quantise this product's input as
  /// they make it.
  func withInt8Panels<R>(_ body: (UnsafePointer<UInt8>?) -> R) -> R {
    guard case .int8(let packed, perRow: false) = storage else { return body(nil) }
    return packed.withUnsafeBufferPointer { body($0.baseAddress) }
  }

  /// `run` on rows already quantised for this product
  /// (`ak_i8_gemm_quantize_input`'s layout, e.g. from
  /// `DepthwiseConvolution.runQuantized`); the same bits as `run` on the
  /// float rows. Only for `takesQuantizedInput` products.
  func runQuantized(
    m: Int, rows: UnsafePointer<UInt32>, c: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>? = nil,
    activation: Activation
  ) {
    guard m > 0, case .int8(let packed, perRow: false) = storage else { return }
    packed.withUnsafeBufferPointer { w in
      ak_i8_gemm_quantized_bias_activation(m, n, k, rows, w.baseAddress, residual, c, n, activation.kernelValue)
    }
  }

  /// Whether every row of the result depends only on its own row of A, so
  /// that stacked groups can run in one call (the packed kernels; not
  /// OpenBLAS, whose blocking changes a row's rounding with M).
  var rowsIndependent: Bool {
    if case .blas = storage { return false }
    return true
  }

  /// `c = act(a · W + bias) (+ residual)` for `m` rows; `a` has leading
  /// dimension `lda`, `c` and `residual` are dense `m × N`. `residual` may
  /// not alias `c`.
  package func run(
    m: Int, a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>,
    residual: UnsafePointer<Float>? = nil, activation: Activation
  ) {
    guard m > 0 else { return }
    switch storage {
    case .packed(let packed):
      packed.withUnsafeBufferPointer { w in
        ak_gemm_bias_activation(m, n, k, a, lda, w.baseAddress, residual, c, n, activation.kernelValue)
      }
    case .bfloat16(let packed):
      packed.withUnsafeBufferPointer { w in
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: ak_bf16_gemm_scratch_count(m, k)) { scratch in
          ak_bf16_gemm_bias_activation(
            m, n, k, a, lda, w.baseAddress, residual, c, n, activation.kernelValue, scratch.baseAddress)
        }
      }
    case .int8(let packed, _):
      packed.withUnsafeBufferPointer { w in
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: ak_i8_gemm_scratch_count(m, k)) { scratch in
          ak_i8_gemm_bias_activation(
            m, n, k, a, lda, w.baseAddress, residual, c, n, activation.kernelValue, scratch.baseAddress)
        }
      }
    case .blas(let weights, let bias):
      weights.withUnsafeBufferPointer { s in
        bias.withUnsafeBufferPointer { b in
          let w = s.baseAddress.unsafelyUnwrapped
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
  }

  /// `run` over rows stacked from independent groups (the tokens of several
  /// sentences), such that every group's rows come out bit for bit as if
  /// that group had been run alone: `groups` are consecutive, non-empty row
  /// ranges starting at row 0.
  ///
  /// The packed kernels compute each row on its own, so they take all rows
  /// in one call (the weights are read once per call, not once per group).
  /// OpenBLAS's blocking, and with it the rounding of a row, changes with the
  /// number of rows and the row's position, so on that path each group gets
  /// its own call.
  func run(
    groups: [Range<Int>], a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>,
    residual: UnsafePointer<Float>? = nil, activation: Activation
  ) {
    guard let rows = groups.last?.upperBound, rows > 0 else { return }
    if rowsIndependent {
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
