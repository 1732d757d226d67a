import FeatureExtraction

/// The image pyramid of dlib's `input_rgb_image_pyramid<pyramid_down<N>>`:
/// every level tiled into one tensor, which the detector CNN scans in one pass.
///
/// Levels (`compute_tiled_image_pyramid_details`, dlib/image_transforms/image_pyramid.h):
/// level 0 is the image; level i+1 has `⌊(N−1)/N · rows⌋ × ⌊(N−1)/N · cols⌋`
/// pixels, down to 5 rows. Level 0 sits at `(outer, outer)`; the next levels
/// go below it, `padding` rows apart, until the rest fit in a second column
/// that runs bottom-up along the right edge; the canvas is
/// `width + 2·outer` wide. Everything outside the levels is 0.
///
/// Values: level 0 holds `(pixel − mean[c]) / 256` (float); each further
/// level is a bilinear resize of the previous one, channel by channel, as
/// dlib's float `resize_image` computes it (the `simd4f` path: column
/// positions accumulated in float four at a time, the last columns in double).
struct DlibTiledPyramid: Sendable {
  /// Each level's box in the tiled tensor (inclusive corners).
  let levels: [PixelBox]
  let height: Int
  let width: Int
  /// N of `pyramid_down<N>`: each level is (N−1)/N the size of the one before.
  let downsampling: Int

  init(imageHeight: Int, imageWidth: Int, padding: Int, outerPadding: Int, downsampling: Int, minHeight: Int = 5) {
    self.downsampling = downsampling
    let rate = Double(downsampling - 1) / Double(downsampling)
    var sizes = [(rows: imageHeight, cols: imageWidth)]
    var nr = imageHeight
    var nc = imageWidth
    while true {
      nr = Int((rate * Double(nr)).rounded(.down))
      nc = Int((rate * Double(nc)).rounded(.down))
      if nr * nc == 0 || nr < minHeight { break }
      sizes.append((nr, nc))
    }
    let totalHeight = sizes.reduce(0) { $0 + $1.rows + padding } - padding * 2
    var height = 0
    var previousWidth = 0
    let first = sizes[0]
    for s in sizes {
      if s.cols <= first.cols - previousWidth - padding && (height - first.rows) * 2 >= totalHeight - first.rows {
        break
      }
      height += s.rows + padding
      previousWidth = s.cols
    }
    height -= padding
    let width = first.cols
    self.height = height + outerPadding * 2
    self.width = width + outerPadding * 2

    var boxes: [PixelBox] = []
    var y = outerPadding
    var i = 0
    while y < height + outerPadding && i < sizes.count {
      boxes.append(PixelBox(left: outerPadding, top: y, right: outerPadding + sizes[i].cols - 1, bottom: y + sizes[i].rows - 1))
      y += sizes[i].rows + padding
      i += 1
    }
    y -= padding
    while i < sizes.count {
      // dlib: rectangle(p1, p1 − br) with p1 = (outer + width − 1, y − 1)
      let right = outerPadding + width - 1
      let bottom = y - 1
      let box = PixelBox(left: right - (sizes[i].cols - 1), top: bottom - (sizes[i].rows - 1), right: right, bottom: bottom)
      if !boxes[0].intersection(box).isEmpty { break }
      boxes.append(box)
      y -= sizes[i].rows + padding
      i += 1
    }
    levels = boxes
  }

  /// The tiled tensor, planar `3 × height × width`.
  func tensor(of image: RGBImage, mean: [Float]) -> [Float] {
    var data = [Float](repeating: 0, count: 3 * height * width)
    let plane = height * width
    let base = levels[0]
    data.withUnsafeMutableBufferPointer { d in
      image.pixels.withUnsafeBufferPointer { p in
        for c in 0..<3 {
          for r in 0..<image.height {
            let row = c * plane + (base.top + r) * width + base.left
            for x in 0..<image.width {
              d[row + x] = (Float(p[(r * image.width + x) * 3 + c]) - mean[c]) * (1 / 256)
            }
          }
        }
        for i in 1..<levels.count {
          let s = levels[i - 1]
          let t = levels[i]
          for c in 0..<3 {
            Self.resize(
              d.baseAddress.unsafelyUnwrapped + c * plane + s.top * width + s.left, rows: s.height, cols: s.width,
              into: d.baseAddress.unsafelyUnwrapped + c * plane + t.top * width + t.left, rows: t.height, cols: t.width,
              rowStride: width)
          }
        }
      }
    }
    return data
  }

