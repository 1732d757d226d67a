/// Limits checked before an image is decoded.
public struct ImageLimits: Sendable, Equatable {
  /// Default pixel budget: 100 megapixels (a 10000×10000 image, 300 MB as
  /// RGB). Larger images are refused from their header, before any pixel
  /// buffer is allocated, so a 100000×100000 header costs nothing.
  public static let defaultMaxPixels = 100_000_000

  public var maxPixels: Int

  public init(maxPixels: Int = ImageLimits.defaultMaxPixels) {
    self.maxPixels = maxPixels
  }

  func check(path: String, width: Int, height: Int) throws {
    let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
    if overflow || pixels > maxPixels {
      throw ImageError.tooManyPixels(path: path, width: width, height: height, limit: maxPixels)
    }
    if width <= 0 || height <= 0 {
      throw ImageError.corrupt(path: path, format: "image", reason: "zero width or height")
    }
  }
}
