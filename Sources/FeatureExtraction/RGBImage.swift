/// An 8-bit RGB image, rows top to bottom, pixels interleaved `R G B`.
public struct RGBImage: Sendable, Equatable {
  /// Width in pixels.
  public let width: Int
  /// Height in pixels.
  public let height: Int
  /// `width × height × 3` bytes.
  public var pixels: [UInt8]

  /// Wraps `pixels`, which must hold exactly `width × height × 3` bytes
  /// (checked with a precondition).
  public init(width: Int, height: Int, pixels: [UInt8]) {
    precondition(pixels.count == width * height * 3, "RGBImage needs width × height × 3 bytes")
    self.width = width
    self.height = height
    self.pixels = pixels
  }
}
