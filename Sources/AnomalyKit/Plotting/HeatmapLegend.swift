import Foundation
import FeatureExtraction

/// The legend drawn onto a heatmap: a colour bar along the right edge (the
/// ramp of `Heatmap.color`, `range.lowerBound` at the bottom, the upper
/// bound at the top, both written beside it) and the image score in the
/// top-left corner, each on a dark backing so it reads over any image.
public enum HeatmapLegend {
  /// `image` with the colour bar and, when given, the score drawn on.
  ///
  /// - Parameters:
  ///   - image: the heatmap overlay to annotate.
  ///   - range: the scores at the bottom and top of the colour ramp.
  ///   - score: the image score to write, or nil for none.
  /// - Returns: the annotated image, or `image` unchanged when it is too small
  ///   for the bar.
  public static func annotate(_ image: RGBImage, range: ClosedRange<Float>, score: Float?) -> RGBImage {
    var canvas = Canvas(image)
    let scale = min(image.width, image.height) >= 200 ? 2 : 1
    let bar = max(6, image.width / 40)
    let x0 = image.width - bar - 2
    let top = 2, bottom = image.height - 3
    guard x0 > 0, bottom > top else { return image }
    canvas.fill(x0 - 1, top - 1, image.width - 1, bottom + 1, color: (20, 20, 20))
    for y in top...bottom {
      let t = Float(bottom - y) / Float(max(bottom - top, 1))
      canvas.fill(x0, y, x0 + bar - 1, y, color: Heatmap.color(t))
    }
    let upper = format(range.upperBound), lower = format(range.lowerBound)
    let glyphHeight = BitmapFont.height * scale
    canvas.label(upper, rightEdge: x0 - 3, y: top, scale: scale)
    canvas.label(lower, rightEdge: x0 - 3, y: bottom - glyphHeight + 1, scale: scale)
    if let score { canvas.label("score " + format(score), x: 2, y: 2, scale: scale) }
    return canvas.image
  }

  /// Four significant digits, as `%.4g` prints them.
  static func format(_ v: Float) -> String { String(format: "%.4g", Double(v)) }

  struct Canvas {
    var image: RGBImage

    init(_ image: RGBImage) { self.image = image }

    mutating func fill(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, color: (UInt8, UInt8, UInt8)) {
      let xs = max(0, min(x0, x1))...min(image.width - 1, max(x0, x1))
      let ys = max(0, min(y0, y1))...min(image.height - 1, max(y0, y1))
      guard !xs.isEmpty, !ys.isEmpty, xs.lowerBound <= xs.upperBound, ys.lowerBound <= ys.upperBound else { return }
      for y in ys {
        for x in xs {
          let i = 3 * (y * image.width + x)
          image.pixels[i] = color.0
          image.pixels[i + 1] = color.1
          image.pixels[i + 2] = color.2
        }
      }
    }

    /// White text on a dark box, starting at `x`.
    mutating func label(_ s: String, x: Int, y: Int, scale: Int) {
      let w = s.count * (BitmapFont.width + 1) * scale
      guard x + w < image.width, y + BitmapFont.height * scale < image.height else { return }
      fill(x - 1, y - 1, x + w, y + BitmapFont.height * scale, color: (20, 20, 20))
      var cursor = x
      for ch in s {
        for gy in 0..<BitmapFont.height {
          for gx in 0..<BitmapFont.width where BitmapFont.ink(ch, x: gx, y: gy) {
            fill(cursor + gx * scale, y + gy * scale, cursor + gx * scale + scale - 1, y + gy * scale + scale - 1, color: (255, 255, 255))
          }
        }
        cursor += (BitmapFont.width + 1) * scale
      }
    }

    /// Text ending at `rightEdge`.
    mutating func label(_ s: String, rightEdge: Int, y: Int, scale: Int) {
      let w = s.count * (BitmapFont.width + 1) * scale
      if rightEdge - w >= 1 { label(s, x: rightEdge - w, y: y, scale: scale) }
    }
  }
}
