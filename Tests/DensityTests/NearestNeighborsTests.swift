import Density
import TensorFiles
import Testing

/// `NearestNeighbors` against a float64 numpy brute force on the same
/// SplitMix64-generated data (see `SplitMixData`).
@Suite struct NearestNeighborsTests {
  struct Config: CustomTestStringConvertible, Sendable {
    let queries: Int
    let workers: Int
    let queryBlock: Int
    let bankBlock: Int
    var testDescription: String { "\(queries) queries, \(workers) workers, blocks \(queryBlock)×\(bankBlock)" }
    var search: NearestNeighbors { NearestNeighbors(queryBlock: queryBlock, bankBlock: bankBlock, workers: workers) }
    /// The code path `search` takes (as in NearestNeighbors.search).
    var splitsQueries: Bool { queries >= workers * min(queryBlock, 64) }
  }

  static let configs: [Config] = [
    // many queries: workers split the queries
    Config(queries: 300, workers: 1, queryBlock: 7, bankBlock: 13),
    Config(queries: 300, workers: 2, queryBlock: 7, bankBlock: 13),
    Config(queries: 300, workers: 2, queryBlock: 256, bankBlock: 2048),
    Config(queries: 300, workers: 3, queryBlock: 64, bankBlock: 1000),
    Config(queries: 14, workers: 2, queryBlock: 7, bankBlock: 13),
    // few queries: workers split the bank, then merge
    Config(queries: 1, workers: 1, queryBlock: 7, bankBlock: 13),
    Config(queries: 1, workers: 2, queryBlock: 7, bankBlock: 13),
    Config(queries: 5, workers: 2, queryBlock: 7, bankBlock: 13),
    Config(queries: 13, workers: 2, queryBlock: 7, bankBlock: 13),
    Config(queries: 5, workers: 2, queryBlock: 256, bankBlock: 2048),
    Config(queries: 3, workers: 7, queryBlock: 2, bankBlock: 999),
  ]

  static func run(_ config: Config, k: Int) -> (distances: [Float], indices: [Int32]) {
    let (bank, queries) = SplitMixData.bankAndQueries
    let norms = bank.values.withUnsafeBufferPointer {
      NearestNeighbors.squaredNorms($0.baseAddress!, rows: bank.rows, columns: bank.columns)
    }
    return bank.values.withUnsafeBufferPointer { b in
      norms.withUnsafeBufferPointer { n in
        queries.values.withUnsafeBufferPointer { q in
          config.search.search(
            queries: q.baseAddress!, queryRows: config.queries, bank: b.baseAddress!, bankRows: bank.rows, bankNorms: n.baseAddress!,
            dimension: bank.columns, k: k)
        }
      }
    }
  }

  @Test func generatedDataMatchesTheFixtureScript() throws {
    let f = try DensityFixture.open()
    let sums = try f.doubles("knn.bank_sum")
    let (bank, queries) = SplitMixData.bankAndQueries
    let bankSum = bank.values.reduce(0.0) { $0 + Double($1) }
    var weighted = 0.0
    for (i, v) in bank.values.enumerated() { weighted += Double(v) * Double(i % bank.columns) }
    let querySum = queries.values.reduce(0.0) { $0 + Double($1) }
    #expect(isClose(bankSum, sums[0], relative: 1e-12, absolute: 1e-9))
    #expect(isClose(weighted, sums[1], relative: 1e-12, absolute: 1e-9))
    #expect(isClose(querySum, sums[2], relative: 1e-12, absolute: 1e-9))
  }

  @Test(arguments: configs) func matchesNumpyBruteForce(_ config: Config) throws {
    let f = try DensityFixture.open()
    let expectedD = try f.doubles("knn.distances", shape: [300, 3])
    let expectedI = try f.integers("knn.indices")
    let (bank, queries) = SplitMixData.bankAndQueries
    for k in 1...3 {
      let (d, ix) = Self.run(config, k: k)
      try #require(d.count == config.queries * k && ix.count == config.queries * k)
      for q in 0..<config.queries {
        #expect(Set(ix[(q * k)..<((q + 1) * k)]).count == k, "query \(q): repeated neighbours \(ix[(q * k)..<((q + 1) * k)])")
        for j in 0..<k {
          let got = Double(d[q * k + j])
          let want = expectedD[q * 3 + j]
          #expect(isClose(got, want, relative: 1e-3, absolute: 1e-4), "query \(q) rank \(j) k=\(k): \(got) vs numpy \(want)")
          if j > 0 { #expect(d[q * k + j - 1] <= d[q * k + j], "query \(q): distances not ascending") }
          let index = Int(ix[q * k + j])
          try #require((0..<bank.rows).contains(index))
          if index != Int(expectedI[q * 3 + j]) {
            // Only a tie (within tolerance) may swap neighbours.
            let trueDistance = exactSquaredDistance(queries, q, bank, index)
            #expect(
              isClose(trueDistance, want, relative: 1e-3, absolute: 1e-4),
              "query \(q) rank \(j): index \(index) (distance \(trueDistance)) vs numpy \(expectedI[q * 3 + j]) (\(want))")
          }
        }
      }
    }
  }

