import Density
import Testing

@Suite struct PatchPoolingTests {
  static let scores: [Float] = [0.5, 3, -1, 2, 7, 0, 1, 4, 6, 5]  // 10 values, sorted: 7 6 5 4 3 2 1 0.5 0 -1

  @Test func maxAndMean() {
    #expect(PatchPooling.max.pool(Self.scores[...]) == 7)
    #expect(PatchPooling.mean.pool(Self.scores[...]) == 27.5 / 10)
    #expect(PatchPooling.max.pool([-3, -2, -5]) == -2)
    #expect(PatchPooling.mean.pool([2]) == 2)
    // A slice that does not start at 0.
    #expect(PatchPooling.max.pool(Self.scores[5..<8]) == 4)
    #expect(PatchPooling.mean.pool(Self.scores[5..<8]) == 5.0 / 3)
    // Nothing to pool: 0.
    #expect(PatchPooling.max.pool([]) == 0)
    #expect(PatchPooling.mean.pool([]) == 0)
    #expect(PatchPooling.topMean(0.5).pool([]) == 0)
  }

  @Test func topMean() {
    // ⌈q·n⌉ highest values, at least one.
    #expect(PatchPooling.topMean(0.1).pool(Self.scores[...]) == 7)
    #expect(PatchPooling.topMean(0.2).pool(Self.scores[...]) == 6.5)
    #expect(PatchPooling.topMean(0.25).pool(Self.scores[...]) == 6)  // ⌈2.5⌉ = 3: 7 6 5
    #expect(PatchPooling.topMean(0.3).pool(Self.scores[...]) == 6)
    #expect(PatchPooling.topMean(0.7).pool(Self.scores[...]) == 28.0 / 7)
    #expect(PatchPooling.topMean(0.01).pool(Self.scores[...]) == 7)
    #expect(PatchPooling.topMean(1).pool(Self.scores[...]) == PatchPooling.mean.pool(Self.scores[...]))
    #expect(PatchPooling.topMean(0.5).pool([1, 1, 1, 9]) == 5)
    // 49 patches (7 × 7), top 10%: ⌈4.9⌉ = 5.
    let grid = (0..<49).map { Float($0) }
    #expect(PatchPooling.topMean(0.1).pool(grid[...]) == Float(48 + 47 + 46 + 45 + 44) / 5)
    // In Double, 100 × 0.07 = 7.000000000000001 and 25 × 0.28 = 7.000000000000001:
    // still 7 locations, not 8.
    let hundred = (0..<100).map { Float($0) }
    #expect(PatchPooling.topMean(0.07).pool(hundred[...]) == Float(99 + 98 + 97 + 96 + 95 + 94 + 93) / 7)
    #expect(PatchPooling.topMean(0.28).pool(hundred[..<25]) == Float(24 + 23 + 22 + 21 + 20 + 19 + 18) / 7)
    #expect(PatchPooling.topMean(0.071).pool(hundred[...]) == Float(99 + 98 + 97 + 96 + 95 + 94 + 93 + 92) / 8)
  }

  @Test func parsing() {
    #expect(PatchPooling("max") == .max)
    #expect(PatchPooling("mean") == .mean)
    #expect(PatchPooling("top0.1") == .topMean(0.1))
    #expect(PatchPooling("top1") == .topMean(1))
    #expect(PatchPooling("top0.25") == .topMean(0.25))
    for bad in ["top0", "top2", "foo", "top", "top-0.1", "top1.5", "topx", "Max", "", "top0.0", "topnan", " max"] {
      #expect(PatchPooling(bad) == nil, "'\(bad)' must be rejected")
    }
    // description round-trips through the parser.
    for p in [PatchPooling.max, .mean, .topMean(0.1), .topMean(0.5)] {
      #expect(PatchPooling(p.description) == p)
    }
    #expect(PatchPooling.topMean(0.1).description == "top0.1")
  }
}
