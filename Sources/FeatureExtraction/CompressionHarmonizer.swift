/// Re-encodes every image as JPEG at one quality, then decodes it again, so
/// that real and generated images reach the features with the same
/// compression history.
///
/// Why: photos on the web are decoded JPEGs, while generators emit PNGs. A
/// detector that sees JPEG blocking only in the real images separates the two
/// sets by file format, not by what made the pixels; on this project's
/// real-vs-generated data that alone scores near 1.0 AUROC. Re-encoding both
/// sides at quality q (the data README's harmonised protocol uses 90 and 75)
/// gives every image at least one round of q-quality JPEG. It cannot erase a
/// real image's *earlier* compression (double compression stays visible),
/// which is why evaluations report it as a residual confound.
///
/// Re-encoding uses libjpeg's defaults (4:2:0, Annex K tables scaled to q),
/// as Pillow's `save(format="JPEG", quality=q)` does.
public struct CompressionHarmonizer: Sendable, Equatable {
  /// JPEG quality of the round trip, 1…100.
  public let quality: Int

  /// A harmonizer that re-encodes at `quality` (1…100).
  ///
  /// - Throws: `ImageError.unsupported` unless `quality` is in 1…100.
  public init(quality: Int) throws {
    guard (1...100).contains(quality) else {
      throw ImageError.unsupported(path: "--harmonize-jpeg", reason: "JPEG quality \(quality) is outside 1…100")
    }
    self.quality = quality
  }

  /// `image` after one JPEG round trip at `quality`; `path` names it in errors.
  public func apply(_ image: RGBImage, path: String) throws -> RGBImage {
    let bytes = try JPEGCodec.encode(image, quality: quality, path: path)
    return try ImageDecoder.decode(
      bytes: bytes, path: path, limits: ImageLimits(maxPixels: max(1, image.width * image.height)))
  }
}
