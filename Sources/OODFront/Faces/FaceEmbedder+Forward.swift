import FeatureExtraction

extension FaceEmbedder {
  /// One chip through the network on the calling thread.
  ///
  /// Input: `x[y, x, c] = (Float(pixel) − mean[c]) · (1/256)`, the value
  /// dlib's `input_rgb_image_sized` computes (the subtraction in float, the
  /// division by 256 exact).
  func descriptor(of chip: RGBImage) -> [Float] {
    var x = FeatureMap(height: chip.height, width: chip.width, channels: 3)
    let mean = inputMean
    chip.pixels.withUnsafeBufferPointer { p in
      x.values.withUnsafeMutableBufferPointer { v in
        for i in 0..<(chip.width * chip.height) {
          for c in 0..<3 { v[i * 3 + c] = (Float(p[i * 3 + c]) - mean[c]) * (1 / 256) }
        }
      }
    }
    x = stem(x, workers: 1).pooled(window: 3, stride: 2, average: false)
    for block in blocks {
      let y = block.second(block.first(x, workers: 1), workers: 1)
      let shortcut = block.downsamples ? x.pooled(window: 2, stride: 2, average: true) : x
      x = FeatureMap.addPrevRelu(y, shortcut)
    }
    let pooled = x.channelMeans()
    let inputs = pooled.count
    var out = [Float](repeating: 0, count: descriptorSize)
    projection.withUnsafeBufferPointer { w in
      for o in 0..<descriptorSize {
        var sum: Float = 0
        for i in 0..<inputs { sum += w[o * inputs + i] * pooled[i] }
        out[o] = sum
      }
    }
    return out
  }
}
