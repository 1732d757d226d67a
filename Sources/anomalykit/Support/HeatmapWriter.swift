import AnomalyKit
import FeatureExtraction
import Foundation

/// Writes `<folder>/<image name>.heatmap.png` for each scored image: the
/// patch scores upsampled to the image and blended over it, on one colour
/// scale for the whole run. Blue is the run's median location score (a
/// typical normal patch); red is 1.5 × the bank's threshold, or, without a
/// threshold, the run's 99.5th-percentile location score.
enum HeatmapWriter {
  /// Creates `folder` if needed and, before any image is scored, checks
  /// that the heatmap of each of `images` can be written there without
  /// replacing an input (a folder of earlier heatmaps may itself be scored).
  static func prepare(folder: String, images: [String], suffix: String = "heatmap") throws {
    try prepare(folder: folder)
    let inputs = OutputPath.InputSet(images)
    for name in Set(fileNames(images, suffix: suffix)) { try OutputPath.check(folder + "/" + name, inputs: inputs) }
  }

  /// `<image name>.<suffix>.png` (`heatmap` by default) for each of
  /// `paths`, in order; a second image of the same name gets `-1`, `-2`, ….
  static func fileNames(_ paths: [String], suffix: String = "heatmap") -> [String] {
    var used: [String: Int] = [:]
    return paths.map { path in
      let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
      let n = used[stem, default: 0]
      used[stem] = n + 1
      return n == 0 ? "\(stem).\(suffix).png" : "\(stem)-\(n).\(suffix).png"
    }
  }

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
    let grids = results.compactMap { r in r.map.map { Grid(path: r.path, values: $0, height: r.gridHeight, width: r.gridWidth, score: r.score) } }
    return try write(grids, folder: folder, range: HeatmapScale.range(results.flatMap { $0.map ?? [] }, threshold: threshold), limits: limits)
  }

  /// One image's per-location values (row-major `height × width`), which
  /// cover the whole image.
  struct Grid {
    let path: String
    let values: [Float]
    let height: Int
    let width: Int
    /// The image's score, written in the corner (nil: none).
    var score: Float? = nil
  }

  /// Writes `<folder>/<image name>.heatmap.png` per grid, values mapped to
  /// the colour ramp by `range` (blue at its lower end, red at its upper),
  /// with a colour bar and the image score drawn on (`HeatmapLegend`);
  /// a second image of the same name gets `-1`, `-2`, ….
  @discardableResult
  static func write(_ grids: [Grid], folder: String, range: ClosedRange<Float>, limits: ImageLimits) throws -> Int {
    var count = 0
    let inputs = OutputPath.InputSet(grids.map(\.path))
    for (g, name) in zip(grids, fileNames(grids.map(\.path))) {
      let image = try ImageDecoder.decode(path: g.path, limits: limits)
      let dense = Heatmap.upsample(g.values, gridHeight: g.height, gridWidth: g.width, width: image.width, height: image.height)
      let overlay = HeatmapLegend.annotate(Heatmap.overlay(image, map: dense, range: range), range: range, score: g.score)
      // Checked before scoring too (`prepare(folder:images:)`); checked
      // again here in case an input appeared there since.
      try OutputPath.check(folder + "/" + name, inputs: inputs)
      try ImageEncoder.writePNG(overlay, to: folder + "/" + name)
      count += 1
    }
    return count
  }
}
