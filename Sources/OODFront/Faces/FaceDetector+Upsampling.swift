import FeatureExtraction

extension FaceDetector {
  /// Size of `pyramid_up(img, pyramid_down<2>)`: the image box mapped with
  /// `point_up(p) = (p + (1.25, 0.75))·2` and rounded, i.e.
  /// `(2·rows + 1) × (2·cols + 2)`.
  static func upsampledSize(rows: Int, cols: Int) -> (rows: Int, cols: Int) {
    let right = Int(((Double(cols - 1) + 1.25) * 2 + 0.5).rounded(.down))
    let bottom = Int(((Double(rows - 1) + 0.75) * 2 + 0.5).rounded(.down))
    return (bottom + 1, right + 1)
  }

  /// dlib's `pyramid_up(img, pyramid_down<2>)` on an RGB image: a bilinear
  /// `resize_image` (corners aligned) to `upsampledSize`, computed as dlib's
  /// `rgb_pixel` path does it: column positions accumulated in float four at a
  /// time, the weighted sum in float truncated to an integer; the columns
  /// whose right neighbour would leave the image in double, truncated.
  static func upsampled(_ image: RGBImage) -> RGBImage {
    let inRows = image.height
    let inCols = image.width
    let (rows, cols) = upsampledSize(rows: inRows, cols: inCols)
    var out = [UInt8](repeating: 0, count: rows * cols * 3)
    let xScale = Double(inCols - 1) / Double(max(cols - 1, 1))
    let yScale = Double(inRows - 1) / Double(max(rows - 1, 1))
    image.pixels.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        var y = -yScale
        for r in 0..<rows {
          y += yScale
          let top = Int(y.rounded(.down))
          let bottom = min(top + 1, inRows - 1)
          let tb = y - Double(top)
          let tbF = Float(tb)
          let invTbF = Float(1 - tb)
          let x0 = -4 * xScale
          let step = Float(4 * xScale)
          var xs = SIMD4<Float>(Float(x0), Float(x0 + xScale), Float(x0 + 2 * xScale), Float(x0 + 3 * xScale))
          var c = 0
          while true {
            xs += SIMD4(repeating: step)
            let left = SIMD4<Int32>(xs, rounding: .towardZero)
            let lr = xs - SIMD4<Float>(left)
            let invLr = 1 - lr
            if Int(left[3]) + 1 >= inCols { break }
            for lane in 0..<4 {
              let l = Int(left[lane])
              let wtl = invTbF * invLr[lane]
              let wtr = invTbF * lr[lane]
              let wbl = tbF * invLr[lane]
              let wbr = tbF * lr[lane]
              for ch in 0..<3 {
                let tl = Float(src[(top * inCols + l) * 3 + ch])
                let tr = Float(src[(top * inCols + l + 1) * 3 + ch])
                let bl = Float(src[(bottom * inCols + l) * 3 + ch])
                let br = Float(src[(bottom * inCols + l + 1) * 3 + ch])
                let v = wtl * tl + wtr * tr + wbl * bl + wbr * br
                dst[(r * cols + c + lane) * 3 + ch] = UInt8(truncatingIfNeeded: Int32(v.rounded(.towardZero)))
              }
            }
            c += 4
          }
          var x = -xScale + Double(c) * xScale
          while c < cols {
            x += xScale
            let left = Int(x.rounded(.down))
            let right = min(left + 1, inCols - 1)
            let lr = x - Double(left)
            for ch in 0..<3 {
              let tl = Double(src[(top * inCols + left) * 3 + ch])
              let tr = Double(src[(top * inCols + right) * 3 + ch])
              let bl = Double(src[(bottom * inCols + left) * 3 + ch])
              let br = Double(src[(bottom * inCols + right) * 3 + ch])
              let v = (1 - tb) * ((1 - lr) * tl + lr * tr) + tb * ((1 - lr) * bl + lr * br)
              dst[(r * cols + c) * 3 + ch] = UInt8(clamping: Int(v.rounded(.towardZero)))
            }
            c += 1
          }
        }
      }
    }
    return RGBImage(width: cols, height: rows, pixels: out)
  }
}
