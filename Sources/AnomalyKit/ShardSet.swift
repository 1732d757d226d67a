import Density
import Foundation
import TensorFiles

/// A bank split over several files, and what merging their answers needs:
/// the scorer and k, the patch pooling and the threshold.
///
/// On disk it is a manifest, `manifest.json`, written by `anomalykit shard`
/// (from a whole bank) or by `anomalykit merge-scores --calibrate-fpr`
/// (after a sharded fit): `format` (`anomalykit-shards`), `format_version`,
/// `parent_sha256`, `shard_count`, `shards` (the shard files, relative to
/// the manifest's folder when inside it) and `metadata` (the bank's
/// metadata, threshold included, without the per-shard keys).
///
/// A single bank file stands in for a manifest too (`init(bankMeta:)`): a
/// shard brings its set's parent and settings, a whole bank is a set of one.
///
/// Scores merged from every shard's `NeighbourFile` equal the whole bank's
/// scores bit for bit (see `ShardIdentity`).
public struct ShardSet: Sendable {
  /// The `format_version` this toolkit writes and reads.
  public static let formatVersion = 1

  /// SHA-256 shared by every shard of the set.
  public var parentSHA256: String
  /// Shards in the set.
  public var count: Int
  /// The shard files, in index order, as absolute or working-folder paths
  /// (empty when the set was read from a single shard).
  public var shards: [String]
  /// The bank's metadata without the per-shard keys: scorer, k, recipe,
  /// threshold and its calibration.
  public var metadata: [String: String]
  /// Read from a whole bank: it stands for any split of itself, so merging
  /// takes the shard count from the files.
  var isWholeBank = false

  /// A set with these parts.
  public init(parentSHA256: String, count: Int, shards: [String], metadata: [String: String]) {
    self.parentSHA256 = parentSHA256
    self.count = count
    self.shards = shards
    self.metadata = metadata.filter { !Self.perShardKeys.contains($0.key) }
  }

  static let perShardKeys: Set = ["shard_index", "shard_count", "shard_row_offset", "parent_sha256", "count"]

  /// The decision threshold, if the set has one.
  public var threshold: Float? { metadata["threshold"].flatMap { Float($0) }.flatMap { $0.isFinite ? $0 : nil } }

  /// How per-location scores pool into an image score (patch banks), or nil.
  public var pooling: PatchPooling? {
    guard metadata["patches"] == "true" else { return nil }
    return metadata["patch_pooling"].flatMap(PatchPooling.init) ?? .max
  }

  /// Reads a manifest (`.json`) or a bank file (`.safetensors`; only its
  /// header is read).
  ///
  /// - Throws: `AnomalyKitError.invalidInput` naming `path` when it is
  ///   neither, or is malformed.
  public init(bankMeta path: String) throws {
    func fail(_ reason: String) -> AnomalyKitError { .invalidInput("\(path): \(reason)") }
    if path.hasSuffix(".json") {
      guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read the shard manifest") }
      let doc: JSONValue
      do { doc = try JSONValue.parse(data) } catch { throw fail("not JSON: \(error)") }
      guard doc["format"]?.stringValue == "anomalykit-shards" else { throw fail("not a shard manifest ('format' is not anomalykit-shards)") }
      guard doc["format_version"]?.nonNegativeInteger == Self.formatVersion else { throw fail("format_version must be \(Self.formatVersion)") }
      guard let parent = doc["parent_sha256"]?.stringValue, let n = doc["shard_count"]?.nonNegativeInteger, n >= 1,
        case .array(let items)? = doc["shards"], case .object(let members)? = doc["metadata"]
      else { throw fail("missing or malformed keys (parent_sha256, shard_count, shards, metadata)") }
      let folder = (path as NSString).deletingLastPathComponent
      let shards = try items.map { item -> String in
        guard let s = item.stringValue else { throw fail("'shards' must be file names") }
        return s.hasPrefix("/") || folder.isEmpty ? s : folder + "/" + s
      }
      guard shards.count == n else { throw fail("lists \(shards.count) shard files for shard_count \(n)") }
      var metadata: [String: String] = [:]
      for (key, value) in members {
        guard let s = value.stringValue else { throw fail("metadata '\(key)' must be a string") }
        metadata[key] = s
      }
      self.init(parentSHA256: parent, count: n, shards: shards, metadata: metadata)
    } else {
      let file = try SafeTensorsFile(path: path)
      if let problem = file.formatProblem(format: "bank", version: BankFile.formatVersion, otherKinds: "weights or detector") {
        throw fail(problem)
      }
      if let shard = try ShardIdentity(metadata: file.metadata, path: path) {
        self.init(parentSHA256: shard.parentSHA256, count: shard.count, shards: [], metadata: file.metadata)
      } else {
        self.init(parentSHA256: file.sha256(), count: 1, shards: [path], metadata: file.metadata)
        isWholeBank = true
      }
    }
  }

