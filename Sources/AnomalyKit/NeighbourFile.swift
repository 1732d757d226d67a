import Density
import Foundation
import TensorFiles

/// One shard's answer to a batch of queries, on disk: each query's k
/// nearest rows of the shard and their squared distances
/// (`anomalykit score --bank SHARD --neighbours-out NAME.npy`).
///
/// Three files, so that numpy reads the arrays with `np.load`:
/// - `NAME.npy`: float32 `[Q, k]`, the distances, ascending in each row;
/// - `NAME.rows.npy`: int64 `[Q, k]`, the global bank row of each
///   (`ShardIdentity.rowOffset` + the shard's row);
/// - `NAME.json`: which bank and shard answered, and for which inputs:
///   `format` (`anomalykit-neighbours`), `format_version`, `bank`,
///   `parent_sha256`, `shard_index`, `shard_count`, `scorer`, `k`,
///   `rows_per_input` (locations per image; 1 for image banks) and `inputs`.
///
/// Q = `inputs.count × rows_per_input`. A whole bank answers as shard 0 of
/// 1, its own parent.
public struct NeighbourFile: Sendable {
  /// The `format_version` this toolkit writes and reads.
  public static let formatVersion = 1

  /// The bank file that answered.
  public var bank: String
  /// Its place in the shard set.
  public var shard: ShardIdentity
  /// Its scorer (`knn` or `cosine-knn`).
  public var scorer: ScorerKind
  /// The inputs, in order (image paths, or `FILE#ROW` for feature rows).
  public var inputs: [String]
  /// Rows (locations) per input: 1 for image banks.
  public var rowsPerInput: Int
  /// The k nearest of each row.
  public var neighbours: NeighbourList

  /// A neighbour file's contents.
  public init(bank: String, shard: ShardIdentity, scorer: ScorerKind, inputs: [String], rowsPerInput: Int, neighbours: NeighbourList) {
    self.bank = bank
    self.shard = shard
    self.scorer = scorer
    self.inputs = inputs
    self.rowsPerInput = rowsPerInput
    self.neighbours = neighbours
  }

  /// Loads the bank (or shard) at `bank` with the bundled backbone (or
  /// `weights`) and answers `images`: each image's k nearest rows (each
  /// location's, for a patch bank). Write it with `write(to:)`.
  ///
  /// - Throws: the bank's loading errors; `DensityError.invalidArgument` for
  ///   a scorer that does not shard; `ImageError` naming an image that
  ///   cannot be read.
  public init(images: [URL], bank: URL, weights: URL? = nil) throws {
    try self.init(paths: images.map(\.path), bank: bank.path, detector: try ImageAnomalyDetector.load(from: bank, weights: weights), progress: nil)
  }

  /// `init(images:bank:weights:)` for a detector already loaded from `bank`.
  package init(paths: [String], bank: String, detector: ImageAnomalyDetector, progress: ((Int, Int) -> Void)?) throws {
    guard let pipeline = detector.pipeline else {
      throw AnomalyKitError.invalidInput("\(bank): bank was fitted on external features; answer features with ReferenceBank.neighbours")
    }
    self.init(
      bank: bank, shard: try Self.shardIdentity(of: detector.bank, path: bank), scorer: detector.bank.scorer,
      inputs: paths, rowsPerInput: pipeline.grid.height * pipeline.grid.width,
      neighbours: try detector.neighbours(paths: paths, progress: progress))
  }

  /// The companions of `path` (which ends in `.npy`): its row ids and its
  /// description.
  public static func companions(of path: String) -> (rows: String, description: String) {
    let stem = path.hasSuffix(".npy") ? String(path.dropLast(4)) : path
    return (stem + ".rows.npy", stem + ".json")
  }

  /// The identity of the shard set of `bank`, loaded from `path`: its own
  /// `ShardIdentity`, or, for a whole bank, shard 0 of 1 with the file's
  /// SHA-256 as parent (the file is read only then).
  public static func shardIdentity(of bank: ReferenceBank, path: String) throws -> ShardIdentity {
    if let shard = bank.shard { return shard }
    return ShardIdentity(index: 0, count: 1, parentSHA256: try SafeTensorsFile(path: path).sha256(), rowOffset: 0, parentCount: bank.count)
  }

