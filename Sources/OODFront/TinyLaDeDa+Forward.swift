/// The forward pass, channels-last, one image at a time.
///
/// Every hidden layer has 8 channels, so a pixel's activations are one
/// `SIMD8<Float>` and each convolution tap is `acc += w[tap, in] · x[in]`
/// with `w[tap, in]` the 8 output channels' weights (a column of the PyTorch
/// weight). Four neighbouring output pixels are computed together so the
/// weight loads are shared and the four accumulations run in parallel.
///
/// Stages (see `TinyLaDeDa` for the maths), for an `H × W` input:
/// 1. the input representation (gradient filter or NPR) and conv1, fused
///    per pixel → `H × W × 8`;
/// 2. conv2 + bn1 + ReLU, then layer1.0.conv1 + bn1 + ReLU, fused per
///    pixel → `(H − 2) × (W − 2) × 8`;
/// 3. layer1.0.conv2 (stride 2) + bn2 + ReLU, then fc, fused per cell →
///    the `⌊(H − 5)/2⌋ + 1` by `⌊(W − 5)/2⌋ + 1` logit grid.
extension TinyLaDeDa {
  /// Reusable buffers for one worker; sized on first use.
  struct Workspace {
    var padded: [Float] = []
    var stemOutput: [SIMD8<Float>] = []
    var blockInput: [SIMD8<Float>] = []
  }

  /// Runs the network on a normalised `height × width × 3` channels-last
  /// image (see `normalizedInput(for:)`); any size of at least 5×5 works
  /// (the network is fully convolutional), though the authors always use
  /// 256×256.
  public func forward(_ input: [Float], width: Int, height: Int) throws -> TinyLaDeDaOutput {
    guard width >= Self.minimumInputSize, height >= Self.minimumInputSize else {
      throw TinyLaDeDaError.inputTooSmall(width: width, height: height, minimum: Self.minimumInputSize)
    }
    precondition(input.count == width * height * 3, "input must hold width × height × 3 floats")
    var workspace = Workspace()
    return input.withUnsafeBufferPointer { forward($0, width: width, height: height, workspace: &workspace) }
  }

  func forward(_ input: UnsafeBufferPointer<Float>, width: Int, height: Int, workspace: inout Workspace) -> TinyLaDeDaOutput {
    let pw = width + 2
    let ph = height + 2
    let w1 = width - 2  // conv2 output width
    let h1 = height - 2
    let gw = Self.gridSize(forInput: width)
    let gh = Self.gridSize(forInput: height)
    if workspace.padded.count != pw * ph * 3 { workspace.padded = [Float](repeating: 0, count: pw * ph * 3) }
    if workspace.stemOutput.count != width * height { workspace.stemOutput = [SIMD8<Float>](repeating: .zero, count: width * height) }
    if workspace.blockInput.count != w1 * h1 { workspace.blockInput = [SIMD8<Float>](repeating: .zero, count: w1 * h1) }
    var logits = [Float](repeating: 0, count: gw * gh)

    workspace.padded.withUnsafeMutableBufferPointer { padded in
      // The zero border is the gradient filter's "same" padding; it is
      // never written, so it stays zero across images of one size.
      for y in 0..<height {
        let src = y * width * 3
        let dst = ((y + 1) * pw + 1) * 3
        for i in 0..<(width * 3) { padded[dst + i] = input[src + i] }
      }
    }
    workspace.padded.withUnsafeBufferPointer { padded in
      workspace.stemOutput.withUnsafeMutableBufferPointer { out in
        switch preprocess {
        case .gradient(_, let kernel):
          gradientStem(padded, paddedWidth: pw, width: width, height: height, kernel: kernel, into: out)
        case .npr:
          nprStem(padded, paddedWidth: pw, width: width, height: height, into: out)
        }
      }
    }
    workspace.stemOutput.withUnsafeBufferPointer { a in
      workspace.blockInput.withUnsafeMutableBufferPointer { out in
        conv2Layer(a, width: width, outWidth: w1, outHeight: h1, into: out)
      }
    }
    workspace.blockInput.withUnsafeBufferPointer { c in
      logits.withUnsafeMutableBufferPointer { out in
        headLayer(c, width: w1, gridWidth: gw, gridHeight: gh, into: out)
      }
    }
    return TinyLaDeDaOutput(gridHeight: gh, gridWidth: gw, patchLogits: logits)
  }