  /// Splits the bank at `bank` into `count` shard files in `folder`
  /// (`STEM.shard-I-of-N.safetensors`, contiguous row ranges:
  /// `ReferenceBank.shard(_:of:parentSHA256:)`) and writes
  /// `folder/manifest.json`. The bank stays memory-mapped; one shard at a
  /// time is held in memory. On failure no shard file is left behind.
  ///
  /// - Returns: the written set (its `shards` are the files' paths).
  /// - Throws: `AnomalyKitError.invalidInput` naming the bank for a scorer
  ///   that does not shard, a bank that is already a shard, or too many
  ///   shards (each must hold k rows); the file system's errors.
  @discardableResult
  public static func split(bank: URL, into count: Int, folder: URL) throws -> ShardSet {
    let path = bank.path
    let file = try SafeTensorsFile(path: path)
    let parent = try BankFile.read(file)
    do {
      try parent.checkSplit(into: count)
    } catch let error as DensityError {
      throw AnomalyKitError.invalidInput("\(path): \(error)")
    }
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let stem = bank.deletingPathExtension().lastPathComponent
    let parentSHA256 = file.sha256()
    var written: [String] = []
    do {
      for i in 0..<count {
        let out = folder.appendingPathComponent("\(stem).shard-\(i)-of-\(count).safetensors").path
        try BankFile.write(try parent.shard(i, of: count, parentSHA256: parentSHA256), to: out, toolkitVersion: ToolkitVersion.current)
        written.append(out)
      }
      let set = ShardSet(parentSHA256: parentSHA256, count: count, shards: written, metadata: parent.metadata)
      try set.write(to: folder.appendingPathComponent("manifest.json").path)
      return set
    } catch {
      for out in written { try? FileManager.default.removeItem(atPath: out) }
      throw error
    }
  }

