/// A 1×1 convolution with bias and activation: one fused GEMM over the
/// pixels of an HWC map (see `FusedGEMMWeights`).
///
/// ```
/// out[p, co] = act(bias[co] + Σ_ci in[p, ci] · W[ci, co])   (+ residual[p, co])
/// ```
struct PointwiseConvolution: Sendable {
  let inputChannels: Int
  let outputChannels: Int
  let activation: Activation
  /// `W` (`Cin × Cout`) and bias, ready for the product.
  let product: FusedGEMMWeights

  /// Builds from PyTorch's `Cout × Cin × 1 × 1` layout; the product runs in
  /// `precision` (`int8` quantises its input to `activationRange`).
  init(
    torchWeights w: [Float], outputChannels: Int, inputChannels: Int, bias: [Float], activation: Activation,
    precision: ComputePrecision = .fp32, activationRange: ClosedRange<Float>? = nil
  ) {
    self.inputChannels = inputChannels
    self.outputChannels = outputChannels
    self.activation = activation
    var t = [Float](repeating: 0, count: w.count)
    for co in 0..<outputChannels {
      for ci in 0..<inputChannels { t[ci * outputChannels + co] = w[co * inputChannels + ci] }
    }
    product = FusedGEMMWeights(
      weights: t, bias: bias, k: inputChannels, n: outputChannels, precision: precision, activationRange: activationRange)
  }

  /// Runs over `pixels` rows. With `residual`, the result is added to it
  /// after the activation (`residual` may not alias `output`).
  func run(input: UnsafePointer<Float>, pixels: Int, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>? = nil) {
    product.run(m: pixels, a: input, lda: inputChannels, c: output, residual: residual, activation: activation)
  }
}