  /// Stage 1 with a gradient filter: `g = x ⋆ K` per channel, then
  /// `a = conv1(g)`. `padded` has a one-pixel zero border (the "same"
  /// padding).
  private func gradientStem(
    _ padded: UnsafeBufferPointer<Float>, paddedWidth pw: Int, width: Int, height: Int, kernel: [Float],
    into out: UnsafeMutableBufferPointer<SIMD8<Float>>
  ) {
    let s0 = stem[0], s1 = stem[1], s2 = stem[2]
    let row = pw * 3
    // The non-zero taps as (offset in the padded image, weight), in the
    // kernel's row-major order.
    var taps: [(offset: Int, weight: Float)] = []
    for i in 0..<3 {
      for j in 0..<3 where kernel[i * 3 + j] != 0 { taps.append((i * row + j * 3, kernel[i * 3 + j])) }
    }
    taps.withUnsafeBufferPointer { taps in
      for y in 0..<height {
        for x in 0..<width {
          // Top-left of the 3×3 window in the padded image.
          let p = (y * pw + x) * 3
          var g0: Float = 0, g1: Float = 0, g2: Float = 0
          for t in taps {
            g0 += t.weight * padded[p + t.offset]
            g1 += t.weight * padded[p + t.offset + 1]
            g2 += t.weight * padded[p + t.offset + 2]
          }
          out[y * width + x] = s0 * g0 + s1 * g1 + s2 * g2
        }
      }
    }
  }

  /// Stage 1 with NPR: `g[y,x] = x[y,x] − x[2⌊y/2⌋, 2⌊x/2⌋]` per channel,
  /// then `a = conv1(g)`. Reads the interior of `padded`.
  private func nprStem(
    _ padded: UnsafeBufferPointer<Float>, paddedWidth pw: Int, width: Int, height: Int,
    into out: UnsafeMutableBufferPointer<SIMD8<Float>>
  ) {
    let s0 = stem[0], s1 = stem[1], s2 = stem[2]
    for y in 0..<height {
      for x in 0..<width {
        let p = ((y + 1) * pw + x + 1) * 3
        let q = (((y & ~1) + 1) * pw + (x & ~1) + 1) * 3
        let g0: Float = padded[p] - padded[q]
        let g1: Float = padded[p + 1] - padded[q + 1]
        let g2: Float = padded[p + 2] - padded[q + 2]
        out[y * width + x] = s0 * g0 + s1 * g1 + s2 * g2
      }
    }
  }

  /// Stage 2: `b = relu(bn1(conv2(a)))` (3×3, unpadded), then
  /// `c = relu(bn(layer1.0.conv1(b)))`.
  private func conv2Layer(
    _ a: UnsafeBufferPointer<SIMD8<Float>>, width: Int, outWidth: Int, outHeight: Int,
    into out: UnsafeMutableBufferPointer<SIMD8<Float>>
  ) {
    conv2.withUnsafeBufferPointer { w in
      blockConv1.withUnsafeBufferPointer { pointwise in
        let bn = bn1
        let bnBlock = blockBN1
        @inline(__always) func finish(_ acc: SIMD8<Float>) -> SIMD8<Float> {
          let b = Self.relu(acc * bn.scale + bn.shift)
          var c = SIMD8<Float>.zero
          for i in 0..<8 { c += pointwise[i] * b[i] }
          return Self.relu(c * bnBlock.scale + bnBlock.shift)
        }
        for y in 0..<outHeight {
          var x = 0
          while x + 4 <= outWidth {
            let accs = Self.conv3x3Four(a, rowStride: width, origin: y * width + x, step: 1, weights: w)
            out[y * outWidth + x] = finish(accs.0)
            out[y * outWidth + x + 1] = finish(accs.1)
            out[y * outWidth + x + 2] = finish(accs.2)
            out[y * outWidth + x + 3] = finish(accs.3)
            x += 4
          }
          while x < outWidth {
            out[y * outWidth + x] = finish(Self.conv3x3(a, rowStride: width, origin: y * width + x, weights: w))
            x += 1
          }
        }
      }
    }
  }

