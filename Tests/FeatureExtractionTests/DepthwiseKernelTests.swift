import CKernels
import FeatureExtraction
import Testing

/// `ak_depthwise_conv2d` against the definition written out in Swift: for
/// every output pixel and channel, the bias, then one fused multiply-add
/// per tap inside the image (rows outer, columns inner), then the
/// activation. The AVX-512 (sixteen channels at a time, where the channel
/// count is a multiple of 16) and AVX2 copies run exactly that FMA chain, so
/// they must give its bits; the portable copy multiplies and adds
/// separately and must agree to float rounding. `.ci/run` runs the suite a
/// second time under `ANOMALYKIT_KERNELS=portable`.
@Suite("Depthwise convolution kernel")
struct DepthwiseKernelTests {
  static func reference(
    _ input: [Float], height: Int, width: Int, channels: Int, weights: [Float], bias: [Float], kernel: Int, stride: Int,
    padTop: Int, padLeft: Int, outHeight: Int, outWidth: Int, activation: ak_activation
  ) -> [Float] {
    var out = [Float](repeating: 0, count: outHeight * outWidth * channels)
    for oy in 0..<outHeight {
      for ox in 0..<outWidth {
        for c in 0..<channels {
          var acc = bias[c]
          for ky in 0..<kernel {
            let y = oy * stride - padTop + ky
            guard y >= 0 && y < height else { continue }
            for kx in 0..<kernel {
              let x = ox * stride - padLeft + kx
              guard x >= 0 && x < width else { continue }
              acc = acc.addingProduct(input[(y * width + x) * channels + c], weights[(ky * kernel + kx) * channels + c])
            }
          }
          switch activation {
          case AK_ACTIVATION_RELU6: acc = min(max(acc, 0), 6)
          case AK_ACTIVATION_RELU: acc = max(acc, 0)
          default: break
          }
          out[(oy * outWidth + ox) * channels + c] = acc
        }
      }
    }
    return out
  }

  /// (kernel, stride, channels, height, width): the specialised 3×3 and 5×5
  /// runs at both strides, channel counts that take the sixteen-wide copy
  /// (16, 48, 144), the eight-wide one (8, 24, 40) and the pixel path (7,
  /// and 7×7 filters), maps narrower than a run of four pixels, and borders.
  static let shapes: [(Int, Int, Int, Int, Int)] = [
    (3, 1, 16, 9, 11), (3, 2, 48, 13, 10), (5, 1, 144, 8, 9), (5, 2, 16, 15, 17), (3, 1, 24, 7, 6), (5, 2, 40, 9, 12),
    (3, 2, 8, 5, 3), (3, 1, 7, 6, 5), (7, 1, 32, 9, 9), (5, 1, 32, 4, 2), (3, 1, 64, 1, 1),
  ]

  @Test("gives the FMA chain of the definition bit for bit (to float rounding on the portable path)", arguments: shapes)
  func matchesDefinition(shape: (kernel: Int, stride: Int, channels: Int, height: Int, width: Int)) {
    let (k, s, c, height, width) = shape
    let input = BFloat16GEMMTests.randomFloats(height * width * c, seed: UInt64(k * 100 + c), scale: 2)
    let weights = BFloat16GEMMTests.randomFloats(k * k * c, seed: UInt64(c), scale: 0.5)
    let bias = BFloat16GEMMTests.randomFloats(c, seed: 7)
    let outHeight = (height + s - 1) / s, outWidth = (width + s - 1) / s
    let padTop = max((outHeight - 1) * s + k - height, 0) / 2, padLeft = max((outWidth - 1) * s + k - width, 0) / 2
    let exact = KernelPath.active != .portable
    for activation in [AK_ACTIVATION_NONE, AK_ACTIVATION_RELU6] {
      var out = [Float](repeating: .nan, count: outHeight * outWidth * c)
      ak_depthwise_conv2d(input, height, width, c, weights, bias, k, s, padTop, padLeft, &out, outHeight, outWidth, activation)
      let expected = Self.reference(
        input, height: height, width: width, channels: c, weights: weights, bias: bias, kernel: k, stride: s, padTop: padTop,
        padLeft: padLeft, outHeight: outHeight, outWidth: outWidth, activation: activation)
      let label = "\(k)×\(k) stride \(s), \(c) channels, \(height)×\(width), activation \(activation.rawValue)"
      if exact {
        let differing = zip(out, expected).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(label): \(differing) of \(out.count) values differ")
      } else {
        let worst = zip(out, expected).map { abs($0 - $1) / max(abs($1), 1) }.max() ?? 0
        #expect(worst <= 1e-5, "\(label): worst relative difference \(worst)")
      }
    }
  }
}
