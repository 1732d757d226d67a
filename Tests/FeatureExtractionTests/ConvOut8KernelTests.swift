import CKernels
import Testing

/// `ak_conv2d_out8` against a plain double-precision loop over the formula
/// in its documentation, on whichever path this process runs
/// (`ANOMALYKIT_KERNELS=portable` selects the portable one).
@Suite("Dense convolution to 8 channels (ak_conv2d_out8)")
struct ConvOut8KernelTests {
  struct Case: CustomStringConvertible, Sendable {
    let channels, kernel, stride, outHeight, outWidth, extraColumns: Int
    let activation: UInt32
    var description: String { "C\(channels) k\(kernel) s\(stride) \(outHeight)×\(outWidth) act\(activation)" }
  }

  static let cases: [Case] = [
    // Tiny-LaDeDa's three layers (small sizes), runs and tails of every length.
    Case(channels: 8, kernel: 3, stride: 1, outHeight: 5, outWidth: 19, extraColumns: 0, activation: AK_ACTIVATION_RELU.rawValue),
    Case(channels: 8, kernel: 1, stride: 1, outHeight: 4, outWidth: 13, extraColumns: 0, activation: AK_ACTIVATION_RELU.rawValue),
    Case(channels: 8, kernel: 3, stride: 2, outHeight: 6, outWidth: 11, extraColumns: 1, activation: AK_ACTIVATION_RELU.rawValue),
    // Other widths, a 5×5 kernel, no activation, and a row stride wider than the image.
    Case(channels: 3, kernel: 5, stride: 2, outHeight: 3, outWidth: 9, extraColumns: 4, activation: AK_ACTIVATION_NONE.rawValue),
    Case(channels: 1, kernel: 2, stride: 3, outHeight: 2, outWidth: 8, extraColumns: 2, activation: AK_ACTIVATION_RELU6.rawValue),
  ]

  /// Deterministic pseudo-random floats in [-scale, scale).
  static func randomFloats(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var state = seed
    return (0..<count).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
  }

  @Test("matches the formula", arguments: cases)
  func matchesFormula(_ c: Case) {
    let inWidth = (c.outWidth - 1) * c.stride + c.kernel + c.extraColumns
    let inHeight = (c.outHeight - 1) * c.stride + c.kernel
    let rowStride = inWidth * c.channels + 5  // padding floats at the end of each row
    let input = Self.randomFloats(inHeight * rowStride, seed: 1, scale: 2)
    let weights = Self.randomFloats(c.kernel * c.kernel * c.channels * 8, seed: 2)
    let scale = Self.randomFloats(8, seed: 3, scale: 3)
    let shift = Self.randomFloats(8, seed: 4)
    let activation = ak_activation(rawValue: c.activation)
    var output = [Float](repeating: .nan, count: c.outHeight * c.outWidth * 8 + 8)
    ak_conv2d_out8(input, rowStride, c.channels, weights, c.kernel, c.stride, scale, shift, &output, c.outHeight, c.outWidth, activation)
    var worst = 0.0
    for oy in 0..<c.outHeight {
      for ox in 0..<c.outWidth {
        for o in 0..<8 {
          var sum = 0.0
          for ky in 0..<c.kernel {
            for kx in 0..<c.kernel {
              for ci in 0..<c.channels {
                let x = input[(oy * c.stride + ky) * rowStride + (ox * c.stride + kx) * c.channels + ci]
                sum += Double(x) * Double(weights[((ky * c.kernel + kx) * c.channels + ci) * 8 + o])
              }
            }
          }
          var expected = sum * Double(scale[o]) + Double(shift[o])
          if activation == AK_ACTIVATION_RELU { expected = max(expected, 0) }
          if activation == AK_ACTIVATION_RELU6 { expected = min(max(expected, 0), 6) }
          worst = max(worst, abs(Double(output[(oy * c.outWidth + ox) * 8 + o]) - expected))
        }
      }
    }
    #expect(worst <= 2e-5, "\(c): max |Δ| = \(worst)")
    let untouched = output.suffix(8).allSatisfy { $0.isNaN }
    #expect(untouched, "\(c): wrote past the output")
  }
}
