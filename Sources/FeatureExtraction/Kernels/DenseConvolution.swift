/// A dense k×k convolution (any stride, TF "SAME" padding) with bias, run as
/// im2col followed by one GEMM.
///
/// Layout is channels-last (HWC). The weights are stored as a
/// `(k·k·Cin) × Cout` matrix whose row index is `(ky·k + kx)·Cin + ci`, so
/// that the im2col row of an output pixel lines up with it:
///
/// ```
/// out[p, co] = bias[co] + Σ_{ky,kx,ci} in[y(p)+ky−pad, x(p)+kx−pad, ci] · W[(ky·k+kx)·Cin+ci, co]
/// ```
struct DenseConvolution: Sendable {
  let kernel: Int
  let stride: Int
  let inputChannels: Int
  let outputChannels: Int
  /// `(k·k·Cin) × Cout`, row-major.
  let weights: [Float]
  let bias: [Float]
  let activation: Activation

  /// Builds from PyTorch's `Cout × Cin × k × k` layout.
  init(torchWeights w: [Float], outputChannels: Int, inputChannels: Int, kernel: Int, stride: Int, bias: [Float], activation: Activation) {
    self.kernel = kernel
    self.stride = stride
    self.inputChannels = inputChannels
    self.outputChannels = outputChannels
    self.bias = bias
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
    self.weights = packed
  }

  func outputSize(height: Int, width: Int) -> (Int, Int) {
    (SamePadding(input: height, kernel: kernel, stride: stride).output, SamePadding(input: width, kernel: kernel, stride: stride).output)
  }

  /// Scratch floats needed for the im2col matrix.
  func columnsCount(height: Int, width: Int) -> Int {
    let (oh, ow) = outputSize(height: height, width: width)
    return oh * ow * kernel * kernel * inputChannels
  }

  func run(
    input: UnsafePointer<Float>, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
    columns: UnsafeMutablePointer<Float>
  ) {
    let py = SamePadding(input: height, kernel: kernel, stride: stride)
    let px = SamePadding(input: width, kernel: kernel, stride: stride)
    let oh = py.output
    let ow = px.output
    let rowLength = kernel * kernel * inputChannels
    for oy in 0..<oh {
      for ox in 0..<ow {
        let col = columns + (oy * ow + ox) * rowLength
        for ky in 0..<kernel {
          let iy = oy * stride + ky - py.begin
          for kx in 0..<kernel {
            let ix = ox * stride + kx - px.begin
            let dst = col + (ky * kernel + kx) * inputChannels
            if iy < 0 || iy >= height || ix < 0 || ix >= width {
              dst.update(repeating: 0, count: inputChannels)
            } else {
              dst.update(from: input + (iy * width + ix) * inputChannels, count: inputChannels)
            }
          }
        }
      }
    }
    weights.withUnsafeBufferPointer { w in
      gemm(m: oh * ow, n: outputChannels, k: rowLength, a: columns, lda: rowLength, b: w.baseAddress.unsafelyUnwrapped, ldb: outputChannels, c: output, ldc: outputChannels)
    }
    bias.withUnsafeBufferPointer {
      addBiasActivate(output, rows: oh * ow, channels: outputChannels, bias: $0.baseAddress.unsafelyUnwrapped, activation: activation)
    }
  }
}
