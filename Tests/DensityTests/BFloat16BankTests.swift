import CKernels
import Density
import Foundation
import Testing

/// Banks stored in bfloat16: the rounding, the BF16 dot-product kernel, and
/// a search that finds exactly the nearest rows of the bank as stored, with
/// float32 distances to them.
@Suite struct BFloat16BankTests {
  static func widen(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

  @Test func roundingIsToNearestEven() {
    // 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷: ties go to the even 1.
    #expect(ak_f32_to_bf16_one(1) == 0x3F80)
    #expect(ak_f32_to_bf16_one(1 + 0x1p-8) == 0x3F80)
    #expect(ak_f32_to_bf16_one(1 + 3 * 0x1p-8) == 0x3F82)  // halfway up from odd 0x3F81: to even 0x3F82
    #expect(ak_f32_to_bf16_one(1 + 0x1p-8 + 0x1p-20) == 0x3F81)  // just above halfway: up
    #expect(ak_f32_to_bf16_one(-2.5) == 0xC020)
    #expect(ak_f32_to_bf16_one(.infinity) == 0x7F80)
    #expect(Self.widen(ak_f32_to_bf16_one(.nan)).isNaN)
    #expect(Self.widen(ak_f32_to_bf16_one(0x1p-130)) == 0x1p-130)  // subnormals keep their top bits
  }

  @Test(arguments: [(7, 13, 45), (4, 4, 32), (9, 300, 1280), (1, 5, 1)])
  func dotProductsMatchAFloat64Reference(_ shape: (Int, Int, Int)) {
    let (m, n, d) = shape
    var rng = SplitMix64(seed: UInt64(m * 1000 + n * 10 + d))
    let a = SplitMixData.matrix(&rng, rows: m, columns: d).values.map(ak_f32_to_bf16_one)
    let b = SplitMixData.matrix(&rng, rows: n, columns: d).values.map(ak_f32_to_bf16_one)
    var c = [Float](repeating: .nan, count: m * n)
    ak_bf16_gemm_nt(a, m, b, n, d, &c, n)
    for i in 0..<m {
      for j in 0..<n {
        var exact = 0.0
        var magnitude = 0.0
        for t in 0..<d {
          let p = Double(Self.widen(a[i * d + t])) * Double(Self.widen(b[j * d + t]))
          exact += p
          magnitude += abs(p)
        }
        // Products are exact in float32; only the float32 sums round.
        #expect(abs(Double(c[i * n + j]) - exact) <= 1e-6 * magnitude + 1e-30, "c[\(i), \(j)] = \(c[i * n + j]), expected \(exact)")
      }
    }
  }

  @Test(arguments: [ScorerKind.knn, .cosineKNN])
  func searchFindsTheStoredRowsNearestNeighbours(_ scorer: ScorerKind) throws {
    var rng = SplitMix64(seed: 77)
    let features = SplitMixData.matrix(&rng, rows: 3000, columns: 96)
    let queries = SplitMixData.matrix(&rng, rows: 200, columns: 96)
    let whole = try ReferenceBank(fitting: features, scorer: scorer, k: 3)
    let bank = try whole.storing(.bf16)
    #expect(bank.dtype == .bf16 && bank.metadata["bank_dtype"] == "bf16")
    let stored = bank.features  // the rounded rows, widened
    #expect(stored.values == whole.features.values.map { Self.widen(ak_f32_to_bf16_one($0)) })
    let found = try bank.neighbours(queries)
    let q = scorer == .cosineKNN ? queries.normalizedRows() : queries
    for i in 0..<queries.rows {
      let exact = (0..<stored.rows).map { (exactSquaredDistance(q, i, stored, $0), $0) }.sorted { $0 < $1 }.prefix(3)
      #expect(found.rows[(i * 3)..<(i * 3 + 3)].map(Int.init) == exact.map(\.1), "query \(i)")
      for (j, e) in exact.enumerated() {
        #expect(isClose(Double(found.distances[i * 3 + j]), e.0, relative: 1e-5, absolute: 1e-6), "query \(i) neighbour \(j)")
      }
    }
    // Scores are the sums of those distances, as for a float32 bank.
    #expect(try bank.score(queries).map(\.bitPattern) == found.scores.map(\.bitPattern))
  }

  @Test func fileHalvesAndRoundTrips() throws {
    let folder = try DensityTemporaryFolder()
    var rng = SplitMix64(seed: 5)
    let features = SplitMixData.matrix(&rng, rows: 500, columns: 64)
    let queries = SplitMixData.matrix(&rng, rows: 20, columns: 64)
    let f32 = try ReferenceBank(fitting: features, scorer: .knn, k: 2)
    let bf16 = try f32.storing(.bf16)
    try BankFile.write(f32, to: folder.file("f32.safetensors"), toolkitVersion: "test")
    try BankFile.write(bf16, to: folder.file("bf16.safetensors"), toolkitVersion: "test")
    let size = { (name: String) in (try FileManager.default.attributesOfItem(atPath: folder.file(name))[.size] as? Int) ?? 0 }
    #expect(try size("bf16.safetensors") < size("f32.safetensors") / 2 + 2048)
    let read = try BankFile.read(path: folder.file("bf16.safetensors"))
    #expect(read.dtype == .bf16)
    #expect(try read.score(queries).map(\.bitPattern) == bf16.score(queries).map(\.bitPattern))
    // Adding rows and sharding keep the dtype; shards merge to the whole.
    let grown = try read.adding(queries)
    #expect(grown.dtype == .bf16 && grown.count == 520)
    let shards = try read.split(into: 3, parentSHA256: String(repeating: "c", count: 64))
    #expect(shards.allSatisfy { $0.dtype == .bf16 })
    let merged = try NeighbourList.merge(shards.map { try $0.neighbours(queries) })
    #expect(merged == (try read.neighbours(queries)))
  }

  @Test func scorersWithoutRowsRefuseBFloat16() throws {
    var rng = SplitMix64(seed: 9)
    let features = SplitMixData.matrix(&rng, rows: 50, columns: 8)
    for scorer in [ScorerKind.meanShifted, .angularCenter, .gaussian] {
      let bank = try ReferenceBank(fitting: features, scorer: scorer, k: 1)
      #expect(throws: DensityError.self) { try bank.storing(.bf16) }
    }
  }
}
