import Density
import Foundation
import TensorFiles

/// A chunk's features, extracted once and answered by every shard
/// (`score --bank B --features-out F`, then `score --bank SHARD
/// --from-features F --neighbours-out N`).
///
/// Without it, each shard's run extracts the same images' features again:
/// S shards cost S extractions. The file is a feature file
/// (`format = features`, Weights/FORMAT.md) holding `features` F32
/// `[inputs × rows_per_input, D]` (one row per location for patch banks),
/// `paths`, `rows_per_input`, and the bank recipe's provenance (backbone,
/// weights, layer, input size, resize, patch settings), which must match the
/// bank that answers: features from another recipe are refused.
public struct ShardFeatures: Sendable {
  /// The inputs, in order.
  public var inputs: [String]
  /// Rows (locations) per input: 1 for image banks.
  public var rowsPerInput: Int
  /// The recipe and backbone the features were extracted with.
  public var provenance: [String: String]
  /// `inputs.count × rowsPerInput` rows.
  public var features: FeatureMatrix

  /// Loads the bank (or any shard of it) at `bank` with the bundled
  /// backbone (or `weights`) and extracts `images`' features the way the
  /// bank was fitted.
  ///
  /// - Throws: the bank's loading errors; `ImageError` naming an image that
  ///   cannot be read.
  public init(images: [URL], bank: URL, weights: URL? = nil) throws {
    try self.init(paths: images.map(\.path), detector: try ImageAnomalyDetector.load(from: bank, weights: weights), progress: nil)
  }

  /// Extracts `paths`' features the way `detector`'s bank was fitted.
  ///
  /// - Throws: `AnomalyKitError.invalidInput` for a bank fitted on external
  ///   features; `ImageError` naming an image that cannot be read.
  package init(paths: [String], detector: ImageAnomalyDetector, progress: ((Int, Int) -> Void)?) throws {
    guard let pipeline = detector.pipeline else {
      throw AnomalyKitError.invalidInput("this bank was fitted on external features: its queries are already features")
    }
    inputs = paths
    rowsPerInput = pipeline.grid.height * pipeline.grid.width
    provenance = pipeline.provenance
    features = try pipeline.features(paths, progress: progress)
  }

  /// Writes the feature file atomically.
  public func write(to path: String) throws {
    var meta = provenance
    meta["format"] = "features"
    meta["format_version"] = "1"
    meta["toolkit_version"] = ToolkitVersion.current
    meta["paths"] = JSONValue.array(inputs.map { .string($0) }).serialized
    meta["rows_per_input"] = String(rowsPerInput)
    var writer = SafeTensorsWriter(metadata: meta)
    try writer.add("features", floats: features.values, shape: [features.rows, features.columns])
    try writer.write(to: path)
  }

  /// Reads a file written by `write(to:)`.
  ///
  /// - Throws: `AnomalyKitError.invalidInput` naming `path` when it is not
  ///   such a file or its rows do not match its inputs.
  public static func read(path: String) throws -> ShardFeatures {
    func fail(_ reason: String) -> AnomalyKitError { .invalidInput("\(path): \(reason)") }
    let file = try SafeTensorsFile(path: path)
    if let problem = file.formatProblem(format: "features", version: "1", otherKinds: "bank, weights or detector") { throw fail(problem) }
    guard let perInput = Int(file.metadata["rows_per_input"] ?? ""), perInput >= 1 else {
      throw fail("no 'rows_per_input': write it with score --bank B --features-out (embed's files hold no recipe)")
    }
    guard case .array(let items)? = try? JSONValue.parse(file.metadata["paths"] ?? ""), !items.isEmpty else {
      throw fail("metadata 'paths' must be a non-empty JSON array")
    }
    let inputs = try items.map { item -> String in
      guard let s = item.stringValue else { throw fail("'paths' must be strings") }
      return s
    }
    let info = try file.info("features")
    guard info.dtype == .f32, info.shape.count == 2, info.shape[0] == inputs.count * perInput, info.shape[1] > 0 else {
      throw fail("'features' must be F32 [\(inputs.count * perInput), D] for \(inputs.count) inputs × \(perInput) rows, found \(info.dtype.rawValue) \(info.shape)")
    }
    let matrix = FeatureMatrix(rows: info.shape[0], columns: info.shape[1], values: try file.floats("features"))
    if let bad = matrix.firstNonFinite { throw DensityError.nonFinite(source: path, row: bad / matrix.columns, column: bad % matrix.columns) }
    let skip: Set = ["format", "format_version", "toolkit_version", "paths", "rows_per_input"]
    return ShardFeatures(inputs: inputs, rowsPerInput: perInput, provenance: file.metadata.filter { !skip.contains($0.key) }, features: matrix)
  }

  init(inputs: [String], rowsPerInput: Int, provenance: [String: String], features: FeatureMatrix) {
    self.inputs = inputs
    self.rowsPerInput = rowsPerInput
    self.provenance = provenance
    self.features = features
  }

  /// The answer of the bank at `bankPath` (`bank`, loaded from it).
  ///
  /// - Throws: `AnomalyKitError.mismatch` naming both files when the
  ///   features were extracted with another recipe or backbone than the bank's;
  ///   `DensityError.invalidArgument` for a scorer that does not shard.
  public func answer(bank: ReferenceBank, bankPath: String, featuresPath: String = "the feature file") throws -> NeighbourFile {
    do {
      try BankFile.checkCompatible(bank, path: bankPath, expected: provenance, dimension: features.columns)
    } catch DensityError.incompatibleBank(_, let key, let have, let want) {
      throw AnomalyKitError.mismatch(
        "\(featuresPath) was extracted with \(key) '\(want)', but the bank \(bankPath) has '\(have)': write the features with "
          + "score --bank (one of this bank's shards) --features-out")
    }
    return NeighbourFile(
      bank: bankPath, shard: try NeighbourFile.shardIdentity(of: bank, path: bankPath), scorer: bank.scorer,
      inputs: inputs, rowsPerInput: rowsPerInput, neighbours: try bank.neighbours(features, source: bankPath))
  }
}
