import FeatureExtraction

extension FaceDetector {
  /// The CNN's score map over the tiled pyramid of `image`
  /// (`height × width × 1`; empty when the pyramid is smaller than the
  /// receptive field).
  func scoreMap(pyramid: DlibTiledPyramid, image: RGBImage, workers: Int) -> FeatureMap {
    let planar = pyramid.tensor(of: image, mean: inputMean)
    var x = FeatureMap(height: pyramid.height, width: pyramid.width, channels: 3)
    let plane = pyramid.height * pyramid.width
    planar.withUnsafeBufferPointer { p in
      x.values.withUnsafeMutableBufferPointer { v in
        for i in 0..<plane {
          v[i * 3] = p[i]
          v[i * 3 + 1] = p[plane + i]
          v[i * 3 + 2] = p[2 * plane + i]
        }
      }
    }
    for layer in layers {
      x = layer(x, workers: workers)
      if x.height == 0 || x.width == 0 { break }
    }
    return x
  }

  /// `loss_mmod_::to_label`: windows above `threshold`, mapped to image
  /// pixels, sorted by score, then greedily non-max suppressed.
  func windows(in scores: FeatureMap, pyramid: DlibTiledPyramid, threshold: Float) -> [(PixelBox, Float)] {
    guard scores.height > 0, scores.width > 0 else { return [] }
    var candidates: [(box: PixelBox, score: Float, index: Int)] = []
    for r in 0..<scores.height {
      for c in 0..<scores.width {
        let score = scores.values[r * scores.width + c]
        guard score > threshold else { continue }
        // output_tensor_to_input_tensor: through the layers, last to first
        var px = Double(c)
        var py = Double(r)
        for layer in layers.reversed() {
          px = px * Double(layer.stride) - Double(layer.padding) + Double(layer.kernel / 2)
          py = py * Double(layer.stride) - Double(layer.padding) + Double(layer.kernel / 2)
        }
        let window = RealBox.centered(x: px, y: py, width: Double(windowWidth), height: Double(windowHeight))
        candidates.append((pyramid.imageBox(fromTensor: window).rounded, score, candidates.count))
      }
    }
    // dlib sorts with std::sort on the score alone; ties keep scan order here.
    candidates.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
    var kept: [(PixelBox, Float)] = []
    for candidate in candidates where !kept.contains(where: { suppression.overlaps($0.0, candidate.box) }) {
      kept.append((candidate.box, candidate.score))
    }
    return kept
  }
}
