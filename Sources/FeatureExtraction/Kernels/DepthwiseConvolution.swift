import CKernels

/// A depthwise k×k convolution (one filter per channel), TF "SAME" padding,
/// with bias and activation:
///
/// ```
/// out[oy, ox, c] = act(bias[c] + Σ_{ky,kx} in[oy·s+ky−pad_y, ox·s+kx−pad_x, c] · W[ky·k+kx, c])
/// ```
///
/// Runs in the C kernel `ak_depthwise_conv2d`: channels are contiguous (HWC),
/// so a vector register accumulates sixteen channels (AVX-512, channel
/// counts that are multiples of 16) or eight (AVX2 + FMA) across the k²
/// taps, four neighbouring output pixels at a time; both give the same bits.
struct DepthwiseConvolution: Sendable {
  let kernel: Int
  let stride: Int
  let channels: Int
  /// `(k·k) × C`, row-major.
  let weights: [Float]
  let bias: [Float]
  let activation: Activation

  /// Builds from PyTorch's `C × 1 × k × k` layout.
  init(torchWeights w: [Float], channels: Int, kernel: Int, stride: Int, bias: [Float], activation: Activation) {
    self.kernel = kernel
    self.stride = stride
    self.channels = channels
    self.bias = bias
    self.activation = activation
    var t = [Float](repeating: 0, count: w.count)
    for c in 0..<channels {
      for k in 0..<(kernel * kernel) { t[k * channels + c] = w[c * kernel * kernel + k] }
    }
    self.weights = t
  }

  func outputSize(height: Int, width: Int) -> (Int, Int) {
    (SamePadding(input: height, kernel: kernel, stride: stride).output, SamePadding(input: width, kernel: kernel, stride: stride).output)
  }

  /// The input rows that output rows `rows` read (of an input `height` rows high).
  func inputRows(for rows: Range<Int>, height: Int) -> Range<Int> {
    let pad = SamePadding(input: height, kernel: kernel, stride: stride).begin
    let lo = max(0, rows.lowerBound * stride - pad)
    let hi = min(height, (rows.upperBound - 1) * stride - pad + kernel)
    return lo..<max(lo, hi)
  }

  /// Output rows `rows` of `run(input:height:width:output:)` into `output`
  /// (row `rows.lowerBound` first), from `input` holding the input rows from
  /// `firstInputRow` on (at least `inputRows(for: rows, height:)`). The same
  /// bits as those rows of the whole map.
  func run(
    input: UnsafePointer<Float>, firstInputRow: Int, height: Int, width: Int, rows: Range<Int>, output: UnsafeMutablePointer<Float>
  ) {
    let py = SamePadding(input: height, kernel: kernel, stride: stride)
    let px = SamePadding(input: width, kernel: kernel, stride: stride)
    weights.withUnsafeBufferPointer { w in
      bias.withUnsafeBufferPointer { b in
        ak_depthwise_conv2d_rows(
          input, firstInputRow, height, width, channels, w.baseAddress, b.baseAddress, kernel, stride, py.begin, px.begin,
          output, px.output, activation.kernelValue, rows.lowerBound, rows.upperBound)
      }
    }
  }

  /// `run(input:firstInputRow:height:width:rows:output:)` fused with the
  /// quantisation of the output for `product`, the int8 product that reads
  /// it (`ak_depthwise_conv2d_i8`): bands of rows are quantised while in
  /// cache, into `quantized` (row `rows.lowerBound` first;
  /// `ak_i8_gemm_scratch_count(pixels, channels)` words). The same bits as
  /// `run` followed by the product's own quantisation.
  func runQuantized(
    input: UnsafePointer<Float>, firstInputRow: Int, height: Int, width: Int, rows: Range<Int>, for product: FusedGEMMWeights,
    quantized: UnsafeMutablePointer<UInt32>
  ) {
    let py = SamePadding(input: height, kernel: kernel, stride: stride)
    let px = SamePadding(input: width, kernel: kernel, stride: stride)
    product.withInt8Panels { panels in
      guard let panels else { return }
      withUnsafeTemporaryAllocation(of: Float.self, capacity: ak_depthwise_band_count(px.output, channels)) { band in
        weights.withUnsafeBufferPointer { w in
          bias.withUnsafeBufferPointer { b in
            ak_depthwise_conv2d_i8(
              input, firstInputRow, height, width, channels, w.baseAddress, b.baseAddress, kernel, stride, py.begin,
              px.begin, px.output, activation.kernelValue, rows.lowerBound, rows.upperBound, panels, band.baseAddress,
              quantized)
          }
        }
      }
    }
  }

  func run(input: UnsafePointer<Float>, height: Int, width: Int, output: UnsafeMutablePointer<Float>) {
    run(input: input, firstInputRow: 0, height: height, width: width, rows: 0..<outputSize(height: height, width: width).0, output: output)
  }
}
