import CKernels

/// A dense k×k convolution (any stride, TF "SAME" padding) with bias and
/// activation, run as im2col followed by the fused GEMM
/// (see `FusedGEMMWeights`), a strip of output rows at a time.
///
/// Layout is channels-last (HWC). The weights are stored as a
/// `(k·k·Cin) × Cout` matrix whose row index is `(ky·k + kx)·Cin + ci`, so
/// that the im2col row of an output pixel lines up with it:
///
/// ```
/// out[p, co] = act(bias[co] + Σ_{ky,kx,ci} in[y(p)+ky−pad, x(p)+kx−pad, ci] · W[(ky·k+kx)·Cin+ci, co])
/// ```
struct DenseConvolution: Sendable {
  let kernel: Int
  let stride: Int
  let inputChannels: Int
  let outputChannels: Int
  let activation: Activation
  /// `W` (`(k·k·Cin) × Cout`) and bias, ready for the product.
  let product: FusedGEMMWeights

  /// Builds from PyTorch's `Cout × Cin × k × k` layout; the product runs in
  /// `precision` (`int8` quantises its input to `activationRange`).
  init(
    torchWeights w: [Float], outputChannels: Int, inputChannels: Int, kernel: Int, stride: Int, bias: [Float], activation: Activation,
    precision: ComputePrecision = .fp32, activationRange: ClosedRange<Float>? = nil
  ) {
    self.kernel = kernel
    self.stride = stride
    self.inputChannels = inputChannels
    self.outputChannels = outputChannels
    self.activation = activation
    var packed = [Float](repeating: 0, count: kernel * kernel * inputChannels * outputChannels)
    for co in 0..<outputChannels {
      for ci in 0..<inputChannels {
        for ky in 0..<kernel {
          for kx in 0..<kernel {
            packed[((ky * kernel + kx) * inputChannels + ci) * outputChannels + co] =
              w[((co * inputChannels + ci) * kernel + ky) * kernel + kx]
          }
        }
      }
    }
    product = FusedGEMMWeights(
      weights: packed, bias: bias, k: kernel * kernel * inputChannels, n: outputChannels, precision: precision,
      activationRange: activationRange)
  }

  func outputSize(height: Int, width: Int) -> (Int, Int) {
    (SamePadding(input: height, kernel: kernel, stride: stride).output, SamePadding(input: width, kernel: kernel, stride: stride).output)
  }

  /// Output rows per im2col strip: about 64 KiB of columns, so that the
  /// GEMM reads them back from L2.
  func stripRows(height: Int, width: Int) -> Int {
    let (_, ow) = outputSize(height: height, width: width)
    return max(1, 16_384 / max(1, ow * kernel * kernel * inputChannels))
  }

  /// Scratch floats needed for one strip of the im2col matrix.
  func columnsCount(height: Int, width: Int) -> Int {
    let (oh, ow) = outputSize(height: height, width: width)
    return min(oh, stripRows(height: height, width: width)) * ow * kernel * kernel * inputChannels
  }

  /// Runs strip by strip: im2col of a few output rows (`ak_im2col`), then
  /// the fused GEMM on them. `columns` holds `columnsCount` floats.
  ///
  /// An int8 product takes `codes` (at least `height · width · Cin` bytes):
  /// the input is quantised once into it and im2col gathers the codes
  /// (`ak_im2col_u8`), which gives the bits of quantising the columns.
  func run(
    input: UnsafePointer<Float>, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
    columns: UnsafeMutablePointer<Float>, codes: UnsafeMutablePointer<Float>? = nil
  ) {
    if product.takesQuantizedInput, let codes {
      runQuantized(input: input, height: height, width: width, output: output, columns: columns, codes: codes)
      return
    }
    let py = SamePadding(input: height, kernel: kernel, stride: stride)
    let px = SamePadding(input: width, kernel: kernel, stride: stride)
    forEachStrip(height: height, width: width) { rows in
      ak_im2col(
        input, height, width, inputChannels, kernel, stride, py.begin, px.begin, rows.lowerBound, rows.upperBound, px.output,
        columns)
      product.run(
        m: rows.count * px.output, a: columns, lda: kernel * kernel * inputChannels,
        c: output + rows.lowerBound * px.output * outputChannels, activation: activation)
    }
  }

  /// `run` for an int8 product: the image is quantised once into `codes`,
  /// then each strip's rows are gathered from the codes.
  private func runQuantized(
    input: UnsafePointer<Float>, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
    columns: UnsafeMutablePointer<Float>, codes: UnsafeMutablePointer<Float>
  ) {
    let py = SamePadding(input: height, kernel: kernel, stride: stride)
    let px = SamePadding(input: width, kernel: kernel, stride: stride)
    let values = height * width * inputChannels
    let words = ak_i8_gemm_scratch_count(stripRows(height: height, width: width) * px.output, kernel * kernel * inputChannels)
    product.withInt8Panels { panels in
      guard let panels else { return }
      UnsafeMutableRawPointer(codes).withMemoryRebound(to: UInt32.self, capacity: ak_i8_gemm_scratch_count(1, values)) { image in
        ak_i8_gemm_quantize_input(1, values, input, values, panels, image)
        let outside = UInt8(ak_i8_gemm_zero_point(panels))
        UnsafeRawPointer(image).withMemoryRebound(to: UInt8.self, capacity: values) { bytes in
          UnsafeMutableRawPointer(columns).withMemoryRebound(to: UInt32.self, capacity: words) { strip in
            forEachStrip(height: height, width: width) { rows in
              ak_im2col_u8(
                bytes, height, width, inputChannels, kernel, stride, py.begin, px.begin, rows.lowerBound, rows.upperBound,
                px.output, outside, strip)
              product.runQuantized(
                m: rows.count * px.output, rows: strip, c: output + rows.lowerBound * px.output * outputChannels,
                activation: activation)
            }
          }
        }
      }
    }
  }

  /// Calls `body` with consecutive strips of `stripRows` output rows.
  private func forEachStrip(height: Int, width: Int, _ body: (Range<Int>) -> Void) {
    let (oh, _) = outputSize(height: height, width: width)
    let strip = stripRows(height: height, width: width)
    var oy = 0
    while oy < oh {
      body(oy..<min(oh, oy + strip))
      oy += strip
    }
  }

}
