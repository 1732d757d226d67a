/// How an image of any size becomes the network's square input.
public enum ResizePolicy: String, Sendable, CaseIterable, Codable {
  /// Resize so the shorter side is `resizeShorter` (256 for a 224 input),
  /// then take the central square: torchvision's `Resize(256)` +
  /// `CenterCrop(224)`, the ImageNet evaluation recipe. Keeps the aspect
  /// ratio; loses the borders.
  case crop
  /// Resize both sides straight to the input size. For small images such as
  /// CIFAR's 32×32, where cropping would throw away an eighth of the object.
  case stretch
  /// Take the central `inputSize` square at the image's own resolution, with
  /// no resampling; an image smaller than `inputSize` on a side is first
  /// scaled up (shorter side → `inputSize`). For forensic features such as
  /// deepfake artifacts, which live in the exact pixel grid that resampling
  /// would smooth away.
  case native
}

/// Turns decoded images into normalised network input.
///
/// Steps:
/// 1. An image already `inputSize × inputSize` is used unchanged, with no
///    resampling, whatever the policy.
/// 2. `crop`: shorter side → `resizeShorter` (longer side scaled and
///    truncated, as torchvision does), then a central crop whose offset is
///    `round((size − inputSize) / 2)` (half to even, as Python's `round`).
///    `stretch`: both sides → `inputSize`.
///    `native`: central crop without resampling (offset `⌊(size − inputSize) / 2⌋`).
/// 3. Resampling is Pillow's antialiased bilinear (see `Resampler`).
/// 4. `x ↦ (x − mean) / std` per channel, with EfficientNet-Lite's TF values
///    mean 127, std 128 on 0–255 RGB.
///
/// The output is HWC (channels last), the layout the network runs in.
public struct Preprocessor: Sendable, Equatable {
  /// Side of the square network input, in pixels (224 for EfficientNet-Lite0).
  public var inputSize: Int
  /// Shorter side after resizing, before the central crop (`crop` policy only).
  public var resizeShorter: Int
  /// How an image that is not `inputSize × inputSize` is brought to that size.
  public var policy: ResizePolicy
  /// Subtracted from every 0–255 channel value (default 127).
  public var mean: Float
  /// Divides every channel value after the mean is subtracted (default 128).
  public var std: Float

  /// A preprocessor for an `inputSize × inputSize` network input; the
  /// defaults are EfficientNet-Lite0's ImageNet evaluation settings.
  ///
  /// - Parameters:
  ///   - inputSize: square network input (224 for EfficientNet-Lite0).
  ///   - resizeShorter: shorter side before the crop; default
  ///     `round(inputSize / 0.875)`, i.e. 256 for 224, the ImageNet ratio.
  ///   - policy: `crop` (default, for photos), `stretch` (small images) or
  ///     `native` (no resampling).
  ///   - mean: subtracted from each 0–255 channel value; default 127.
  ///   - std: divisor after the mean; default 128.
  public init(
    inputSize: Int = 224, resizeShorter: Int? = nil, policy: ResizePolicy = .crop, mean: Float = 127, std: Float = 128
  ) {
    self.inputSize = inputSize
    self.resizeShorter = resizeShorter ?? Int((Double(inputSize) / 0.875).rounded())
    self.policy = policy
    self.mean = mean
    self.std = std
  }

  /// The `inputSize × inputSize` 8-bit image the network will see.
  public func resized(_ image: RGBImage) -> RGBImage {
    if image.width == inputSize && image.height == inputSize { return image }
    switch policy {
    case .stretch:
      return Resampler.resize(image, width: inputSize, height: inputSize)
    case .native:
      var source = image
      if min(image.width, image.height) < inputSize {
        let scale = Double(inputSize) / Double(min(image.width, image.height))
        source = Resampler.resize(
          image, width: max(inputSize, Int((Double(image.width) * scale).rounded())),
          height: max(inputSize, Int((Double(image.height) * scale).rounded())))
      }
      return Resampler.crop(
        source, left: (source.width - inputSize) / 2, top: (source.height - inputSize) / 2, width: inputSize, height: inputSize)
    case .crop:
      let (w, h): (Int, Int)
      if image.width <= image.height {
        w = resizeShorter
        h = max(resizeShorter, Int(Double(resizeShorter) * Double(image.height) / Double(image.width)))
      } else {
        h = resizeShorter
        w = max(resizeShorter, Int(Double(resizeShorter) * Double(image.width) / Double(image.height)))
      }
      let scaled = Resampler.resize(image, width: w, height: h)
      let left = Int((Double(w - inputSize) / 2).rounded(.toNearestOrEven))
      let top = Int((Double(h - inputSize) / 2).rounded(.toNearestOrEven))
      return Resampler.crop(scaled, left: left, top: top, width: inputSize, height: inputSize)
    }
  }

  /// Normalised HWC floats (`inputSize² × 3`) for `image`.
  public func tensor(_ image: RGBImage) -> [Float] {
    let square = resized(image)
    let scale = 1 / std
    return square.pixels.map { (Float($0) - mean) * scale }
  }

  /// Writes the normalised HWC floats for `image` into `out`.
  public func write(_ image: RGBImage, into out: UnsafeMutableBufferPointer<Float>) {
    let square = resized(image)
    precondition(out.count >= square.pixels.count, "output buffer too small")
    let scale = 1 / std
    for (i, p) in square.pixels.enumerated() { out[i] = (Float(p) - mean) * scale }
  }
}