  /// Stage 3: `d = relu(bn2(layer1.0.conv2(c)))` (3×3, stride 2,
  /// unpadded), then the patch logit `fc·d + b`.
  private func headLayer(
    _ c: UnsafeBufferPointer<SIMD8<Float>>, width: Int, gridWidth: Int, gridHeight: Int,
    into out: UnsafeMutableBufferPointer<Float>
  ) {
    blockConv2.withUnsafeBufferPointer { w in
      let bn = blockBN2
      let fc = fcWeights
      let bias = fcBias
      @inline(__always) func finish(_ acc: SIMD8<Float>) -> Float {
        let d = Self.relu(acc * bn.scale + bn.shift)
        return (d * fc).sum() + bias
      }
      for gy in 0..<gridHeight {
        var gx = 0
        while gx + 4 <= gridWidth {
          let accs = Self.conv3x3Four(c, rowStride: width, origin: 2 * gy * width + 2 * gx, step: 2, weights: w)
          out[gy * gridWidth + gx] = finish(accs.0)
          out[gy * gridWidth + gx + 1] = finish(accs.1)
          out[gy * gridWidth + gx + 2] = finish(accs.2)
          out[gy * gridWidth + gx + 3] = finish(accs.3)
          gx += 4
        }
        while gx < gridWidth {
          out[gy * gridWidth + gx] = finish(Self.conv3x3(c, rowStride: width, origin: 2 * gy * width + 2 * gx, weights: w))
          gx += 1
        }
      }
    }
  }

  /// One 3×3, 8 → 8 convolution output whose window's top-left input pixel
  /// is `origin`: `Σ_{ky,kx,i} w[(ky·3 + kx)·8 + i] · x[origin + ky·rowStride + kx][i]`.
  @inline(__always)
  private static func conv3x3(
    _ x: UnsafeBufferPointer<SIMD8<Float>>, rowStride: Int, origin: Int, weights w: UnsafeBufferPointer<SIMD8<Float>>
  ) -> SIMD8<Float> {
    var acc = SIMD8<Float>.zero
    for ky in 0..<3 {
      for kx in 0..<3 {
        let v = x[origin + ky * rowStride + kx]
        let tap = (ky * 3 + kx) * 8
        for i in 0..<8 { acc += w[tap + i] * v[i] }
      }
    }
    return acc
  }

  /// Four outputs `step` input pixels apart along a row (see `conv3x3`).
  @inline(__always)
  private static func conv3x3Four(
    _ x: UnsafeBufferPointer<SIMD8<Float>>, rowStride: Int, origin: Int, step: Int, weights w: UnsafeBufferPointer<SIMD8<Float>>
  ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    var a0 = SIMD8<Float>.zero, a1 = a0, a2 = a0, a3 = a0
    for ky in 0..<3 {
      for kx in 0..<3 {
        let p = origin + ky * rowStride + kx
        let v0 = x[p], v1 = x[p + step], v2 = x[p + 2 * step], v3 = x[p + 3 * step]
        let tap = (ky * 3 + kx) * 8
        for i in 0..<8 {
          let wi = w[tap + i]
          a0 += wi * v0[i]
          a1 += wi * v1[i]
          a2 += wi * v2[i]
          a3 += wi * v3[i]
        }
      }
    }
    return (a0, a1, a2, a3)
  }

  @inline(__always)
  static func relu(_ v: SIMD8<Float>) -> SIMD8<Float> {
    v.replacing(with: 0, where: v .< 0)
  }
}
