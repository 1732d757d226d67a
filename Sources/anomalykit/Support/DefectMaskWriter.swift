import AnomalyKit
import FeatureExtraction
import Foundation

/// `score --masks-out`: binary defect masks at the bank's pixel threshold.
///
/// Each image's dense anomaly map (`AnomalyMap.dense`: the location scores
/// resized to the image and smoothed, as for pixel AUROC) is compared with
/// the `pixel_threshold` that `fit` calibrated on normal images only
/// (`PixelThreshold`, `--pixel-fpr`); pixels above it are written as 255,
/// the rest 0, as `<folder>/<name>.mask.png` at the image's own size.
struct DefectMaskWriter {
  let folder: String
  let threshold: Float
  let inputSize: Int
  let limits: ImageLimits

  /// Checks the bank and the output folder before any image is scored.
  init(bank: LoadedBank, folder: String, images: [String], limits: ImageLimits) throws {
    inputSize = try bank.denseMapInputSize(for: "--masks-out")
    guard let t = bank.bank.metadata["pixel_threshold"].flatMap(Float.init), t.isFinite else {
      throw CLIError("\(bank.path): no pixel threshold; refit it with fit --patches --holdout 0.1 [--pixel-fpr 0.01], which calibrates one on the normal images")
    }
    threshold = t
    self.folder = folder
    self.limits = limits
    try HeatmapWriter.prepare(folder: folder, images: images, suffix: "mask")
  }

  func write(_ results: [ImageScore]) throws {
    let names = HeatmapWriter.fileNames(results.map(\.path), suffix: "mask")
    var flagged = 0
    for (r, name) in zip(results, names) {
      guard let grid = r.map else { continue }
      let image = try ImageDecoder.decode(path: r.path, limits: limits)
      let dense = AnomalyMap.dense(grid, gridHeight: r.gridHeight, gridWidth: r.gridWidth, width: image.width, height: image.height, inputSize: inputSize)
      var pixels = [UInt8](repeating: 0, count: dense.count * 3)
      for (i, v) in dense.enumerated() where v > threshold {
        pixels[3 * i] = 255
        pixels[3 * i + 1] = 255
        pixels[3 * i + 2] = 255
        flagged += 1
      }
      try ImageEncoder.writePNG(RGBImage(width: image.width, height: image.height, pixels: pixels), to: folder + "/" + name)
    }
    warn("wrote \(results.count) defect masks to \(folder) (pixel threshold \(String(format: "%.6g", threshold)); \(flagged) pixels flagged)")
  }
}
