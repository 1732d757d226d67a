import FeatureExtraction

/// dlib's `pyramid_down<2>` on RGB images: a separable 5-tap binomial filter
/// `[1 4 6 4 1]` along rows and then columns, keeping every other row and
/// column, in integer arithmetic (`⌊Σ / 256⌋`). An `h × w` image becomes
/// `⌊(h − 3)/2⌋ × ⌊(w − 3)/2⌋`; output pixel `(x, y)` is centred on input
/// `(2x + 2, 2y + 2)`, which is why `mapDown` subtracts `(1.25, 0.75)`
/// (dlib's `point_down`, including its asymmetry).
enum HalfScalePyramid {
  /// dlib's `pyramid_down<2>::point_down`: `p/2 − (1.25, 0.75)`.
  static func mapDown(_ p: (x: Double, y: Double)) -> (x: Double, y: Double) {
    (p.x / 2.0 - 1.25, p.y / 2.0 - 0.75)
  }

  /// dlib's `rect_down`: both corners mapped down.
  static func mapDown(_ rect: DoubleRect) -> DoubleRect {
    DoubleRect(corner: mapDown(rect.topLeft), corner: mapDown(rect.bottomRight))
  }

  /// One level down. Images of 8 rows or columns or fewer give an empty image,
  /// as in dlib.
  static func down(_ image: RGBPlane) -> RGBPlane {
    let (h, w) = (image.height, image.width)
    guard h > 8, w > 8 else { return RGBPlane(width: 0, height: 0) }
    let tw = (w - 3) / 2, dh = (h - 3) / 2
    let rowValues = tw * 3
    var rows = [UInt16](repeating: 0, count: h * rowValues)
    var out = RGBPlane(width: tw, height: dh)
    // Sums stay below 16 · 255 (rows) and 256 · 255 (columns), so the
    // wrapping operators never wrap; they only spare overflow checks.
    image.pixels.withUnsafeBufferPointer { src in
      rows.withUnsafeMutableBufferPointer { tmp in
        for y in 0..<h {
          let s = image.offset + y * image.rowStride, t = y * rowValues
          for i in 0..<rowValues {
            // Output value i = 3x + channel reads input columns 2x … 2x + 4
            // of that channel: byte offsets 2i − channel + 3k, k = 0 … 4.
            let o = s &+ 2 &* i &- i % 3
            let a = UInt16(src[o]), b = UInt16(src[o &+ 3]), c = UInt16(src[o &+ 6])
            let d = UInt16(src[o &+ 9]), e = UInt16(src[o &+ 12])
            tmp[t &+ i] = a &+ 4 &* b &+ 6 &* c &+ 4 &* d &+ e
          }
        }
      }
    }
    rows.withUnsafeBufferPointer { tmp in
      out.pixels.withUnsafeMutableBufferPointer { dst in
        for dy in 0..<dh {
          let y = 2 * dy + 2
          let r0 = (y - 2) * rowValues, r1 = r0 + rowValues, r2 = r1 + rowValues, r3 = r2 + rowValues, r4 = r3 + rowValues
          let d = dy * rowValues
          for i in 0..<rowValues {
            let sum = UInt32(tmp[r0 &+ i]) &+ 4 &* UInt32(tmp[r1 &+ i]) &+ 6 &* UInt32(tmp[r2 &+ i])
              &+ 4 &* UInt32(tmp[r3 &+ i]) &+ UInt32(tmp[r4 &+ i])
            dst[d &+ i] = UInt8(truncatingIfNeeded: sum &>> 8)  // ⌊sum / 256⌋ ≤ 255
          }
        }
      }
    }
    return out
  }
}

/// An RGB raster used inside chip extraction: `width × height` pixels of
/// `pixels`, starting at byte `offset`, rows `rowStride` bytes apart. A crop
/// of an `RGBImage` shares the image's storage (no copy); pyramid levels own
/// theirs. Unlike `RGBImage` it may be empty (an empty pyramid level).
struct RGBPlane: Sendable {
  let width: Int
  let height: Int
  let rowStride: Int
  let offset: Int
  var pixels: [UInt8]

  /// A new black raster.
  init(width: Int, height: Int) {
    self.width = width
    self.height = height
    rowStride = 3 * width
    offset = 0
    pixels = [UInt8](repeating: 0, count: width * height * 3)
  }

  /// The `rect` part of `image`; `rect` must lie inside the image.
  init(_ image: RGBImage, cropping rect: FaceRect) {
    width = rect.width
    height = rect.height
    rowStride = 3 * image.width
    offset = 3 * (rect.top * image.width + rect.left)
    pixels = image.pixels
  }
}
