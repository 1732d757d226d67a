import Density
import Testing

@Suite struct CoresetTests {
  static func random(rows: Int, columns: Int, seed: UInt64) -> FeatureMatrix {
    var rng = SplitMix64(seed: seed)
    return SplitMixData.matrix(&rng, rows: rows, columns: columns)
  }

  /// `clusters` tight clusters of `size` points around well-separated
  /// centres; returns the matrix and each row's cluster.
  static func clustered(clusters: Int, size: Int, columns: Int, seed: UInt64) -> (FeatureMatrix, [Int]) {
    var rng = SplitMix64(seed: seed)
    let centres = SplitMixData.matrix(&rng, rows: clusters, columns: columns).values.map { $0 * 50 }
    let noise = SplitMixData.matrix(&rng, rows: clusters * size, columns: columns).values.map { $0 * 0.05 }
    var values: [Float] = []
    var label: [Int] = []
    // Interleave the clusters so that row order says nothing about them.
    for _ in 0..<size {
      for c in 0..<clusters {
        let r = label.count
        for j in 0..<columns { values.append(centres[c * columns + j] + noise[r * columns + j]) }
        label.append(c)
      }
    }
    return (FeatureMatrix(rows: clusters * size, columns: columns, values: values), label)
  }

  @Test(arguments: [1, 7, 30, 199]) func selectsDistinctRows(_ m: Int) {
    let x = Self.random(rows: 200, columns: 20, seed: 3)
    let picked = Coreset.select(x, count: m, seed: 5)
    #expect(picked.count == m)
    #expect(Set(picked).count == m)
    #expect(picked.allSatisfy { (0..<200).contains($0) })
    #expect(Coreset.select(x, count: m, seed: 5) == picked, "not deterministic")
  }

  @Test(arguments: [(16, UInt64(1)), (16, UInt64(2)), (200, UInt64(3))]) func hitsEveryCluster(columns: Int, seed: UInt64) {
    // 5 tight clusters of 50; with 200 columns the JL projection (128) is used.
    let (x, label) = Self.clustered(clusters: 5, size: 50, columns: columns, seed: seed)
    for coresetSeed: UInt64 in [0, 1, 2] {
      let picked = Coreset.select(x, count: 5, seed: coresetSeed)
      #expect(Set(picked.map { label[$0] }) == Set(0..<5), "seed \(coresetSeed): clusters \(picked.map { label[$0] })")
    }
    // More than one per cluster: the first five still cover all of them.
    let picked = Coreset.select(x, count: 12, seed: 9)
    #expect(Set(picked.prefix(5).map { label[$0] }) == Set(0..<5))
    #expect(Set(picked).count == 12)
  }

  @Test func allRowsWhenAskedForAsManyOrMore() {
    let x = Self.random(rows: 17, columns: 4, seed: 8)
    #expect(Coreset.select(x, count: 17) == Array(0..<17))
    #expect(Coreset.select(x, count: 100) == Array(0..<17))
    #expect(Coreset.select(x, count: 0) == [])
    let empty = FeatureMatrix(rows: 0, columns: 4, values: [])
    #expect(Coreset.select(empty, count: 3) == [])
  }

  /// With fewer distinct rows than `m`, the remaining picks must still be
  /// distinct rows (duplicates of selected points, at distance 0).
  @Test func duplicateRowsStillGiveDistinctIndices() {
    var values: [Float] = []
    for i in 0..<12 { values += [Float(i % 3) * 10, 1, Float(i % 3)] }
    let x = FeatureMatrix(rows: 12, columns: 3, values: values)
    for m in [3, 5, 11] {
      let picked = Coreset.select(x, count: m, seed: 4)
      #expect(picked.count == m)
      #expect(Set(picked).count == m, "m = \(m): \(picked)")
      // The three distinct points come first.
      #expect(Set(picked.prefix(3).map { $0 % 3 }) == [0, 1, 2])
    }
    // All rows identical.
    let same = FeatureMatrix(rows: 6, columns: 2, values: [Float](repeating: 1, count: 12))
    let picked = Coreset.select(same, count: 4)
    #expect(Set(picked).count == 4, "\(picked)")
  }
}