  /// dlib's `resize_image` for float images (bilinear, corners aligned):
  ///
  /// ```
  /// sx = (inCols − 1)/max(outCols − 1, 1),  sy likewise
  /// y_r = r·sy (accumulated in double), top = ⌊y_r⌋, bottom = min(top+1, inRows−1), t = y_r − top
  /// x_c accumulated in float four columns at a time, left = ⌊x_c⌋, right = left+1, l = x_c − left
  /// out = (1−t)(1−l)·tl + (1−t)l·tr + t(1−l)·bl + t·l·br       (float, in this order)
  /// ```
  ///
  /// Columns whose `right` would leave the image run through dlib's scalar
  /// tail instead (`x = −sx + c·sx` in double, `right` clamped).
  static func resize(
    _ src: UnsafePointer<Float>, rows inRows: Int, cols inCols: Int, into dst: UnsafeMutablePointer<Float>, rows: Int,
    cols: Int, rowStride: Int
  ) {
    guard rows > 0, cols > 0, inRows > 0, inCols > 0 else { return }
    let xScale = Double(inCols - 1) / Double(max(cols - 1, 1))
    let yScale = Double(inRows - 1) / Double(max(rows - 1, 1))
    var y = -yScale
    for r in 0..<rows {
      y += yScale
      let top = Int(y.rounded(.down))
      let bottom = min(top + 1, inRows - 1)
      let tb = y - Double(top)
      let tbF = Float(tb)
      let invTbF = Float(1 - tb)
      let topRow = src + top * rowStride
      let bottomRow = src + bottom * rowStride
      let out = dst + r * rowStride
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
          let tl = topRow[l]
          let tr = topRow[l + 1]
          let bl = bottomRow[l]
          let br = bottomRow[l + 1]
          var v = (invTbF * invLr[lane]) * tl + (invTbF * lr[lane]) * tr
          v = v + (tbF * invLr[lane]) * bl
          v = v + (tbF * lr[lane]) * br
          out[c + lane] = v
        }
        c += 4
      }
      var x = -xScale + Double(c) * xScale
      while c < cols {
        x += xScale
        let left = Int(x.rounded(.down))
        let right = min(left + 1, inCols - 1)
        let lr = Float(x - Double(left))
        let upper = (1 - lr) * topRow[left] + lr * topRow[right]
        let lower = (1 - lr) * bottomRow[left] + lr * bottomRow[right]
        out[c] = Float((1 - tb) * Double(upper) + tb * Double(lower))
        c += 1
      }
    }
  }

  /// dlib's `tiled_pyramid_to_image`: the level whose box is nearest to the
  /// box's centre (rounded to a pixel), then `point_up` once per level:
  /// `p ↦ p·N/(N−1) + 0.3`, relative to that level's corner.
  func imageBox(fromTensor box: RealBox) -> RealBox {
    let cx = Int(((box.left + box.right) / 2 + 0.5).rounded(.down))
    let cy = Int(((box.top + box.bottom) / 2 + 0.5).rounded(.down))
    var index = 0
    var best = Double.infinity
    for (i, level) in levels.enumerated() {
      if level.contains(x: cx, y: cy) {
        index = i
        break
      }
      let nx = min(max(cx, level.left), level.right)
      let ny = min(max(cy, level.top), level.bottom)
      let dx = Double(nx - cx)
      let dy = Double(ny - cy)
      let distance = (dx * dx + dy * dy).squareRoot()
      if distance < best {
        best = distance
        index = i
      }
    }
    let origin = levels[index]
    var l = box.left - Double(origin.left)
    var t = box.top - Double(origin.top)
    var r = box.right - Double(origin.left)
    var b = box.bottom - Double(origin.top)
    let ratio = Double(downsampling) / (Double(downsampling) - 1)
    for _ in 0..<index {
      l = l * ratio + 0.3
      t = t * ratio + 0.3
      r = r * ratio + 0.3
      b = b * ratio + 0.3
    }
    return RealBox(left: min(l, r), top: min(t, b), right: max(l, r), bottom: max(t, b))
  }
}
