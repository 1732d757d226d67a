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
/// 256×256 is used as is (Pillow's resize to the same size is a copy), which
/// is the case for most of the evaluation images (the WildRF, ImageNet and
/// AI-Bingo crops); larger photos are averaged down, which weakens the
/// high-frequency traces the detector looks for.
extension TinyLaDeDa {
  /// ImageNet channel means (RGB), on the 0–1 scale.
  public static let imageNetMean: [Float] = [0.485, 0.456, 0.406]
  /// ImageNet channel standard deviations (RGB), on the 0–1 scale.
  public static let imageNetStd: [Float] = [0.229, 0.224, 0.225]

  /// `normalized[256·c + v]`: the input value of byte `v` in channel `c`.
  static let normalized: [Float] = (0..<3).flatMap { c in
    (0..<256).map { v in (Float(v) / 255 - imageNetMean[c]) / imageNetStd[c] }
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
    var out = [Float](repeating: 0, count: square.pixels.count)
    Self.normalize(square.pixels, into: &out)
    return out
  }

  static func normalize(_ pixels: [UInt8], into out: inout [Float]) {
    normalized.withUnsafeBufferPointer { table in
      for i in 0..<pixels.count { out[i] = table[256 * (i % 3) + Int(pixels[i])] }
    }
  }

  /// Scores one decoded image (resize, normalise, forward).
  public func score(_ image: RGBImage) -> TinyLaDeDaOutput {
    var workspace = Workspace()
    var input: [Float] = []
    return score(image, input: &input, workspace: &workspace)
  }

  func score(_ image: RGBImage, input: inout [Float], workspace: inout Workspace) -> TinyLaDeDaOutput {
    let square = resized(image)
    if input.count != square.pixels.count { input = [Float](repeating: 0, count: square.pixels.count) }
    Self.normalize(square.pixels, into: &input)
    return input.withUnsafeBufferPointer { forward($0, width: inputSize, height: inputSize, workspace: &workspace) }
  }
}
