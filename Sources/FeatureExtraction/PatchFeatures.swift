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
///
/// With `grid = .coarsest` the maps meet at the *coarsest* requested grid
/// instead: each finer map is average-pooled onto it (PyTorch's
/// `adaptive_avg_pool2d` bins, plain k×k blocks when the sizes divide), the
/// maps are concatenated, and then the 3×3 neighbourhood mean is taken. For
/// stages 1–3 at 256² that is 32×32 locations (one per 8×8 pixel block, as
/// LaDeDa's patches) of 16 + 24 + 40 = 80 dimensions: early, local features
/// pooled over small patches, for forensic banks.
public struct PatchFeatureBuilder: Sendable, Equatable {
  /// Where the stage maps are brought together.
  public enum Grid: String, Sendable, Equatable {
    /// The finest map's grid; coarser maps are upsampled (bilinear).
    case finest
    /// The coarsest map's grid; finer maps are average-pooled.
    case coarsest
  }

  /// 1-based backbone stages whose maps are joined, in ascending order.
  public var stages: [Int]
  /// Side of the square window each location is averaged over (default 3;
  /// `neighbourhood / 2` locations each way, clipped at the borders).
  public var neighbourhood: Int
  /// Which grid the stage maps are brought to (default `.finest`).
  public var grid: Grid

  /// Creates a builder; `stages` are sorted ascending.
  ///
  /// - Parameters:
  ///   - stages: 1-based stages to join (default 3 and 5).
  ///   - neighbourhood: side of the averaging window (default 3).
  ///   - grid: where the maps meet (default `.finest`).
  public init(stages: [Int] = [3, 5], neighbourhood: Int = 3, grid: Grid = .finest) {
    self.stages = stages.sorted()
    self.neighbourhood = neighbourhood
    self.grid = grid
  }

  /// Locations per image, feature width, and grid size for `model`.
  public func layout(for model: any ImageBackbone) -> (height: Int, width: Int, dimension: Int)? {
    var h = 0
    var w = 0
    var d = 0
    for s in stages {
      guard let shape = model.stageShape(s) else { return nil }
      if h == 0 || (grid == .finest ? shape.height > h : shape.height < h) {
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
    if grid == .coarsest { return buildCoarsest(maps) }
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

  /// Maps pooled onto the coarsest grid, concatenated, then averaged over
  /// each location's neighbourhood.
  private func buildCoarsest(_ maps: [FeatureMaps]) -> FeatureMaps? {
    guard maps.count == stages.count, let coarse = maps.min(by: { $0.height < $1.height }) else { return nil }
    let h = coarse.height
    let w = coarse.width
    let d = maps.reduce(0) { $0 + $1.channels }
    var out = [Float](repeating: 0, count: coarse.count * h * w * d)
    for image in 0..<coarse.count {
      var joined = [Float](repeating: 0, count: h * w * d)
      var offset = 0
      for map in maps {
        let pooled = Self.adaptiveAverage(map, image: image, toHeight: h, toWidth: w)
        for p in 0..<(h * w) {
          for c in 0..<map.channels { joined[p * d + offset + c] = pooled[p * map.channels + c] }
        }
        offset += map.channels
      }
      let concatenated = FeatureMaps(count: 1, height: h, width: w, channels: d, values: joined)
      let smoothed = averaged(concatenated, image: 0)
      out.replaceSubrange((image * h * w * d)..<((image + 1) * h * w * d), with: smoothed)
    }
    return FeatureMaps(count: coarse.count, height: h, width: w, channels: d, values: out)
  }

  /// PyTorch's `adaptive_avg_pool2d` on one HWC map: output cell (i, j)
  /// averages rows ⌊i·H/h⌋ ..< ⌈(i+1)·H/h⌉ and likewise columns.
  static func adaptiveAverage(_ map: FeatureMaps, image: Int, toHeight h: Int, toWidth w: Int) -> [Float] {
    let c = map.channels
    let base = image * map.elementsPerImage
    var out = [Float](repeating: 0, count: h * w * c)
    for i in 0..<h {
      let y0 = i * map.height / h
      let y1 = ((i + 1) * map.height + h - 1) / h
      for j in 0..<w {
        let x0 = j * map.width / w
        let x1 = ((j + 1) * map.width + w - 1) / w
        let o = (i * w + j) * c
        for y in y0..<y1 {
          for x in x0..<x1 {
            let src = base + (y * map.width + x) * c
            for k in 0..<c { out[o + k] += map.values[src + k] }
          }
        }
        let n = Float((y1 - y0) * (x1 - x0))
        for k in 0..<c { out[o + k] /= n }
      }
    }
    return out
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