  /// Writes the three files (each atomically; the description last, so a
  /// reader that finds it finds the arrays complete).
  ///
  /// - Throws: `AnomalyKitError.invalidInput` unless `path` ends in `.npy`;
  ///   the file system's errors.
  public func write(to path: String) throws {
    guard path.hasSuffix(".npy") else { throw AnomalyKitError.invalidInput("\(path): --neighbours-out must end in .npy") }
    let (rowsPath, descriptionPath) = Self.companions(of: path)
    let q = neighbours.queries
    try NPYFile.write(rows: q, columns: neighbours.k, values: neighbours.distances, to: path)
    try NPYFile.write(rows: q, columns: neighbours.k, int64: neighbours.rows, to: rowsPath)
    let doc = JSONValue.object([
      ("format", .string("anomalykit-neighbours")), ("format_version", .number(Double(Self.formatVersion))),
      ("bank", .string(bank)), ("parent_sha256", .string(shard.parentSHA256)), ("shard_index", .number(Double(shard.index))),
      ("shard_count", .number(Double(shard.count))), ("shard_row_offset", .number(Double(shard.rowOffset))),
      ("scorer", .string(scorer.rawValue)), ("k", .number(Double(neighbours.k))),
      ("rows_per_input", .number(Double(rowsPerInput))), ("inputs", .array(inputs.map { .string($0) })),
    ])
    try AtomicFile.write(Array((doc.serialized + "\n").utf8), to: descriptionPath)
  }

  /// Reads the three files written by `write(to:)`.
  ///
  /// - Throws: `AnomalyKitError.invalidInput` naming the file that is
  ///   missing, malformed or inconsistent with the others.
  public static func read(path: String) throws -> NeighbourFile {
    let (rowsPath, descriptionPath) = companions(of: path)
    func fail(_ file: String, _ reason: String) -> AnomalyKitError { .invalidInput("\(file): \(reason)") }
    guard let data = FileManager.default.contents(atPath: descriptionPath) else {
      throw fail(descriptionPath, "cannot read the description of neighbour file \(path) (written beside it by score --neighbours-out)")
    }
    let doc: JSONValue
    do { doc = try JSONValue.parse(data) } catch { throw fail(descriptionPath, "not JSON: \(error)") }
    guard doc["format"]?.stringValue == "anomalykit-neighbours" else { throw fail(descriptionPath, "not a neighbour-file description ('format' is not anomalykit-neighbours)") }
    guard doc["format_version"]?.nonNegativeInteger == formatVersion else {
      throw fail(descriptionPath, "format_version must be \(formatVersion); rewrite it with this toolkit's score --neighbours-out")
    }
    guard let bank = doc["bank"]?.stringValue, let parent = doc["parent_sha256"]?.stringValue,
      let index = doc["shard_index"]?.nonNegativeInteger, let count = doc["shard_count"]?.nonNegativeInteger, index < count,
      let offset = doc["shard_row_offset"]?.nonNegativeInteger, let scorer = doc["scorer"]?.stringValue.flatMap(ScorerKind.init),
      let k = doc["k"]?.nonNegativeInteger, k >= 1, let perInput = doc["rows_per_input"]?.nonNegativeInteger, perInput >= 1,
      case .array(let items)? = doc["inputs"]
    else { throw fail(descriptionPath, "missing or malformed keys (bank, parent_sha256, shard_index < shard_count, scorer, k, rows_per_input, inputs)") }
    let inputs = try items.map { item -> String in
      guard let s = item.stringValue else { throw fail(descriptionPath, "'inputs' must be strings") }
      return s
    }
    let distances = try NPYFile.read(path: path)
    let rows = try NPYFile.readInt64(path: rowsPath)
    let q = inputs.count * perInput
    guard distances.rows == q, distances.columns == k, distances.values.count == q * k else {
      throw fail(path, "distances are \(distances.rows)×\(distances.columns), the description says \(q) queries × k = \(k)")
    }
    guard rows.rows == q, rows.columns == k else {
      throw fail(rowsPath, "row ids are \(rows.rows)×\(rows.columns), the description says \(q) queries × k = \(k)")
    }
    guard distances.values.allSatisfy({ $0 >= 0 }) else { throw fail(path, "distances must be non-negative (not NaN)") }
    return NeighbourFile(
      bank: bank, shard: ShardIdentity(index: index, count: count, parentSHA256: parent, rowOffset: Int64(offset)), scorer: scorer,
      inputs: inputs, rowsPerInput: perInput, neighbours: NeighbourList(k: k, distances: distances.values, rows: rows.values))
  }
}
