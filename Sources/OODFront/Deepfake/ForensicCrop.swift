import FeatureExtraction

/// The square of pixels every deepfake cue is computed on: the central
/// `s × s` crop with `s = min(256, H, W)` rounded down to a multiple of 8,
/// its offsets rounded down to the 8 × 8 grid so that JPEG blocks stay
/// aligned. No resampling: interpolation would erase the very traces
/// (sensor noise, upsampling periods) the cues look at.
public enum ForensicCrop {
  /// The largest crop side, in pixels (256).
  public static let maxSide = 256
  /// The smallest crop the cues are defined on (the network's stage-3 grid
  /// is then 8 × 8, and the widest blur stays inside the image).
  public static let minSide = 64

  /// The crop side for a `width × height` image, or nil when it is too small.
  public static func side(width: Int, height: Int) -> Int? {
    let s = min(maxSide, width, height) / 8 * 8
    return s >= minSide ? s : nil
  }

  /// The central crop; `path` names the image in the error.
  ///
  /// - Throws: `DeepfakeError.imageTooSmall` below `minSide` pixels a side.
  public static func apply(_ image: RGBImage, path: String) throws -> RGBImage {
    guard let s = side(width: image.width, height: image.height) else {
      throw DeepfakeError.imageTooSmall(path: path, width: image.width, height: image.height, minSide: minSide)
    }
    let top = (image.height - s) / 2 / 8 * 8
    let left = (image.width - s) / 2 / 8 * 8
    var pixels = [UInt8](repeating: 0, count: s * s * 3)
    image.pixels.withUnsafeBufferPointer { src in
      for y in 0..<s {
        let from = ((top + y) * image.width + left) * 3
        for i in 0..<(s * 3) { pixels[y * s * 3 + i] = src[from + i] }
      }
    }
    return RGBImage(width: s, height: s, pixels: pixels)
  }
}
