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
    var rows = [UInt16](repeating: 0, count: h * tw * 3)
    var out = RGBPlane(width: tw, height: dh)
    image.pixels.withUnsafeBufferPointer { src in
      rows.withUnsafeMutableBufferPointer { tmp in
        for y in 0..<h {
          let s = y * w * 3, t = y * tw * 3
          for x in 0..<tw {
            let o = s + 6 * x
            for ch in 0..<3 {
              let a = UInt16(src[o + ch]), b = UInt16(src[o + 3 + ch]), c = UInt16(src[o + 6 + ch])
              let d = UInt16(src[o + 9 + ch]), e = UInt16(src[o + 12 + ch])
              tmp[t + 3 * x + ch] = a + 4 * b + 6 * c + 4 * d + e
            }
          }
        }
      }
    }
    rows.withUnsafeBufferPointer { tmp in
      out.pixels.withUnsafeMutableBufferPointer { dst in
        var dy = 0
        var y = 2
        while y < h - 2 {
          for i in 0..<(tw * 3) {
            let sum = UInt32(tmp[(y - 2) * tw * 3 + i]) + 4 * UInt32(tmp[(y - 1) * tw * 3 + i])
              + 6 * UInt32(tmp[y * tw * 3 + i]) + 4 * UInt32(tmp[(y + 1) * tw * 3 + i]) + UInt32(tmp[(y + 2) * tw * 3 + i])
            dst[dy * tw * 3 + i] = UInt8(sum / 256)  // sum ≤ 16 · 16 · 255
          }
          dy += 1
          y += 2
        }
      }
    }
    return out
  }
}

/// An owned RGB raster used inside chip extraction (`RGBImage` without its
/// size precondition, so an empty pyramid level is representable).
struct RGBPlane: Sendable {
  let width: Int
  let height: Int
  var pixels: [UInt8]

  init(width: Int, height: Int) {
    self.width = width
    self.height = height
    pixels = [UInt8](repeating: 0, count: width * height * 3)
  }

  /// The `rect` part of `image` (already clipped to it) copied out.
  init(_ image: RGBImage, cropping rect: FaceRect) {
    self.init(width: rect.width, height: rect.height)
    let rowBytes = 3 * width
    for y in 0..<height {
      let s: Int = 3 * ((rect.top + y) * image.width + rect.left)
      let d: Int = y * rowBytes
      for i in 0..<rowBytes { pixels[d + i] = image.pixels[s + i] }
    }
  }
}
