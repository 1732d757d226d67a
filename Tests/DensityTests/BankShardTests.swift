import Density
import Testing

/// Sharded kNN banks: a bank split into shards, each searched on its own
/// and merged (`NeighbourList.merge`), gives the whole bank's scores bit
/// for bit; scorers that do not shard say why.
@Suite struct BankShardTests {
  struct Case: CustomTestStringConvertible, Sendable {
    let scorer: ScorerKind
    let k: Int
    let bankRows: Int
    let dimension: Int
    let queries: Int
    var testDescription: String { "\(scorer.rawValue) k=\(k) \(bankRows)×\(dimension), \(queries) queries" }
  }

  /// Shapes chosen to put the whole bank and its shards on different BLAS
  /// paths: a 4097-row bank leaves a 1-row last block (GEMV-like) in the
  /// whole search; a 1280-wide bank crosses OpenBLAS's K blocking; one
  /// query splits the bank over workers instead of the queries.
  static let cases = [
    Case(scorer: .knn, k: 1, bankRows: 4097, dimension: 48, queries: 300),
    Case(scorer: .cosineKNN, k: 2, bankRows: 4097, dimension: 48, queries: 1),
    Case(scorer: .knn, k: 2, bankRows: 301, dimension: 1280, queries: 40),
    Case(scorer: .cosineKNN, k: 5, bankRows: 997, dimension: 152, queries: 257),
  ]

  static func data(_ c: Case) -> (bank: FeatureMatrix, queries: FeatureMatrix) {
    var rng = SplitMix64(seed: UInt64(c.bankRows * 31 + c.dimension))
    return (SplitMixData.matrix(&rng, rows: c.bankRows, columns: c.dimension), SplitMixData.matrix(&rng, rows: c.queries, columns: c.dimension))
  }

  @Test(arguments: cases) func mergedShardsEqualTheWholeBankBitForBit(_ c: Case) throws {
    let (features, queries) = Self.data(c)
    let whole = try ReferenceBank(fitting: features, scorer: c.scorer, k: c.k)
    let expected = try whole.score(queries)
    let wholeNeighbours = try whole.neighbours(queries)
    #expect(wholeNeighbours.scores.map(\.bitPattern) == expected.map(\.bitPattern))
    for count in [2, 3] {
      let shards = try whole.split(into: count, parentSHA256: String(repeating: "a", count: 64))
      #expect(shards.map(\.count).reduce(0, +) == whole.count)
      let merged = try NeighbourList.merge(shards.reversed().map { try $0.neighbours(queries) })
      #expect(merged.scores.map(\.bitPattern) == expected.map(\.bitPattern), "\(count) shards")
      #expect(merged.rows == wholeNeighbours.rows, "\(count) shards: neighbour rows")
      for (i, shard) in shards.enumerated() {
        #expect(shard.shard == ShardIdentity(
          index: i, count: count, parentSHA256: String(repeating: "a", count: 64), rowOffset: Int64(whole.count * i / count),
          parentCount: whole.count))
      }
    }
  }

  @Test func reportedDistancesAreTheDirectOnes() throws {
    // The k winners' distances are recomputed from the two rows; they agree
    // with a float64 reference to float rounding, not just to the GEMM's
    // cancellation error.
    let c = Case(scorer: .knn, k: 3, bankRows: 500, dimension: 200, queries: 20)
    let (features, queries) = Self.data(c)
    let bank = try ReferenceBank(fitting: features, scorer: .knn, k: 3)
    let found = try bank.neighbours(queries)
    for q in 0..<queries.rows {
      for j in 0..<3 {
        let exact = exactSquaredDistance(queries, q, features, Int(found.rows[q * 3 + j]))
        #expect(isClose(Double(found.distances[q * 3 + j]), exact, relative: 1e-5), "query \(q) neighbour \(j)")
      }
    }
  }

  @Test func mergeBreaksTiesByTheSmallerRow() throws {
    let a = NeighbourList(k: 2, distances: [1, 3], rows: [10, 11])
    let b = NeighbourList(k: 2, distances: [1, 2], rows: [4, 5])
    let merged = try NeighbourList.merge([a, b])
    #expect(merged.rows == [4, 10])
    #expect(merged.distances == [1, 1])
    #expect(throws: DensityError.self) { try NeighbourList.merge([a, NeighbourList(k: 1, distances: [1], rows: [0])]) }
  }

  @Test func scorersThatDoNotShardSayWhy() throws {
    let (features, _) = Self.data(Case(scorer: .knn, k: 1, bankRows: 40, dimension: 8, queries: 1))
    for scorer in [ScorerKind.meanShifted, .angularCenter, .gaussian] {
      let bank = try ReferenceBank(fitting: features, scorer: scorer, k: 1)
      #expect(throws: DensityError.self) { try bank.split(into: 2, parentSHA256: String(repeating: "0", count: 64)) }
      #expect(throws: DensityError.self) { try bank.neighbours(features) }
      #expect(scorer.shardingRefusal?.isEmpty == false)
    }
    let knn = try ReferenceBank(fitting: features, scorer: .knn, k: 2)
    do {
      _ = try knn.split(into: 21, parentSHA256: String(repeating: "0", count: 64))
      Issue.record("21 shards of 40 rows with k = 2 were accepted")
    } catch let error as DensityError {
      #expect(error.description.contains("at most 20 shards"), "\(error)")
    }
    let shard = try knn.shard(0, of: 2, parentSHA256: String(repeating: "0", count: 64))
    #expect(throws: DensityError.self) { try shard.split(into: 2, parentSHA256: String(repeating: "0", count: 64)) }
  }

  @Test func shardMetadataRoundTripsThroughTheBankFile() throws {
    let folder = try DensityTemporaryFolder()
    let (features, queries) = Self.data(Case(scorer: .knn, k: 1, bankRows: 100, dimension: 16, queries: 9))
    let whole = try ReferenceBank(fitting: features, scorer: .cosineKNN, k: 2)
    let shard = try whole.shard(1, of: 3, parentSHA256: String(repeating: "b", count: 64))
    try BankFile.write(shard, to: folder.file("s.safetensors"), toolkitVersion: "test")
    let read = try BankFile.read(path: folder.file("s.safetensors"))
    #expect(read.shard == shard.shard)
    #expect(try read.neighbours(queries) == shard.neighbours(queries))
    // Malformed shard keys are refused at load, naming the file.
    var bad = shard
    bad.metadata["shard_index"] = "3"
    try BankFile.write(bad, to: folder.file("bad.safetensors"), toolkitVersion: "test")
    #expect(throws: DensityError.self) { try BankFile.read(path: folder.file("bad.safetensors")) }
  }
}
