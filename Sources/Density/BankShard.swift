/// Which slice of a larger bank a bank file holds.
///
/// A shard is an ordinary bank file: it loads, scores and reports like any
/// other. These metadata keys tie it to its siblings:
///
/// | key | value |
/// |---|---|
/// | `shard_index` | i, 0-based |
/// | `shard_count` | N |
/// | `parent_sha256` | SHA-256 of the parent bank file (`anomalykit shard`), or of the whole fit's inputs and settings (`fit --shard`) |
/// | `shard_row_offset` | the parent row of this shard's row 0 |
/// | `parent_count` | the parent's rows (`anomalykit shard` only: a sharded fit never sees the whole) |
///
/// **Why a kNN bank shards exactly.** The score `s(x) = Σ_{j≤k} d_(j)(x)`
/// needs only the k smallest distances from x to the bank. The k smallest
/// over a union of shards are the k smallest of the union of each shard's
/// k smallest, so merging per-shard neighbour lists (`NeighbourList.merge`)
/// gives the single bank's neighbours; with distances computed from the two
/// rows alone (`NearestNeighbors`), the merged score is the same bits.
public struct ShardIdentity: Sendable, Equatable {
  /// This shard's position, 0 ≤ index < count.
  public let index: Int
  /// Shards in the set.
  public let count: Int
  /// SHA-256 (hex) that every shard of the set shares.
  public let parentSHA256: String
  /// The parent row of this shard's first row: global row ids are
  /// `rowOffset + local row`.
  public let rowOffset: Int64
  /// Rows of the whole parent bank, when known.
  public let parentCount: Int?

  /// Row offset of shard `index` of a sharded fit, whose siblings' sizes
  /// are unknown when it is fitted: `index × 2⁴⁰` keeps ids unique for
  /// shards of up to 10¹² rows and ordered by shard.
  public static func fitRowOffset(index: Int) -> Int64 { Int64(index) << 40 }

  /// A shard identity; `index` must lie in `0..<count`.
  public init(index: Int, count: Int, parentSHA256: String, rowOffset: Int64, parentCount: Int? = nil) {
    self.index = index
    self.count = count
    self.parentSHA256 = parentSHA256
    self.rowOffset = rowOffset
    self.parentCount = parentCount
  }

  /// The identity recorded in a bank's metadata; nil for an unsharded bank.
  ///
  /// - Throws: `DensityError.invalidBank` naming `path` when the keys are
  ///   partial or malformed.
  public init?(metadata: [String: String], path: String) throws {
    guard metadata["shard_index"] != nil || metadata["shard_count"] != nil else { return nil }
    func fail(_ reason: String) -> DensityError { .invalidBank(path: path, reason: reason) }
    guard let i = Int(metadata["shard_index"] ?? ""), let n = Int(metadata["shard_count"] ?? ""), n >= 1, (0..<n).contains(i) else {
      throw fail("shard metadata 'shard_index' '\(metadata["shard_index"] ?? "")' and 'shard_count' '\(metadata["shard_count"] ?? "")' must satisfy 0 ≤ index < count")
    }
    guard let parent = metadata["parent_sha256"], parent.count == 64, parent.allSatisfy(\.isHexDigit) else {
      throw fail("shard metadata 'parent_sha256' must be 64 hex digits")
    }
    guard let offset = Int64(metadata["shard_row_offset"] ?? ""), offset >= 0 else {
      throw fail("shard metadata 'shard_row_offset' must be a non-negative integer")
    }
    self.init(index: i, count: n, parentSHA256: parent, rowOffset: offset, parentCount: metadata["parent_count"].flatMap { Int($0) })
  }

  /// The metadata keys above.
  public var metadata: [String: String] {
    var m = [
      "shard_index": String(index), "shard_count": String(count), "parent_sha256": parentSHA256,
      "shard_row_offset": String(rowOffset),
    ]
    if let parentCount { m["parent_count"] = String(parentCount) }
    return m
  }
}

