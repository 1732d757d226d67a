import FeatureExtraction
import Foundation

/// Dense, per-pixel anomaly maps from a patch bank's per-location scores,
/// for segmentation metrics and masks.
///
/// PatchCore's recipe: the score grid is resized to the image with bilinear
/// interpolation (half-pixel centres, as `Heatmap.upsample`), then smoothed
/// by a Gaussian of σ = 4 pixels *at the network's input resolution*, so
/// σ = 4 · max(H, W) / inputSize on the image. The Gaussian is scipy's
/// `gaussian_filter`: separable, radius ⌊4σ + ½⌋, weights
/// `exp(−x² / 2σ²)` normalised to sum 1, mirror padding that repeats the
/// edge pixel (`mode="reflect"`).
public enum AnomalyMap {
  /// The map of one image: `grid` (row-major `gridHeight × gridWidth`)
  /// resized to `width × height` and smoothed; `inputSize` is the network's
  /// input side the grid was computed at.
  public static func dense(
    _ grid: [Float], gridHeight: Int, gridWidth: Int, width: Int, height: Int, inputSize: Int
  ) -> [Float] {
    let up = Heatmap.upsample(grid, gridHeight: gridHeight, gridWidth: gridWidth, width: width, height: height)
    let sigma = 4 * Double(max(width, height)) / Double(max(inputSize, 1))
    return gaussianBlur(up, height: height, width: width, sigma: sigma)
  }

  /// scipy.ndimage.gaussian_filter(x, sigma, mode="reflect", truncate=4).
  public static func gaussianBlur(_ x: [Float], height h: Int, width w: Int, sigma: Double) -> [Float] {
    guard sigma > 0 else { return x }
    let radius = Int(4 * sigma + 0.5)
    var weights = (-radius...radius).map { Foundation.exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
    let total = weights.reduce(0, +)
    weights = weights.map { $0 / total }
    func fold(_ i: Int, _ n: Int) -> Int {
      var j = i
      let period = 2 * n
      j %= period
      if j < 0 { j += period }
      return j < n ? j : period - 1 - j
    }
    var rows = [Float](repeating: 0, count: h * w)
    for r in 0..<h {
      for c in 0..<w {
        var acc = 0.0
        for (k, wk) in weights.enumerated() { acc += wk * Double(x[r * w + fold(c + k - radius, w)]) }
        rows[r * w + c] = Float(acc)
      }
    }
    var out = [Float](repeating: 0, count: h * w)
    for r in 0..<h {
      for c in 0..<w {
        var acc = 0.0
        for (k, wk) in weights.enumerated() { acc += wk * Double(rows[fold(r + k - radius, h) * w + c]) }
        out[r * w + c] = Float(acc)
      }
    }
    return out
  }
}