  /// Writes the manifest atomically; shard paths inside the manifest's
  /// folder are written relative to it, so the folder can move.
  public func write(to path: String) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path
    let names = shards.map { shard -> String in
      let full = URL(fileURLWithPath: shard).standardizedFileURL.path
      return full.hasPrefix(folder + "/") ? String(full.dropFirst(folder.count + 1)) : full
    }
    let doc = JSONValue.object([
      ("format", .string("anomalykit-shards")), ("format_version", .number(Double(Self.formatVersion))),
      ("parent_sha256", .string(parentSHA256)), ("shard_count", .number(Double(count))),
      ("shards", .array(names.map { .string($0) })),
      ("metadata", .object(metadata.keys.sorted().map { ($0, .string(metadata[$0] ?? "")) })),
    ])
    try AtomicFile.write(Array((doc.serialized + "\n").utf8), to: path)
  }

  /// Merges one neighbour file per shard into the whole bank's scores.
  ///
  /// - Parameters:
  ///   - files: the neighbour files, any order, one per shard.
  ///   - paths: their paths, for messages (parallel to `files`).
  /// - Returns: one score per input, in input order, with a verdict when
  ///   the set has a threshold.
  /// - Throws: `AnomalyKitError.mismatch` naming the files when they come
  ///   from another set, repeat or miss a shard, or answered different
  ///   queries.
  public func merge(_ files: [NeighbourFile], paths: [String]) throws -> [ImageScore] {
    precondition(files.count == paths.count, "one path per file")
    guard let first = files.first else { throw AnomalyKitError.invalidInput("no neighbour files to merge") }
    let count = isWholeBank ? first.shard.count : self.count
    var byIndex: [Int: String] = [:]
    for (file, path) in zip(files, paths) {
      guard file.shard.parentSHA256 == parentSHA256 else {
        throw AnomalyKitError.mismatch(
          "\(path): answered by a shard of bank \(file.shard.parentSHA256.prefix(12))…, but the bank metadata is for "
            + "\(parentSHA256.prefix(12))…; merge neighbour files of one bank's shards, with that bank's manifest")
      }
      guard file.shard.count == count else {
        throw AnomalyKitError.mismatch("\(path): from a set of \(file.shard.count) shards, \(paths[0]) and the bank metadata say \(count)")
      }
      if let other = byIndex[file.shard.index] {
        throw AnomalyKitError.mismatch("\(other) and \(path) both answer shard \(file.shard.index) of \(count); give each shard once")
      }
      byIndex[file.shard.index] = path
      guard file.inputs == first.inputs, file.rowsPerInput == first.rowsPerInput, file.neighbours.k == first.neighbours.k,
        file.scorer == first.scorer
      else {
        throw AnomalyKitError.mismatch(
          "\(paths[0]) and \(path) answered different queries (inputs, locations per input, k or scorer differ); "
            + "score the same inputs against every shard")
      }
    }
    let missing = (0..<count).filter { byIndex[$0] == nil }
    guard missing.isEmpty else {
      throw AnomalyKitError.mismatch(
        "missing shard(s) \(missing.map(String.init).joined(separator: ", ")) of \(count): the merged score needs every shard's "
          + "neighbours (given: \(paths.joined(separator: ", ")))")
    }
    let merged = try NeighbourList.merge(files.map(\.neighbours))
    let scores = ImageBankPipeline.imageScores(merged.scores, images: first.inputs.count, pooling: first.rowsPerInput > 1 ? pooling ?? .max : nil)
    let t = threshold
    return zip(first.inputs, scores).map { path, score in
      ImageScore(path: path, score: score, anomalous: t.map { score > $0 }, map: nil, gridHeight: 1, gridWidth: 1)
    }
  }

  /// This set with its threshold set to the (1 − fpr) quantile of
  /// `scores`, merged scores of normal images that no shard was fitted on.
  ///
  /// A sharded fit cannot cross-fit as `fit` does (no shard sees the whole
  /// bank), so it holds out normal images instead; the threshold is then on
  /// the merged bank's scale, as a whole bank's is.
  ///
  /// - Throws: `DensityError.cannotCalibrate` for no scores or an fpr
  ///   outside (0, 1).
  public func calibrated(scores: [Float], fpr: Double) throws -> ShardSet {
    guard fpr > 0, fpr < 1 else { throw DensityError.cannotCalibrate(reason: "--calibrate-fpr must be in (0, 1), got \(fpr)") }
    guard let t = Metrics.quantile(scores, 1 - fpr) else {
      throw DensityError.cannotCalibrate(reason: "no held-out normal scores to calibrate on")
    }
    var set = self
    for key in set.metadata.keys where key.hasPrefix("threshold") { set.metadata.removeValue(forKey: key) }
    set.metadata["threshold"] = "\(t)"
    set.metadata["threshold_method"] = "held-out quantile"
    set.metadata["threshold_fpr"] = "\(fpr)"
    set.metadata["threshold_scores"] = String(scores.count)
    return set
  }
}