  /// Results must not depend on the worker count or the block sizes. With
  /// the same blocks and the query-splitting path, the GEMM calls are the
  /// same, so the results are bitwise equal; otherwise within 1e-5.
  @Test func independentOfWorkersAndBlocks() throws {
    let (bank, queries) = SplitMixData.bankAndQueries
    for queryCount in [1, 5, 13, 300] {
      let reference = Config(queries: queryCount, workers: 1, queryBlock: 256, bankBlock: 2048)
      let (rd, ri) = Self.run(reference, k: 3)
      for workers in [1, 2, 4] {
        for (qb, bb) in [(7, 13), (1, 1), (64, 1000), (256, 2048), (300, 37)] {
          let config = Config(queries: queryCount, workers: workers, queryBlock: qb, bankBlock: bb)
          let (d, ix) = Self.run(config, k: 3)
          for i in 0..<d.count {
            #expect(isClose(Double(d[i]), Double(rd[i]), relative: 1e-5, absolute: 1e-6), "\(config.testDescription): entry \(i)")
            if ix[i] != ri[i] {
              let q = i / 3
              let a = exactSquaredDistance(queries, q, bank, Int(ix[i]))
              let b = exactSquaredDistance(queries, q, bank, Int(ri[i]))
              #expect(isClose(a, b, relative: 1e-5), "\(config.testDescription): entry \(i) index \(ix[i]) vs \(ri[i])")
            }
          }
          if config.splitsQueries && workers > 1 {
            let one = Config(queries: queryCount, workers: 1, queryBlock: qb, bankBlock: bb)
            if one.splitsQueries {
              let (d1, i1) = Self.run(one, k: 3)
              #expect(d1 == d && i1 == ix, "\(config.testDescription): differs from 1 worker")
            }
          }
        }
      }
    }
  }

  @Test func exactMatchesAndEdgeCases() throws {
    let (bank, _) = SplitMixData.bankAndQueries
    let norms = bank.values.withUnsafeBufferPointer {
      NearestNeighbors.squaredNorms($0.baseAddress!, rows: bank.rows, columns: bank.columns)
    }
    // Bank rows as queries: each finds itself at distance 0 (clamped, never negative).
    let rows = [0, 1, 499, 500, 998, 999]
    let q = bank.selecting(rows)
    for search in [NearestNeighbors(queryBlock: 7, bankBlock: 13, workers: 2), NearestNeighbors(workers: 1)] {
      let (d, ix) = bank.values.withUnsafeBufferPointer { b in
        norms.withUnsafeBufferPointer { n in
          q.values.withUnsafeBufferPointer { qb in
            search.search(
              queries: qb.baseAddress!, queryRows: q.rows, bank: b.baseAddress!, bankRows: bank.rows, bankNorms: n.baseAddress!,
              dimension: bank.columns, k: 2)
          }
        }
      }
      for (i, r) in rows.enumerated() {
        #expect(ix[2 * i] == Int32(r))
        #expect(d[2 * i] >= 0 && d[2 * i] <= 1e-4)
        #expect(d[2 * i + 1] > 1)
      }
    }
    // k = bank size returns every row, ascending; no queries returns nothing.
    let small = bank.selecting(Array(0..<9))
    let smallNorms = small.values.withUnsafeBufferPointer {
      NearestNeighbors.squaredNorms($0.baseAddress!, rows: small.rows, columns: small.columns)
    }
    let one = bank.selecting([42])
    for workers in [1, 2] {
      let search = NearestNeighbors(queryBlock: 7, bankBlock: 4, workers: workers)
      let (d, ix) = small.values.withUnsafeBufferPointer { b in
        smallNorms.withUnsafeBufferPointer { n in
          one.values.withUnsafeBufferPointer { qb in
            search.search(
              queries: qb.baseAddress!, queryRows: 1, bank: b.baseAddress!, bankRows: 9, bankNorms: n.baseAddress!,
              dimension: small.columns, k: 9)
          }
        }
      }
      #expect(Set(ix) == Set((0..<9).map(Int32.init)))
      #expect(zip(d, d.dropFirst()).allSatisfy { $0 <= $1 })
      for j in 0..<9 {
        #expect(isClose(Double(d[j]), exactSquaredDistance(one, 0, small, Int(ix[j])), relative: 1e-4, absolute: 1e-4))
      }
      let empty = small.values.withUnsafeBufferPointer { b in
        smallNorms.withUnsafeBufferPointer { n in
          one.values.withUnsafeBufferPointer { qb in
            search.search(
              queries: qb.baseAddress!, queryRows: 0, bank: b.baseAddress!, bankRows: 9, bankNorms: n.baseAddress!,
              dimension: small.columns, k: 2)
          }
        }
      }
      #expect(empty.distances.isEmpty && empty.indices.isEmpty)
    }
  }

  @Test func tiesKeepTheEarlierIndex() {
    // Bank rows 1, 3 and 4 are copies of one point: every worker count and
    // block size must return them in index order.
    let bank = FeatureMatrix(rows: 6, columns: 2, values: [5, 5, 1, 0, 9, 9, 1, 0, 1, 0, -7, 2])
    let query = FeatureMatrix(rows: 1, columns: 2, values: [1, 0.5])
    let norms = bank.values.withUnsafeBufferPointer { NearestNeighbors.squaredNorms($0.baseAddress!, rows: 6, columns: 2) }
    for workers in [1, 2, 3] {
      for bankBlock in [1, 2, 4, 16] {
        let search = NearestNeighbors(queryBlock: 1, bankBlock: bankBlock, workers: workers)
        let result = bank.values.withUnsafeBufferPointer { b in
          norms.withUnsafeBufferPointer { n in
            query.values.withUnsafeBufferPointer { q in
              search.search(queries: q.baseAddress!, queryRows: 1, bank: b.baseAddress!, bankRows: 6, bankNorms: n.baseAddress!, dimension: 2, k: 3)
            }
          }
        }
        #expect(result.indices == [1, 3, 4], "workers \(workers), bank block \(bankBlock)")
        #expect(result.distances == [0.25, 0.25, 0.25])
      }
    }
  }
}
