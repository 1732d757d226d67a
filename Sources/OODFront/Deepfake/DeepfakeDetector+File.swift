import Foundation
import TensorFiles

/// Reading and writing real-only deepfake detectors as safetensors.
///
/// Tensors: `reals.values` F64 `[N, C]` (the reals' cue values, one column
/// per reading), `calibration.median` and `calibration.scale` F64 `[C]`.
/// Metadata (strings): `format` = `deepfake-detector`, `format_version` = `1`,
/// `recipe` = `real-only-cues/1`, `readings` (`noise:lower,…`), `threshold`,
/// `fpr`, `harmonize_jpeg` (quality or `none`), `crop`, plus provenance
/// (`backbone`, `weights_sha256`, `toolkit_version`, `fit_images`).
extension DeepfakeDetector {
  /// The `format` metadata of a detector file (`deepfake-detector`).
  public static let format = "deepfake-detector"
  /// The `format_version` this code writes and reads (`1`).
  public static let formatVersion = "1"
  static let cropDescription = "central square, side min(256, H, W) rounded down to 8, offsets on the 8x8 grid"

  /// Writes the detector to `path` as safetensors, in the layout above.
  public func write(to path: String) throws {
    var meta = metadata
    meta["format"] = Self.format
    meta["format_version"] = Self.formatVersion
    meta["recipe"] = Self.recipe
    meta["readings"] = readings.map(\.description).joined(separator: ",")
    meta["threshold"] = "\(threshold)"
    meta["fpr"] = "\(fpr)"
    meta["harmonize_jpeg"] = harmonizeJPEG.map(String.init) ?? "none"
    meta["crop"] = Self.cropDescription
    meta["fit_images"] = String(realValues.count)
    var writer = SafeTensorsWriter(metadata: meta)
    try writer.add("reals.values", doubles: realValues.flatMap { $0 }, shape: [realValues.count, readings.count])
    try writer.add("calibration.median", doubles: calibration.medians, shape: [readings.count])
    try writer.add("calibration.scale", doubles: calibration.scales, shape: [readings.count])
    try writer.write(to: path)
  }

  /// Loads a detector; a reference bank or another recipe is refused with
  /// both recipes named.
  public static func read(path: String) throws -> DeepfakeDetector {
    let file: SafeTensorsFile
    do { file = try SafeTensorsFile(path: path) } catch { throw DeepfakeError.invalidDetector(path: path, reason: "\(error)") }
    let meta = file.metadata
    func fail(_ reason: String) -> DeepfakeError { .invalidDetector(path: path, reason: reason) }
    if meta["format"] == "bank" {
      let layer = meta["layer"] ?? "?", scorer = meta["scorer"] ?? "?"
      throw DeepfakeError.wrongRecipe(path: path, found: "reference bank (layer \(layer), scorer \(scorer); `fit`)", expected: recipe)
    }
    if let problem = file.formatProblem(format: format, version: formatVersion, otherKinds: "bank, weights or cold-start detector") {
      throw fail(problem)
    }
    guard meta["recipe"] == recipe else { throw DeepfakeError.wrongRecipe(path: path, found: meta["recipe"] ?? "(missing)", expected: recipe) }
    let readings: [CueReading]
    do { readings = try CueReading.list(meta["readings"] ?? "") } catch { throw fail("metadata 'readings': \(error)") }
    let c = readings.count
    guard let threshold = Double(meta["threshold"] ?? ""), threshold.isFinite else { throw fail("metadata 'threshold' is not a finite number") }
    guard let fpr = Double(meta["fpr"] ?? ""), fpr > 0, fpr < 1 else { throw fail("metadata 'fpr' is not in (0, 1)") }
    var harmonize: Int?
    switch meta["harmonize_jpeg"] {
    case nil, "none": harmonize = nil
    case let q?:
      guard let v = Int(q), (1...100).contains(v) else { throw fail("metadata 'harmonize_jpeg' '\(q)' is not a JPEG quality") }
      harmonize = v
    }
    let info: TensorInfo
    do { info = try file.info("reals.values") } catch { throw fail("\(error)") }
    guard info.shape.count == 2, info.shape[1] == c, info.shape[0] >= minimumReals else {
      throw fail("'reals.values' must be [N ≥ \(minimumReals), \(c)], found \(info.shape)")
    }
    let flat: [Double], medians: [Double], scales: [Double]
    do {
      flat = try file.doubles("reals.values", shape: info.shape)
      medians = try file.doubles("calibration.median", shape: [c])
      scales = try file.doubles("calibration.scale", shape: [c])
    } catch { throw fail("\(error)") }
    guard flat.allSatisfy(\.isFinite), medians.allSatisfy(\.isFinite), scales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
      throw fail("non-finite values, or a non-positive scale")
    }
    let rows = (0..<info.shape[0]).map { Array(flat[($0 * c)..<(($0 + 1) * c)]) }
    return DeepfakeDetector(
      calibration: RealOnlyCalibration(readings: readings, medians: medians, scales: scales), realValues: rows,
      threshold: threshold, fpr: fpr, harmonizeJPEG: harmonize, metadata: meta)
  }
}
