/// A depthwise k×k convolution (one filter per channel), TF "SAME" padding,
/// with bias and activation, in a vectorised loop over channels.
///
/// ```
/// out[oy, ox, c] = act(bias[c] + Σ_{ky,kx} in[oy·s+ky−pad_y, ox·s+kx−pad_x, c] · W[ky·k+kx, c])
/// ```
///
/// Channels are contiguous (HWC), so eight channels are accumulated in one
/// SIMD register across all k² taps and stored once.
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

  func run(input: UnsafePointer<Float>, height: Int, width: Int, output: UnsafeMutablePointer<Float>) {
    let py = SamePadding(input: height, kernel: kernel, stride: stride)
    let px = SamePadding(input: width, kernel: kernel, stride: stride)
    let oh = py.output
    let ow = px.output
    let c8 = channels & ~7
    let k = kernel
    let C = channels
    weights.withUnsafeBufferPointer { wbuf in
      bias.withUnsafeBufferPointer { bbuf in
        let w = wbuf.baseAddress.unsafelyUnwrapped
        let b = bbuf.baseAddress.unsafelyUnwrapped
        for oy in 0..<oh {
          let y0 = oy * stride - py.begin
          let kyLo = max(0, -y0)
          let kyHi = min(k, height - y0)
          for ox in 0..<ow {
            let x0 = ox * stride - px.begin
            let kxLo = max(0, -x0)
            let kxHi = min(k, width - x0)
            let out = output + (oy * ow + ox) * C
            var c = 0
            while c < c8 {
              var acc = UnsafeRawPointer(b + c).loadUnaligned(as: SIMD8<Float>.self)
              for ky in kyLo..<kyHi {
                let inRow = input + ((y0 + ky) * width + x0) * C + c
                let wRow = w + ky * k * C + c
                for kx in kxLo..<kxHi {
                  let v = UnsafeRawPointer(inRow + kx * C).loadUnaligned(as: SIMD8<Float>.self)
                  let f = UnsafeRawPointer(wRow + kx * C).loadUnaligned(as: SIMD8<Float>.self)
                  acc += v * f  // not addProduct: without FMA codegen that is a libm call per lane
                }
              }
              acc = activation.apply(acc)
              UnsafeMutableRawPointer(out + c).storeBytes(of: acc, as: SIMD8<Float>.self)
              c += 8
            }
            while c < C {
              var acc = b[c]
              for ky in kyLo..<kyHi {
                for kx in kxLo..<kxHi {
                  acc += input[((y0 + ky) * width + x0 + kx) * C + c] * w[(ky * k + kx) * C + c]
                }
              }
              switch activation {
              case .none: break
              case .relu6: acc = min(max(acc, 0), 6)
              case .relu: acc = max(acc, 0)
              }
              out[c] = acc
              c += 1
            }
          }
        }
      }
    }
  }
}
