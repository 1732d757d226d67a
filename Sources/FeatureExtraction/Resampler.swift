/// Antialiased bilinear resizing that reproduces Pillow's `Image.resize(…,
/// BILINEAR)` bit for bit.
///
/// For an output pixel `i` along an axis of scale `s = in/out`, the source
/// center is `c = (i + ½)·s`. When shrinking, the triangle filter is widened
/// by `f = max(s, 1)`, so every source pixel contributes (antialiasing):
///
/// ```
/// w_j = max(0, 1 − |j + ½ − c| / f),  j ∈ [⌊c − f + ½⌋, ⌊c + f + ½⌋)
/// out_i = Σ_j w_j · in_j / Σ_j w_j
/// ```
///
/// Weights are rounded to 22-bit fixed point and each pass (horizontal, then
/// vertical) rounds to 8 bits, as Pillow does, so torchvision pipelines that
/// resize PIL images see the same pixels.
public enum Resampler {
  private static let precisionBits = 22

  private struct Coefficients {
    var start: [Int]
    var count: [Int]
    var weights: [Int32]  // out × ksize
    var ksize: Int
  }

  private static func coefficients(inSize: Int, outSize: Int) -> Coefficients {
    let scale = Double(inSize) / Double(outSize)
    let filterScale = max(scale, 1.0)
    let support = 1.0 * filterScale
    let ksize = Int(support.rounded(.up)) * 2 + 1
    var c = Coefficients(
      start: [Int](repeating: 0, count: outSize), count: [Int](repeating: 0, count: outSize),
      weights: [Int32](repeating: 0, count: outSize * ksize), ksize: ksize)
    var w = [Double](repeating: 0, count: ksize)
    for i in 0..<outSize {
      let center = (Double(i) + 0.5) * scale
      let inverse = 1.0 / filterScale
      var xmin = Int(center - support + 0.5)  // truncation toward zero, as C's (int)
      if xmin < 0 { xmin = 0 }
      var xmax = Int(center + support + 0.5)
      if xmax > inSize { xmax = inSize }
      xmax -= xmin
      var total = 0.0
      for x in 0..<xmax {
        var t = (Double(x + xmin) - center + 0.5) * inverse
        if t < 0 { t = -t }
        let weight = t < 1 ? 1 - t : 0
        w[x] = weight
        total += weight
      }
      for x in 0..<xmax {
        let normalized = total != 0 ? w[x] / total : 0
        c.weights[i * ksize + x] = Int32(normalized * Double(1 << precisionBits) + (normalized < 0 ? -0.5 : 0.5))
      }
      c.start[i] = xmin
      c.count[i] = xmax
    }
    return c
  }

  @inline(__always)
  private static func clip8(_ value: Int64) -> UInt8 {
    let shifted = value >> Int64(precisionBits)
    return shifted < 0 ? 0 : (shifted > 255 ? 255 : UInt8(shifted))
  }

  /// Resizes `image` to `width × height`. Equal sizes return the input.
  public static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
    precondition(width > 0 && height > 0, "resize target must be positive")
    var current = image
    if width != image.width {
      let c = coefficients(inSize: image.width, outSize: width)
      var out = [UInt8](repeating: 0, count: width * image.height * 3)
      current.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
          for y in 0..<image.height {
            let row = y * image.width * 3
            for x in 0..<width {
              var r: Int64 = 1 << (precisionBits - 1), g = r, b = r
              let start = c.start[x]
              for k in 0..<c.count[x] {
                let weight = Int64(c.weights[x * c.ksize + k])
                let p = row + (start + k) * 3
                r += Int64(src[p]) * weight
                g += Int64(src[p + 1]) * weight
                b += Int64(src[p + 2]) * weight
              }
              let o = (y * width + x) * 3
              dst[o] = clip8(r)
              dst[o + 1] = clip8(g)
              dst[o + 2] = clip8(b)
            }
          }
        }
      }
      current = RGBImage(width: width, height: image.height, pixels: out)
    }
    if height != image.height {
      let c = coefficients(inSize: image.height, outSize: height)
      let w = current.width
      var out = [UInt8](repeating: 0, count: w * height * 3)
      current.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
          for y in 0..<height {
            let start = c.start[y]
            for x in 0..<(w * 3) {
              var acc: Int64 = 1 << (precisionBits - 1)
              for k in 0..<c.count[y] {
                acc += Int64(src[(start + k) * w * 3 + x]) * Int64(c.weights[y * c.ksize + k])
              }
              dst[y * w * 3 + x] = clip8(acc)
            }
          }
        }
      }
      current = RGBImage(width: w, height: height, pixels: out)
    }
    return current
  }

  /// The `width × height` window of `image` whose top-left corner is
  /// (`left`, `top`).
  public static func crop(_ image: RGBImage, left: Int, top: Int, width: Int, height: Int) -> RGBImage {
    precondition(left >= 0 && top >= 0 && left + width <= image.width && top + height <= image.height, "crop window out of bounds")
    var out = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
      let src = ((top + y) * image.width + left) * 3
      out.replaceSubrange((y * width * 3)..<((y + 1) * width * 3), with: image.pixels[src..<(src + width * 3)])
    }
    return RGBImage(width: width, height: height, pixels: out)
  }
}
