import CKernels

/// The forward pass, channels-last, one image at a time.
///
/// Every hidden layer has 8 channels, so a pixel's activations are one
/// `SIMD8<Float>`. The input representation and conv1 are fused in Swift
/// (one `SIMD4` per input pixel, RGB and a zero lane); the three
/// convolutions after them run in `ak_conv2d_out8` (CKernels: one 8-wide
/// vector per output pixel, AVX2 + FMA when the CPU has it), each with its
/// batch norm and ReLU applied on the way out.
///
/// Stages (see `TinyLaDeDa` for the maths), for an `H × W` input:
/// 1. the input representation (gradient filter or NPR) and conv1, fused
///    per pixel → `a`, `H × W × 8`;
/// 2. conv2 + bn1 + ReLU → `b`, `(H − 2) × (W − 2) × 8`;
/// 3. layer1.0.conv1 + bn1 + ReLU → `c`, same size (written over `a`);
/// 4. layer1.0.conv2 (stride 2) + bn2 + ReLU → `d`, the
///    `⌊(H − 5)/2⌋ + 1` by `⌊(W − 5)/2⌋ + 1` grid (written over `b`);
/// 5. the patch logits `fc·d + b_fc`.
extension TinyLaDeDa {
  /// Reusable buffers for one worker; sized by `prepare`.
  struct Workspace {
    /// The normalised input with a one-pixel zero border,
    /// `(H + 2) × (W + 2)` pixels of (R, G, B, 0).
    var padded: [SIMD4<Float>] = []
    /// `a` (`H × W`), later `c`.
    var evenLayers: [SIMD8<Float>] = []
    /// `b` (`(H − 2) × (W − 2)`), later `d`.
    var oddLayers: [SIMD8<Float>] = []
    var width = 0
    var height = 0

    /// Sizes the buffers for an `width × height` input. The zero border of
    /// `padded` (the gradient filter's "same" padding) is never written
    /// afterwards, so it stays zero for every image of that size.
    mutating func prepare(width: Int, height: Int) {
      guard width != self.width || height != self.height else { return }
      self.width = width
      self.height = height
      padded = [SIMD4<Float>](repeating: .zero, count: (width + 2) * (height + 2))
      evenLayers = [SIMD8<Float>](repeating: .zero, count: width * height)
      oddLayers = [SIMD8<Float>](repeating: .zero, count: (width - 2) * (height - 2))
    }

    /// Calls `body` with `padded` and a function that gives the index in it
    /// of input row `y`'s first pixel (the interior starts at (1, 1)).
    mutating func fillInput(_ body: (UnsafeMutableBufferPointer<SIMD4<Float>>, _ rowStart: (Int) -> Int) -> Void) {
      let pw = width + 2
      padded.withUnsafeMutableBufferPointer { body($0) { y in (y + 1) * pw + 1 } }
    }
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
    workspace.prepare(width: width, height: height)
    input.withUnsafeBufferPointer { src in
      workspace.fillInput { padded, rowStart in
        for y in 0..<height {
          let dst = rowStart(y)
          for x in 0..<width {
            let p = (y * width + x) * 3
            padded[dst + x] = SIMD4(src[p], src[p + 1], src[p + 2], 0)
          }
        }
      }
    }
    return run(&workspace)
  }

  /// Stages 1–5 on the input already in `workspace.padded`.
  func run(_ workspace: inout Workspace) -> TinyLaDeDaOutput {
    let (width, height) = (workspace.width, workspace.height)
    let w1 = width - 2  // conv2 output width
    let h1 = height - 2
    let gw = Self.gridSize(forInput: width)
    let gh = Self.gridSize(forInput: height)
    var logits = [Float](repeating: 0, count: gw * gh)

    workspace.padded.withUnsafeBufferPointer { padded in
      workspace.evenLayers.withUnsafeMutableBufferPointer { out in
        switch preprocess {
        case .gradient(_, let kernel):
          gradientStem(padded, width: width, height: height, kernel: kernel, into: out)
        case .npr:
          nprStem(padded, width: width, height: height, into: out)
        }
      }
    }
    workspace.evenLayers.withUnsafeMutableBufferPointer { a in
      workspace.oddLayers.withUnsafeMutableBufferPointer { b in
        a.withMemoryRebound(to: Float.self) { a in
          b.withMemoryRebound(to: Float.self) { b in
            // b = relu(bn1(conv2(a))), 3×3
            convolve(a, rowStride: width * 8, weights: conv2, kernel: 3, stride: 1, norm: bn1, into: b, outHeight: h1, outWidth: w1)
            // c = relu(bn(layer1.0.conv1(b))), 1×1, into a's storage
            convolve(b, rowStride: w1 * 8, weights: blockConv1, kernel: 1, stride: 1, norm: blockBN1, into: a, outHeight: h1, outWidth: w1)
            // d = relu(bn(layer1.0.conv2(c))), 3×3 stride 2, into b's storage
            convolve(a, rowStride: w1 * 8, weights: blockConv2, kernel: 3, stride: 2, norm: blockBN2, into: b, outHeight: gh, outWidth: gw)
          }
        }
        // ℓ = fc·d + b_fc at every cell
        let fc = fcWeights
        let bias = fcBias
        logits.withUnsafeMutableBufferPointer { out in
          for i in 0..<(gh * gw) { out[i] = (b[i] * fc).sum() + bias }
        }
      }
    }
    return TinyLaDeDaOutput(gridHeight: gh, gridWidth: gw, patchLogits: logits)
  }

