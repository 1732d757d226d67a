/// Anomaly maps as pictures: a per-location score grid upsampled to the
/// image, coloured, and blended over the image.
public enum Heatmap {
  /// The score grid (`gridHeight × gridWidth`, row-major) resized to
  /// `width × height` with bilinear interpolation (half-pixel centres).
  public static func upsample(_ grid: [Float], gridHeight: Int, gridWidth: Int, width: Int, height: Int) -> [Float] {
    PatchFeatureBuilder.bilinear(grid, height: gridHeight, width: gridWidth, channels: 1, toHeight: height, toWidth: width)
  }

  /// A colour for t ∈ [0, 1] on a blue → cyan → yellow → red ramp ("jet").
  @inline(__always)
  public static func color(_ t: Float) -> (UInt8, UInt8, UInt8) {
    let x = min(max(t, 0), 1)
    func ramp(_ v: Float) -> UInt8 { UInt8(min(max(v, 0), 1) * 255 + 0.5) }
    return (ramp(1.5 - abs(4 * x - 3)), ramp(1.5 - abs(4 * x - 2)), ramp(1.5 - abs(4 * x - 1)))
  }

  /// Blends the coloured map over `image` (which it must match in size).
  ///
  /// - Parameters:
  ///   - image: the picture under the map; the blend is returned as a new image.
  ///   - map: one score per pixel.
  ///   - range: scores mapped to the ends of the colour ramp; pass the same
  ///     range for every image of a run (e.g. 0…threshold×1.5) so colours
  ///     are comparable between images.
  ///   - opacity: weight of the colour (default 0.5).
  public static func overlay(_ image: RGBImage, map: [Float], range: ClosedRange<Float>, opacity: Float = 0.5) -> RGBImage {
    precondition(map.count == image.width * image.height, "one score per pixel")
    var pixels = image.pixels
    let span = max(range.upperBound - range.lowerBound, 1e-12)
    for i in 0..<map.count {
      let (r, g, b) = color((map[i] - range.lowerBound) / span)
      pixels[3 * i] = UInt8(Float(pixels[3 * i]) * (1 - opacity) + Float(r) * opacity + 0.5)
      pixels[3 * i + 1] = UInt8(Float(pixels[3 * i + 1]) * (1 - opacity) + Float(g) * opacity + 0.5)
      pixels[3 * i + 2] = UInt8(Float(pixels[3 * i + 2]) * (1 - opacity) + Float(b) * opacity + 0.5)
    }
    return RGBImage(width: image.width, height: image.height, pixels: pixels)
  }
}
