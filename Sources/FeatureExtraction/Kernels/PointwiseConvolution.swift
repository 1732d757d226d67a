/// A 1×1 convolution with bias: one GEMM over the pixels of an HWC map.
///
/// ```
/// out[p, co] = bias[co] + Σ_ci in[p, ci] · W[ci, co]   (+ residual[p, co])
/// ```
struct PointwiseConvolution: Sendable {
  let inputChannels: Int
  let outputChannels: Int
  /// `Cin × Cout`, row-major.
  let weights: [Float]
  let bias: [Float]
  let activation: Activation

  /// Builds from PyTorch's `Cout × Cin × 1 × 1` layout.
  init(torchWeights w: [Float], outputChannels: Int, inputChannels: Int, bias: [Float], activation: Activation) {
    self.inputChannels = inputChannels
    self.outputChannels = outputChannels
    self.bias = bias
    self.activation = activation
    var t = [Float](repeating: 0, count: w.count)
    for co in 0..<outputChannels {
      for ci in 0..<inputChannels { t[ci * outputChannels + co] = w[co * inputChannels + ci] }
    }
    self.weights = t
  }

  /// Runs over `pixels` rows. With `residual`, the result is added to it
  /// (`residual` may not alias `output`).
  func run(input: UnsafePointer<Float>, pixels: Int, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>? = nil) {
    weights.withUnsafeBufferPointer { w in
      if let residual {
        output.update(from: residual, count: pixels * outputChannels)
        gemm(m: pixels, n: outputChannels, k: inputChannels, a: input, lda: inputChannels, b: w.baseAddress.unsafelyUnwrapped, ldb: outputChannels, c: output, ldc: outputChannels, beta: 1)
      } else {
        gemm(m: pixels, n: outputChannels, k: inputChannels, a: input, lda: inputChannels, b: w.baseAddress.unsafelyUnwrapped, ldb: outputChannels, c: output, ldc: outputChannels)
      }
    }
    bias.withUnsafeBufferPointer {
      addBiasActivate(output, rows: pixels, channels: outputChannels, bias: $0.baseAddress.unsafelyUnwrapped, activation: activation)
    }
  }
}
