/// Limits checked before an image is decoded, and how its pixels are read.
public struct ImageLimits: Sendable, Equatable {
  /// Whether a photo's EXIF orientation is applied (see `EXIFOrientation`).
  public enum Orientation: String, Sendable, Equatable, CaseIterable {
    /// Turn the pixels upright as the EXIF tag says, as viewers, browsers
    /// and OpenCV do: a phone photo scores as it looks. The default.
    case applyEXIF = "apply-exif"
    /// Keep the pixels as stored, as Pillow's `Image.open` does (for
    /// parity with Python pipelines that do not call `exif_transpose`).
    case asStored = "as-stored"
  }

  /// Default pixel budget: 100 megapixels (a 10000×10000 image, 300 MB as
  /// RGB). Larger images are refused from their header, before any pixel
  /// buffer is allocated, so a 100000×100000 header costs nothing.
  public static let defaultMaxPixels = 100_000_000

  /// The most pixels (width × height) an image may have; larger ones are
  /// refused with `ImageError.tooManyPixels`.
  public var maxPixels: Int
  /// Whether the EXIF orientation is applied (default `.applyEXIF`).
  public var orientation: Orientation

  /// Limits with a pixel budget of `maxPixels` (default 100 megapixels)
  /// and the given orientation handling (default `.applyEXIF`).
  public init(maxPixels: Int = ImageLimits.defaultMaxPixels, orientation: Orientation = .applyEXIF) {
    self.maxPixels = maxPixels
    self.orientation = orientation
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