extension ScorerKind {
  /// Why a bank with this scorer cannot be sharded, or nil when it shards
  /// exactly (`knn`, `cosine-knn`).
  public var shardingRefusal: String? {
    switch self {
    case .knn, .cosineKNN: return nil
    case .meanShifted:
      return "a mean-shifted bank cannot be sharded: ψ(x) subtracts the centre of the whole bank, so every shard would need "
        + "every other's rows; use cosine-knn (the stronger frozen-feature scorer) for a sharded bank"
    case .angularCenter:
      return "an angular-center bank needs no shards: it is one D-vector (the mean direction) whatever the bank's size; "
        + "fitting it from shards is a sum of per-shard Σ φ̂(x) and counts. Score it whole on every worker (score_many)"
    case .gaussian:
      return "a gaussian bank needs no shards: it is a mean and a D×D Cholesky factor whatever the bank's size "
        + "(its sufficient statistics n, Σx and Σxxᵀ are sums over shards, but the Ledoit–Wolf shrinkage also needs fourth "
        + "moments). Score it whole on every worker (score_many)"
    }
  }
}

extension ReferenceBank {
  /// This bank's place in a sharded set; nil for a whole bank.
  /// (`BankFile.read` refuses malformed shard keys, naming the file.)
  public var shard: ShardIdentity? {
    (try? ShardIdentity(metadata: metadata, path: "bank")) ?? nil
  }

  /// Splits the bank into `count` contiguous shards of ⌊N/count⌋ or
  /// ⌈N/count⌉ rows (`shard(_:of:parentSHA256:)` for each).
  public func split(into count: Int, parentSHA256: String) throws -> [ReferenceBank] {
    try (0..<max(count, 1)).map { try shard($0, of: count, parentSHA256: parentSHA256) }
  }

  /// Throws unless this bank can be split into `count` shards: its scorer
  /// shards (`ScorerKind.shardingRefusal`), it is not a shard already, and
  /// 1 ≤ count ≤ N / k, so that each shard holds k rows.
  ///
  /// - Throws: `DensityError.invalidArgument` saying which and why.
  public func checkSplit(into count: Int) throws {
    if let refusal = scorer.shardingRefusal { throw DensityError.invalidArgument(refusal) }
    guard metadata["shard_count"] == nil else {
      throw DensityError.invalidArgument("this bank is already a shard; split its parent bank instead")
    }
    guard count >= 1 else { throw DensityError.invalidArgument("--shards must be at least 1, got \(count)") }
    guard count <= self.count / k else {
      throw DensityError.invalidArgument(
        "--shards \(count) is too many for a bank of \(self.count) rows with k = \(k): each shard must hold at least k rows, "
          + "so use at most \(self.count / k) shards")
    }
  }

  /// Shard `index` of `count`: rows ⌊N·i/count⌋ ..< ⌊N·(i+1)/count⌋, as a
  /// bank with this bank's scorer, k, transform, threshold and metadata
  /// plus its `ShardIdentity`. Only that shard's rows are copied, so a
  /// memory-mapped bank splits one shard at a time.
  ///
  /// The shard holds this bank's base-space rows unchanged (no
  /// renormalising), so the shards' neighbour lists merge to exactly this
  /// bank's.
  ///
  /// - Parameters:
  ///   - index: 0 ≤ index < count.
  ///   - count: shards, 1 ≤ count ≤ N / k (each shard must hold k rows).
  ///   - parentSHA256: the SHA-256 of this bank's file.
  /// - Throws: `DensityError.invalidArgument` for a scorer that does not
  ///   shard (`ScorerKind.shardingRefusal`), an already sharded bank, or a
  ///   count or index out of range.
  public func shard(_ index: Int, of count: Int, parentSHA256: String) throws -> ReferenceBank {
    try checkSplit(into: count)
    guard (0..<count).contains(index) else { throw DensityError.invalidArgument("shard \(index) of \(count): need 0 ≤ index < count") }
    let lo = self.count * index / count
    let hi = self.count * (index + 1) / count
    var meta = metadata
    let identity = ShardIdentity(index: index, count: count, parentSHA256: parentSHA256, rowOffset: Int64(lo), parentCount: self.count)
    for (key, value) in identity.metadata { meta[key] = value }
    return try ReferenceBank(
      scorer: scorer, k: k, transform: transform, store: store.slice(lo..<hi), threshold: threshold, metadata: meta)
  }

