import AnomalyKit
import Density
import FeatureExtraction

/// Pixel AUROC and AUPRO of a patch bank's maps against ground-truth masks.
///
/// Each image's score grid becomes a dense map at the image's own size
/// (`AnomalyMap.dense`: bilinear, then σ = 4 at input resolution). Normal
/// images count as all-normal masks. The grid must cover the whole image,
/// which holds for banks fitted with `--resize stretch` (or `native` on
/// images of the input size); a centrally cropped map would leave the
/// border unscored, so `crop` banks are refused.
struct PixelEvaluation {
  let masks: GroundTruthMasks
  let inputSize: Int
  let limits: ImageLimits

  struct Result {
    let pixelAUROC: Double?
    let aupro: Double?
  }

  func evaluate(normal: [ImageScore], anomalous: [ImageScore]) throws -> Result {
    var images: [RegionOverlap.Image] = []
    for (scores, defective) in [(normal, false), (anomalous, true)] {
      for s in scores {
        guard let grid = s.map else { throw CLIError("\(s.path): no score map; pixel metrics need a patch bank (fit --patches)") }
        let decoded = try ImageDecoder.decode(path: s.path, limits: limits)
        let (w, h) = (decoded.width, decoded.height)
        let dense = AnomalyMap.dense(grid, gridHeight: s.gridHeight, gridWidth: s.gridWidth, width: w, height: h, inputSize: inputSize)
        let mask = defective ? try masks.mask(for: s.path, width: w, height: h, limits: limits) : [Bool](repeating: false, count: w * h)
        images.append(RegionOverlap.Image(scores: dense, mask: mask, height: h, width: w))
      }
    }
    let labels = images.flatMap(\.mask)
    return Result(
      pixelAUROC: Metrics.auroc(scores: images.flatMap(\.scores), labels: labels), aupro: RegionOverlap.aupro(images))
  }
}
