import CKernels
import FeatureExtraction
import ParallelCompute

/// A dlib `con_` layer with the `affine_` layer after it folded in, and an
/// optional ReLU, on channels-last (HWC) feature maps.
///
/// dlib's padding rule (`con_` in dlib/dnn/layers.h): `k/2` on every side
/// when the stride is 1, and none otherwise; the output has
///
/// ```
/// out = 1 + (in + 2·pad − k) / stride        (integer division)
/// ```
///
/// rows and columns, so a stride-2 layer drops the last row/column when
/// `in − k` is odd (no TF-style extra padding). dlib convolves by
/// correlation, as PyTorch does:
///
/// ```
/// y[oy, ox, co] = b[co] + Σ_{ky,kx,ci} x[oy·s + ky − pad, ox·s + kx − pad, ci] · W[co, ci, ky, kx]
/// ```
///
/// The affine layer `z = γ[co]·y + β[co]` is folded at load time:
/// `W'[co] = γ[co]·W[co]`, `b' = γ·b + β`. dlib applies γ and β after the
/// convolution instead, so the two differ by float rounding (≈1e-7 relative).
struct DlibConvolution: Sendable {
  let kernel: Int
  let stride: Int
  let padding: Int
  let inputChannels: Int
  let outputChannels: Int
  let relu: Bool
  /// `W'` as a `(k·k·Cin) × Cout` matrix (row `(ky·k + kx)·Cin + ci`) and `b'`.
  let product: FusedGEMMWeights

  /// - Parameters:
  ///   - weights: dlib's (and PyTorch's) `Cout × Cin × k × k` layout.
  ///   - gamma, beta: the affine layer after the convolution, or `nil` for none.
  init(
    weights w: [Float], bias: [Float], gamma: [Float]?, beta: [Float]?, outputChannels: Int, inputChannels: Int,
    kernel: Int, stride: Int, relu: Bool
  ) {
    self.kernel = kernel
    self.stride = stride
    padding = stride == 1 ? kernel / 2 : 0
    self.inputChannels = inputChannels
    self.outputChannels = outputChannels
    self.relu = relu
    var packed = [Float](repeating: 0, count: kernel * kernel * inputChannels * outputChannels)
    var folded = bias
    for co in 0..<outputChannels {
      let g = gamma?[co] ?? 1
      folded[co] = bias[co] * g + (beta?[co] ?? 0)
      for ci in 0..<inputChannels {
        for ky in 0..<kernel {
          for kx in 0..<kernel {
            packed[((ky * kernel + kx) * inputChannels + ci) * outputChannels + co] =
              w[((co * inputChannels + ci) * kernel + ky) * kernel + kx] * g
          }
        }
      }
    }
    product = FusedGEMMWeights(weights: packed, bias: folded, k: kernel * kernel * inputChannels, n: outputChannels)
  }

  /// Output rows and columns for an `height × width` input (≤ 0 when the
  /// input is smaller than the kernel).
  func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
    let h = height + 2 * padding - kernel
    let w = width + 2 * padding - kernel
    return (h < 0 ? 0 : 1 + h / stride, w < 0 ? 0 : 1 + w / stride)
  }

  /// Output rows per im2col strip: about 256 KiB of columns.
  func stripRows(outputWidth: Int) -> Int {
    max(1, 65_536 / max(1, outputWidth * kernel * kernel * inputChannels))
  }

  /// Computes output rows `rows` (im2col of a strip, then the fused GEMM).
  /// `columns` holds `stripRows · outWidth · k·k·Cin` floats.
  func run(
    input: UnsafePointer<Float>, height: Int, width: Int, output: UnsafeMutablePointer<Float>, rows: Range<Int>,
    columns: UnsafeMutablePointer<Float>
  ) {
    let ow = outputSize(height: height, width: width).width
    let rowLength = kernel * kernel * inputChannels
    let strip = stripRows(outputWidth: ow)
    var oy = rows.lowerBound
    while oy < rows.upperBound {
      let count = min(strip, rows.upperBound - oy)
      ak_im2col(input, height, width, inputChannels, kernel, stride, padding, padding, oy, oy + count, ow, columns)
      product.run(m: count * ow, a: columns, lda: rowLength, c: output + oy * ow * outputChannels, activation: relu ? .relu : .none)
      oy += count
    }
  }

  /// The whole output map, its rows split over `workers` threads.
  func callAsFunction(_ x: FeatureMap, workers: Int) -> FeatureMap {
    let (oh, ow) = outputSize(height: x.height, width: x.width)
    var out = FeatureMap(height: oh, width: ow, channels: outputChannels)
    guard oh > 0, ow > 0 else { return out }
    let scratch = min(oh, stripRows(outputWidth: ow)) * ow * kernel * kernel * inputChannels
    x.values.withUnsafeBufferPointer { inBuffer in
      out.values.withUnsafeMutableBufferPointer { outBuffer in
        let input = SharedReadOnlyBuffer(inBuffer)
        let output = SharedBuffer(outBuffer)
        ParallelFor.chunks(count: oh, workers: workers) { rows in
          var columns = [Float](repeating: 0, count: scratch)
          columns.withUnsafeMutableBufferPointer { c in
            run(
              input: input.base, height: x.height, width: x.width, output: output.base, rows: rows,
              columns: c.baseAddress.unsafelyUnwrapped)
          }
        }
      }
    }
    return out
  }
}
