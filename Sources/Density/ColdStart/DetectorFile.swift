import Foundation
import TensorFiles

/// Reading and writing cold-start detectors as safetensors.
///
/// Tensors (F32):
/// - `prototypes.original` `[K, D]`: the zero-shot prototypes as given;
/// - `prototypes.adapted` `[K, D]`: the ColdFusion medians z̃_k (in the
///   metric's space: unit-normalised inputs for `cosine`);
/// - `prototypes.predictive` `[K, D]` and `prototypes.predictive_factors`
///   `[K]`: p_k and f_k of the predictive rule;
/// - `observations` `[N, D]`: every observation embedding adapted to, in
///   arrival order (absent when N = 0).
///
/// Metadata (strings): `format` = `detector`, `format_version` = `1`,
/// `toolkit_version`, `method` (the scoring rule: `predictive` or
/// `coldfusion`), `kappa`, `metric` (`l2` or `cosine`), `trim`, `dimension`, `classes` (a JSON array of the K class names),
/// `observations` (N), `threshold` when set, plus the caller's provenance
/// (`modality`, `encoder`, `weights_sha256`, …).
///
/// Loading recomputes the adaptation from the original prototypes and the
/// observations and refuses the file unless the result equals the stored
/// adapted prototypes, so an edited or truncated file cannot score silently.
public enum DetectorFile {
  /// The `format_version` this toolkit writes and reads.
  public static let formatVersion = "1"

  /// Writes `detector` to `path` atomically as a safetensors file with the
  /// tensors and metadata above; `toolkitVersion` is recorded as
  /// `toolkit_version`.
  public static func write(_ detector: ColdStartDetector, to path: String, toolkitVersion: String) throws {
    var meta = detector.metadata
    meta["format"] = "detector"
    meta["format_version"] = formatVersion
    meta["toolkit_version"] = toolkitVersion
    meta["method"] = detector.rule.rawValue
    meta["kappa"] = "\(detector.adaptation.kappa)"
    meta["metric"] = detector.metric.rawValue
    meta["trim"] = "\(detector.trim)"
    meta["dimension"] = String(detector.dimension)
    meta["classes"] = JSONValue.array(detector.classNames.map { .string($0) }).serialized
    meta["observations"] = String(detector.observations.rows)
    if let t = detector.threshold { meta["threshold"] = "\(t)" } else { meta.removeValue(forKey: "threshold") }
    var writer = SafeTensorsWriter(metadata: meta)
    let k = detector.prototypes.rows
    let d = detector.dimension
    try writer.add("prototypes.original", floats: detector.prototypes.values, shape: [k, d])
    try writer.add("prototypes.adapted", floats: detector.adaptation.adapted, shape: [k, d])
    try writer.add("prototypes.predictive", floats: detector.adaptation.predictive, shape: [k, d])
    try writer.add("prototypes.predictive_factors", floats: detector.adaptation.predictiveFactors, shape: [k])
    if detector.observations.rows > 0 {
      try writer.add("observations", floats: detector.observations.values, shape: [detector.observations.rows, d])
    }
    try writer.write(to: path)
  }

  /// Loads the detector at `path`, refusing it unless its adapted
  /// prototypes follow from its observations.
  public static func read(path: String) throws -> ColdStartDetector {
    try read(SafeTensorsFile(path: path))
  }

  /// Loads a detector from an opened safetensors file (mapped, or bytes held
  /// in memory); messages name `file.path`.
  public static func read(_ file: SafeTensorsFile) throws -> ColdStartDetector {
    let path = file.path
    let meta = file.metadata
    if let problem = file.formatProblem(format: "detector", version: formatVersion, otherKinds: "bank or weights") {
      throw DensityError.invalidDetector(path: path, reason: problem)
    }
    guard let metricName = meta["metric"], let metric = PrototypeMetric(rawValue: metricName) else {
      throw DensityError.invalidDetector(path: path, reason: "unknown metric '\(meta["metric"] ?? "(missing)")'")
    }
    guard let ruleName = meta["method"], let rule = ColdStartRule(rawValue: ruleName) else {
      throw DensityError.invalidDetector(path: path, reason: "unknown method '\(meta["method"] ?? "(missing)")' (expected predictive or coldfusion)")
    }
    guard let kappaText = meta["kappa"], let kappa = Float(kappaText), kappa > 0, kappa.isFinite else {
      throw DensityError.invalidDetector(path: path, reason: "'kappa' must be a positive number, got '\(meta["kappa"] ?? "(missing)")'")
    }
    guard let trimText = meta["trim"], let trim = Double(trimText), trim > 0, trim <= 1 else {
      throw DensityError.invalidDetector(path: path, reason: "'trim' must be a number in (0, 1], got '\(meta["trim"] ?? "(missing)")'")
    }
    guard let classesText = meta["classes"], case .array(let items)? = try? JSONValue.parse(classesText) else {
      throw DensityError.invalidDetector(path: path, reason: "'classes' must be a JSON array of names")
    }
    let names = items.compactMap(\.stringValue)
    guard names.count == items.count, !names.isEmpty else {
      throw DensityError.invalidDetector(path: path, reason: "'classes' must be a non-empty JSON array of strings")
    }
    let original = try file.info("prototypes.original")
    guard original.shape.count == 2, original.shape[0] == names.count, original.shape[1] > 0 else {
      throw TensorFileError.unexpectedShape(path: path, tensor: original.name, expected: [names.count, original.shape.last ?? 0], actual: original.shape)
    }
    let d = original.shape[1]
    let prototypes = FeatureMatrix(rows: names.count, columns: d, values: try file.floats(original.name))
    let adapted = try file.floats("prototypes.adapted", shape: [names.count, d])
    var observations = FeatureMatrix(rows: 0, columns: d, values: [])
    if file.tensors["observations"] != nil {
      let info = try file.info("observations")
      guard info.shape.count == 2, info.shape[1] == d else {
        throw TensorFileError.unexpectedShape(path: path, tensor: info.name, expected: [info.shape.first ?? 0, d], actual: info.shape)
      }
      observations = FeatureMatrix(rows: info.shape[0], columns: d, values: try file.floats(info.name))
    }
    if let recorded = meta["observations"], Int(recorded) != observations.rows {
      throw DensityError.invalidDetector(path: path, reason: "metadata says \(recorded) observations, the file holds \(observations.rows)")
    }
    let provenance = meta.filter { !reservedKeys.contains($0.key) }
    do {
      guard
        let detector = try ColdStartDetector.restore(
          classNames: names, prototypes: prototypes, observations: observations, storedAdapted: adapted, metric: metric, trim: trim,
          rule: rule, kappa: kappa, metadata: provenance)
      else {
        throw DensityError.invalidDetector(
          path: path, reason: "its adapted prototypes do not follow from its observations (was the file edited?)")
      }
      return detector
    } catch let error as DensityError {
      if case .invalidDetector = error { throw error }
      throw DensityError.invalidDetector(path: path, reason: error.description)
    }
  }

  /// Keys this file format owns (the rest is the caller's provenance).
  static let reservedKeys: Set<String> = [
    "format", "format_version", "toolkit_version", "method", "kappa", "metric", "trim", "dimension", "classes", "observations", "threshold",
  ]
}
