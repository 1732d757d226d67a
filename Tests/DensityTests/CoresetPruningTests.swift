import Density
import Testing

/// The pruned greedy coreset must select exactly what the textbook greedy
/// selects (the triangle-inequality test only skips rows that cannot change).
@Suite("Coreset pruning")
struct CoresetPruningTests {
  /// Textbook k-center greedy on already-projected rows (no pruning).
  static func naive(_ z: [Float], rows n: Int, dim p: Int, count m: Int, first: Int) -> [Int] {
    var md = [Float](repeating: .infinity, count: n)
    var selected: [Int] = []
    var current = first
    for _ in 0..<m {
      selected.append(current)
      md[current] = -.infinity
      var best = -1
      var bestDistance: Float = -1
      for i in 0..<n {
        var s: Float = 0
        for c in 0..<p {
          let t = z[i * p + c] - z[current * p + c]
          s += t * t
        }
        if s < md[i] { md[i] = s }
        if md[i] > bestDistance {
          bestDistance = md[i]
          best = i
        }
      }
      current = best
    }
    return selected
  }

  @Test("pruned greedy equals textbook greedy on clustered data", arguments: [UInt64(1), 2, 3])
  func matchesNaive(seed: UInt64) {
    var rng = SplitMix64(seed: seed)
    let n = 1500
    let d = 16
    var values = [Float](repeating: 0, count: n * d)
    for i in 0..<n {
      let cluster = Float(i % 7) * 3
      for j in 0..<d { values[i * d + j] = cluster + Float(rng.next() % 1000) / 1000 }
    }
    let features = FeatureMatrix(rows: n, columns: d, values: values)
    let m = 120
    let pruned = Coreset.select(features, count: m, projectedDimension: d, seed: seed)
    // The textbook algorithm on the same projection and the same first row.
    let projected = Coreset.project(features, projectedDimension: d, seed: seed)
    let reference = Self.naive(projected, rows: n, dim: d, count: m, first: pruned[0])
    #expect(pruned == reference)
  }
}