  /// Each query's k nearest bank rows and their squared distances, in the
  /// space the bank scores in: what a shard contributes to a merged score.
  ///
  /// Row ids are global: the shard's `shard_row_offset` plus the local row
  /// (a whole bank's rows are 0…N−1). `NeighbourList.scores` of the result
  /// equals `score(_:)` bit for bit.
  ///
  /// - Throws: `DensityError.invalidArgument` for a scorer whose score is not
  ///   a sum over neighbours of the bank as stored (`ScorerKind.shardingRefusal`);
  ///   the errors of `validate(_:source:)`.
  public func neighbours(_ raw: FeatureMatrix, source: String = "queries") throws -> NeighbourList {
    if let refusal = scorer.shardingRefusal { throw DensityError.invalidArgument(refusal) }
    try validate(raw, source: source)
    let kk = min(k, count)
    if raw.rows == 0 { return NeighbourList(k: kk, distances: [], rows: []) }
    var queries = transform.apply(raw)
    if scorer == .cosineKNN { queries.normalizeRows() }
    let offset = shard?.rowOffset ?? 0
    let found = nearest(queries.values, rows: queries.rows, bank: nil)
    return NeighbourList(k: kk, distances: found.distances, rows: found.indices.map { offset + Int64($0) })
  }
}

/// Each query's k nearest bank rows, nearest first: `distances` and `rows`
/// are `queries × k`, row-major.
public struct NeighbourList: Sendable, Equatable {
  /// Neighbours per query.
  public let k: Int
  /// Squared distances, ascending within each query.
  public var distances: [Float]
  /// Global bank row ids, parallel to `distances`.
  public var rows: [Int64]

  /// A list of `distances.count / k` queries.
  public init(k: Int, distances: [Float], rows: [Int64]) {
    precondition(k >= 1 && distances.count == rows.count && distances.count % k == 0, "queries × k distances and rows")
    self.k = k
    self.distances = distances
    self.rows = rows
  }

  /// Queries in the list.
  public var queries: Int { distances.count / k }

  /// The kNN score of each query, `Σ_{j<k} d_j` summed nearest first (the
  /// order `ReferenceBank.score` sums in).
  public var scores: [Float] {
    (0..<queries).map { ReferenceBank.sumOfNearest(distances, query: $0, k: k) }
  }

  /// The k nearest over the union of shards: for each query, the k smallest
  /// (distance, row) pairs of all the lists, ties broken by the smaller row
  /// (as a whole bank's search breaks them).
  ///
  /// - Throws: `DensityError.invalidArgument` when the lists disagree on k
  ///   or on the number of queries, or when there are none.
  public static func merge(_ lists: [NeighbourList]) throws -> NeighbourList {
    guard let first = lists.first else { throw DensityError.invalidArgument("no neighbour lists to merge") }
    for l in lists where l.k != first.k || l.queries != first.queries {
      throw DensityError.invalidArgument(
        "neighbour lists disagree: \(first.queries) queries × k = \(first.k) against \(l.queries) × k = \(l.k)")
    }
    let k = first.k
    var distances = [Float](repeating: 0, count: first.distances.count)
    var rows = [Int64](repeating: 0, count: first.rows.count)
    var candidates: [(Float, Int64)] = []
    for q in 0..<first.queries {
      candidates.removeAll(keepingCapacity: true)
      for l in lists {
        for j in 0..<k where l.rows[q * k + j] >= 0 { candidates.append((l.distances[q * k + j], l.rows[q * k + j])) }
      }
      candidates.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
      for j in 0..<k {
        let (d, r) = j < candidates.count ? candidates[j] : (.infinity, -1)
        distances[q * k + j] = d
        rows[q * k + j] = r
      }
    }
    return NeighbourList(k: k, distances: distances, rows: rows)
  }
}
