import Density

/// A pixel threshold for defect masks, from normal images only.
///
/// Collects the cross-fitted (out-of-fold) location scores of the normal
/// images of a patch fit, smooths each image's grid by the same Gaussian the
/// dense maps get (σ = 4 pixels at input resolution, i.e. 4 · grid side /
/// input size cells; `AnomalyMap`), and takes the `1 − fpr` quantile of all
/// of them. Bilinear upsampling to the image does not change the quantiles
/// beyond interpolation, so a dense normal map exceeds the threshold at
/// about `fpr` of its pixels.
final class PixelThreshold {
  static let method = "cross-fit quantile of Gaussian-smoothed location scores"
  let grid: (height: Int, width: Int)
  let sigma: Double
  private var values: [Float] = []

  init(grid: (height: Int, width: Int), inputSize: Int) {
    self.grid = grid
    sigma = 4 * Double(max(grid.height, grid.width)) / Double(max(inputSize, 1))
  }

  func add(_ scores: ArraySlice<Float>) {
    guard scores.count == grid.height * grid.width else { return }
    values += AnomalyMap.gaussianBlur(Array(scores), height: grid.height, width: grid.width, sigma: sigma)
  }

  func threshold(fpr: Double) -> Float? { Metrics.quantile(values, 1 - fpr) }
}