  /// `output = relu(norm(conv(input)))` with an unpadded `kernel × kernel`,
  /// 8 → 8 convolution whose weights are `[ky][kx][in]` columns (the
  /// `(k·k·8) × 8` matrix `ak_conv2d_out8` reads).
  private func convolve(
    _ input: UnsafeMutableBufferPointer<Float>, rowStride: Int, weights: [SIMD8<Float>], kernel: Int, stride: Int,
    norm: BatchNorm, into output: UnsafeMutableBufferPointer<Float>, outHeight: Int, outWidth: Int
  ) {
    precondition(output.count >= outHeight * outWidth * 8, "output buffer too small")
    weights.withUnsafeBufferPointer { columns in
      columns.withMemoryRebound(to: Float.self) { w in
        ak_conv2d_out8(
          input.baseAddress, rowStride, 8, w.baseAddress, kernel, stride, norm.scale, norm.shift, output.baseAddress, outHeight,
          outWidth, AK_ACTIVATION_RELU)
      }
    }
  }

  /// `a = conv1(g)` for one pixel's representation `g` (RGB in lanes 0–2).
  @inline(__always)
  private static func stemPixel(_ g: SIMD4<Float>, _ s0: SIMD8<Float>, _ s1: SIMD8<Float>, _ s2: SIMD8<Float>) -> SIMD8<Float> {
    s0 * g[0] + s1 * g[1] + s2 * g[2]
  }

  /// Stage 1 with a gradient filter: `g = x ⋆ K` per channel, then
  /// `a = conv1(g)`. `padded` has the one-pixel zero border.
  private func gradientStem(
    _ padded: UnsafeBufferPointer<SIMD4<Float>>, width: Int, height: Int, kernel: [Float],
    into out: UnsafeMutableBufferPointer<SIMD8<Float>>
  ) {
    let s0 = stem[0], s1 = stem[1], s2 = stem[2]
    let pw = width + 2
    // The non-zero taps as (offset in the padded image from the window's
    // top-left pixel, weight), in the kernel's row-major order.
    var offsets: [Int] = []
    var weights: [Float] = []
    for i in 0..<3 {
      for j in 0..<3 where kernel[i * 3 + j] != 0 {
        offsets.append(i * pw + j)
        weights.append(kernel[i * 3 + j])
      }
    }
    offsets.withUnsafeBufferPointer { offsets in
      weights.withUnsafeBufferPointer { weights in
        for y in 0..<height {
          for x in 0..<width {
            let p = y * pw + x  // top-left of the 3×3 window
            var g = SIMD4<Float>.zero
            for t in 0..<offsets.count { g += weights[t] * padded[p + offsets[t]] }
            out[y * width + x] = Self.stemPixel(g, s0, s1, s2)
          }
        }
      }
    }
  }

  /// Stage 1 with NPR: `g[y,x] = x[y,x] − x[2⌊y/2⌋, 2⌊x/2⌋]` per channel,
  /// then `a = conv1(g)`. Reads the interior of `padded`.
  private func nprStem(
    _ padded: UnsafeBufferPointer<SIMD4<Float>>, width: Int, height: Int, into out: UnsafeMutableBufferPointer<SIMD8<Float>>
  ) {
    let s0 = stem[0], s1 = stem[1], s2 = stem[2]
    let pw = width + 2
    for y in 0..<height {
      let row = (y + 1) * pw + 1
      let blockRow = ((y & ~1) + 1) * pw + 1
      for x in 0..<width {
        out[y * width + x] = Self.stemPixel(padded[row + x] - padded[blockRow + (x & ~1)], s0, s1, s2)
      }
    }
  }
}
