import AnomalyKit
import Density
import FeatureExtraction
import Foundation

/// Writes `<folder>/<image name>.heatmap.png` for each scored image: the
/// patch scores upsampled to the image and blended over it, on one colour
/// scale for the whole run. Blue is the run's median location score (a
/// typical normal patch); red is 1.5 × the bank's threshold, or, without a
/// threshold, the run's 99.5th-percentile location score.
enum HeatmapWriter {
  static func prepare(folder: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else { throw CLIError("\(folder): --heatmaps must be a folder, found a file") }
      return
    }
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
      throw CLIError("\(folder): cannot create heatmap folder: \(error.localizedDescription)")
    }
  }

  @discardableResult
  static func write(_ results: [ImageScore], folder: String, threshold: Float?, limits: ImageLimits) throws -> Int {
    let all = results.flatMap { $0.map ?? [] }
    let low = Metrics.quantile(all, 0.5) ?? 0
    let top = max(threshold.map { 1.5 * $0 } ?? (Metrics.quantile(all, 0.995) ?? 1), low + 1e-6)
    var used: [String: Int] = [:]
    var count = 0
    for r in results {
      guard let map = r.map else { continue }
      let image = try ImageDecoder.decode(path: r.path, limits: limits)
      let dense = Heatmap.upsample(map, gridHeight: r.gridHeight, gridWidth: r.gridWidth, width: image.width, height: image.height)
      let overlay = Heatmap.overlay(image, map: dense, range: low...top)
      let stem = ((r.path as NSString).lastPathComponent as NSString).deletingPathExtension
      let n = used[stem, default: 0]
      used[stem] = n + 1
      let name = n == 0 ? "\(stem).heatmap.png" : "\(stem)-\(n).heatmap.png"
      try ImageEncoder.writePNG(overlay, to: folder + "/" + name)
      count += 1
    }
    return count
  }
}
