import FeatureExtraction

/// The authors' test-time preprocessing (`data/datasets.py`, `binary_dataset`
/// with `no_crop`): torchvision `Resize((256, 256))` on the PIL image, then
/// `ToTensor()` and `Normalize(ImageNet mean, std)`:
///
/// ```
/// x[c] = (p[c] / 255 − mean[c]) / std[c],  mean = (0.485, 0.456, 0.406), std = (0.229, 0.224, 0.225)
/// ```
///
/// evaluated in float32 in that order, as torchvision does, so the network
/// input matches bit for bit.
///
/// The resize is Pillow's antialiased bilinear (what torchvision's `Resize`
/// runs on a PIL image), reproduced exactly by `Resampler`. Both sides go to
/// 256 independently: the aspect ratio is not kept. An image that is already
/// 256×256 is used as is (Pillow's resize to the same size is a copy): so
/// are the ImageNet, AI-Bingo and bias-ai-university crops in
/// `../shared/data/realfake`. Any other size is resampled, e.g. the 512×512
/// ml72 crops are averaged 2:1, which also smooths away part of the
/// pixel-level traces the detector looks for. That is the authors'
/// pipeline, kept as is.
extension TinyLaDeDa {
  /// ImageNet channel means (RGB), on the 0–1 scale.
  public static let imageNetMean: [Float] = [0.485, 0.456, 0.406]
  /// ImageNet channel standard deviations (RGB), on the 0–1 scale.
  public static let imageNetStd: [Float] = [0.229, 0.224, 0.225]

  /// `normalized[v]`: the input value of byte `v` in R, G and B (lane 3 is 0).
  static let normalized: [SIMD4<Float>] = (0..<256).map { v in
    var out = SIMD4<Float>.zero
    for c in 0..<3 { out[c] = (Float(v) / 255 - imageNetMean[c]) / imageNetStd[c] }
    return out
  }

  /// `image` resized to `inputSize × inputSize` (unchanged when it already
  /// is that size).
  public func resized(_ image: RGBImage) -> RGBImage {
    if image.width == inputSize && image.height == inputSize { return image }
    return Resampler.resize(image, width: inputSize, height: inputSize)
  }

  /// The network input for `image`: resized, then normalised, channels-last
  /// (`inputSize × inputSize × 3`).
  public func normalizedInput(for image: RGBImage) -> [Float] {
    let square = resized(image)
    return Self.normalized.withUnsafeBufferPointer { table in
      square.pixels.enumerated().map { i, v in table[Int(v)][i % 3] }
    }
  }

  /// Scores one decoded image (resize, normalise, forward).
  public func score(_ image: RGBImage) -> TinyLaDeDaOutput {
    var workspace = Workspace()
    return score(image, workspace: &workspace)
  }

  /// `score(image)` with a worker's reusable buffers; normalises straight
  /// into the padded input.
  func score(_ image: RGBImage, workspace: inout Workspace) -> TinyLaDeDaOutput {
    let square = resized(image)
    let (width, height) = (square.width, square.height)
    workspace.prepare(width: width, height: height)
    Self.normalized.withUnsafeBufferPointer { table in
      square.pixels.withUnsafeBufferPointer { pixels in
        workspace.fillInput { padded, rowStart in
          for y in 0..<height {
            let dst = rowStart(y)
            for x in 0..<width {
              let p = (y * width + x) * 3
              let r = table[Int(pixels[p])], g = table[Int(pixels[p + 1])], b = table[Int(pixels[p + 2])]
              padded[dst + x] = SIMD4(r[0], g[1], b[2], 0)
            }
          }
        }
      }
    }
    return run(&workspace)
  }
}
