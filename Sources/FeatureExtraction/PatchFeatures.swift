/// Per-location (patch) features from several stages of a backbone, as in
/// PatchCore (Roth et al., CVPR 2022).
///
/// For each requested stage map:
/// 1. average each location over its 3×3 neighbourhood (stride 1; border
///    locations average their in-bounds neighbours), so that a patch
///    feature sees a little context;
/// 2. resize to the finest requested map (bilinear, half-pixel centres as
///    PyTorch's `align_corners=False`);
///
/// then concatenate the channels. With stages 3 and 5 of EfficientNet-Lite0
/// at 224² (the ends of blocks 4 and 10) that is 28×28 locations of
/// 40 + 112 = 152 dimensions.
///
/// **Differs from PatchCore:** PatchCore projects each layer to a fixed width
/// with adaptive average pooling before concatenating; we keep native widths
/// (they are small for EfficientNet-Lite).
public struct PatchFeatureBuilder: Sendable, Equatable {
  public var stages: [Int]
  public var neighbourhood: Int

  public init(stages: [Int] = [3, 5], neighbourhood: Int = 3) {
    self.stages = stages.sorted()
    self.neighbourhood = neighbourhood
  }

  /// Locations per image, feature width, and grid size for `model`.
  public func layout(for model: EfficientNetLite) -> (height: Int, width: Int, dimension: Int)? {
    var h = 0
    var w = 0
    var d = 0
    for s in stages {
      guard let shape = model.stageShape(s) else { return nil }
      if shape.height > h {
        h = shape.height
        w = shape.width
      }
      d += shape.channels
    }
    return (h, w, d)
  }

  /// `count × (H·W) × D` patch features, one row per location (row-major
  /// over the grid), from a backbone output that holds `stages`.
  public func build(_ output: BackboneOutput) -> FeatureMaps? {
    let maps = stages.compactMap { output.stages[$0] }
    guard maps.count == stages.count, let finest = maps.max(by: { $0.height < $1.height }) else { return nil }
    let h = finest.height
    let w = finest.width
    let d = maps.reduce(0) { $0 + $1.channels }
    let count = finest.count
    var out = [Float](repeating: 0, count: count * h * w * d)
    var offset = 0
    for map in maps {
      for image in 0..<count {
        let pooled = averaged(map, image: image)
        let resized = map.height == h && map.width == w ? pooled : Self.bilinear(pooled, height: map.height, width: map.width, channels: map.channels, toHeight: h, toWidth: w)
        for p in 0..<(h * w) {
          let dst = (image * h * w + p) * d + offset
          for c in 0..<map.channels { out[dst + c] = resized[p * map.channels + c] }
        }
      }
      offset += map.channels
    }
    return FeatureMaps(count: count, height: h, width: w, channels: d, values: out)
  }

  /// 3×3 (or `neighbourhood`²) mean with in-bounds neighbours only.
  private func averaged(_ map: FeatureMaps, image: Int) -> [Float] {
    let h = map.height
    let w = map.width
    let c = map.channels
    let base = image * map.elementsPerImage
    let r = neighbourhood / 2
    var out = [Float](repeating: 0, count: h * w * c)
    map.values.withUnsafeBufferPointer { v in
      for y in 0..<h {
        for x in 0..<w {
          var n: Float = 0
          let o = (y * w + x) * c
          for yy in max(0, y - r)...min(h - 1, y + r) {
            for xx in max(0, x - r)...min(w - 1, x + r) {
              let i = base + (yy * w + xx) * c
              for k in 0..<c { out[o + k] += v[i + k] }
              n += 1
            }
          }
          for k in 0..<c { out[o + k] /= n }
        }
      }
    }
    return out
  }

  /// Bilinear resize of an HWC map with half-pixel centres
  /// (`align_corners=False`, no antialiasing).
  public static func bilinear(_ v: [Float], height: Int, width: Int, channels: Int, toHeight: Int, toWidth: Int) -> [Float] {
    var out = [Float](repeating: 0, count: toHeight * toWidth * channels)
    func source(_ i: Int, _ scale: Float, _ size: Int) -> (Int, Int, Float) {
      let s = max(0, (Float(i) + 0.5) * scale - 0.5)
      let i0 = min(Int(s), size - 1)
      let i1 = min(i0 + 1, size - 1)
      return (i0, i1, s - Float(i0))
    }
    let sy = Float(height) / Float(toHeight)
    let sx = Float(width) / Float(toWidth)
    for y in 0..<toHeight {
      let (y0, y1, ty) = source(y, sy, height)
      for x in 0..<toWidth {
        let (x0, x1, tx) = source(x, sx, width)
        let o = (y * toWidth + x) * channels
        for c in 0..<channels {
          let a = v[(y0 * width + x0) * channels + c]
          let b = v[(y0 * width + x1) * channels + c]
          let e = v[(y1 * width + x0) * channels + c]
          let f = v[(y1 * width + x1) * channels + c]
          out[o + c] = (a * (1 - tx) + b * tx) * (1 - ty) + (e * (1 - tx) + f * tx) * ty
        }
      }
    }
    return out
  }
}
