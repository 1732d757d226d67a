/// A channels-last feature map: `values[(y·width + x)·channels + c]`.
struct FeatureMap: Sendable {
  var height: Int
  var width: Int
  var channels: Int
  var values: [Float]

  init(height: Int, width: Int, channels: Int) {
    self.height = height
    self.width = width
    self.channels = channels
    values = [Float](repeating: 0, count: max(0, height * width * channels))
  }

  /// dlib's `max_pool_`/`avg_pool_` with padding 0 (the stride-2 case):
  /// `out = 1 + (in − k) / stride` per axis, every window inside the input.
  ///
  /// ```
  /// max:  y[oy, ox, c] = max_{ky,kx < k} x[oy·s + ky, ox·s + kx, c]
  /// mean: y[oy, ox, c] = (Σ_{ky,kx < k} x[oy·s + ky, ox·s + kx, c]) · (1 / k²)
  /// ```
  func pooled(window k: Int, stride s: Int, average: Bool) -> FeatureMap {
    let oh = height < k ? 0 : 1 + (height - k) / s
    let ow = width < k ? 0 : 1 + (width - k) / s
    var out = FeatureMap(height: oh, width: ow, channels: channels)
    let scale = 1 / Float(k * k)
    let c = channels
    values.withUnsafeBufferPointer { x in
      out.values.withUnsafeMutableBufferPointer { y in
        for oy in 0..<oh {
          for ox in 0..<ow {
            let o = (oy * ow + ox) * c
            for ch in 0..<c { y[o + ch] = average ? 0 : -Float.infinity }
            for ky in 0..<k {
              for kx in 0..<k {
                let i = ((oy * s + ky) * width + ox * s + kx) * c
                if average {
                  for ch in 0..<c { y[o + ch] += x[i + ch] }
                } else {
                  for ch in 0..<c { y[o + ch] = max(y[o + ch], x[i + ch]) }
                }
              }
            }
            if average { for ch in 0..<c { y[o + ch] *= scale } }
          }
        }
      }
    }
    return out
  }

  /// dlib's `add_prev_` followed by `relu_`: the output takes the larger of
  /// each dimension, and each input counts as zero outside its own extent
  /// (aligned at row 0, column 0, channel 0), so a residual shortcut with
  /// fewer channels is zero-padded and a smaller map is padded at the bottom
  /// and right:
  ///
  /// ```
  /// z[y, x, c] = max(0, a[y, x, c]·[inside a] + b[y, x, c]·[inside b])
  /// ```
  static func addPrevRelu(_ a: FeatureMap, _ b: FeatureMap) -> FeatureMap {
    var out = FeatureMap(
      height: max(a.height, b.height), width: max(a.width, b.width), channels: max(a.channels, b.channels))
    for source in [a, b] {
      let c = source.channels
      source.values.withUnsafeBufferPointer { x in
        out.values.withUnsafeMutableBufferPointer { z in
          for y in 0..<source.height {
            for xx in 0..<source.width {
              let o = (y * out.width + xx) * out.channels
              let i = (y * source.width + xx) * c
              for ch in 0..<c { z[o + ch] += x[i + ch] }
            }
          }
        }
      }
    }
    out.values.withUnsafeMutableBufferPointer { z in
      for i in 0..<z.count where z[i] < 0 { z[i] = 0 }
    }
    return out
  }

  /// dlib's `avg_pool_everything`: the mean of each channel over all positions.
  func channelMeans() -> [Float] {
    var sums = [Float](repeating: 0, count: channels)
    let n = height * width
    values.withUnsafeBufferPointer { x in
      for p in 0..<n {
        for ch in 0..<channels { sums[ch] += x[p * channels + ch] }
      }
    }
    let scale = 1 / Float(max(1, n))
    return sums.map { $0 * scale }
  }
}
