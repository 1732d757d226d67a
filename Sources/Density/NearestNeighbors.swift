import CBLAS
import CKernels
import ParallelCompute

/// Exact k-nearest-neighbour search under squared Euclidean distance.
///
/// Distances come from one GEMM per block pair:
///
/// ```
/// ‖q − b‖² = ‖q‖² + ‖b‖² − 2 q·b
/// ```
///
/// (clamped at 0 against rounding), which picks each query's k nearest;
/// their distances are then recomputed directly as `Σ (q_j − b_j)²` in a
/// fixed order (eight lanes, as in `Coreset`), so the reported distances, and the
/// scores summed from them, are the same bits whether the bank was searched
/// whole or in shards. Queries are taken `queryBlock` at a time
/// and the bank `bankBlock` rows at a time, so scratch memory is
/// `queryBlock × bankBlock` floats per worker whatever the bank size; each
/// query keeps a sorted top-k list that is updated as blocks stream past.
/// With many queries, workers split the queries; with few, they split the
/// bank and their top-k lists are merged. The bank can be a memory map: it
/// is only ever read.
public struct NearestNeighbors: Sendable {
  /// Query rows per block (default 1024).
  public var queryBlock: Int
  /// Bank rows per block (default 4096). The distance tile is
  /// `queryBlock × bankBlock` floats, 16 MB per worker by default: measured
  /// on a 50,000 × 1280 bank, 1024-query blocks reach 1,420 queries/s
  /// (≈ 95% of the sgemm peak) against 1,320 for 256-query blocks, and the
  /// bank-block size hardly matters.
  public var bankBlock: Int
  /// Worker threads a search uses (default `ParallelFor.defaultWorkers`).
  public var workers: Int

  /// Search settings; each is raised to at least 1.
  public init(queryBlock: Int = 1024, bankBlock: Int = 4096, workers: Int = ParallelFor.defaultWorkers) {
    self.queryBlock = max(1, queryBlock)
    self.bankBlock = max(1, bankBlock)
    self.workers = max(1, workers)
  }

  /// Squared L2 norm of each row.
  public static func squaredNorms(_ x: UnsafePointer<Float>, rows: Int, columns: Int) -> [Float] {
    (0..<rows).map { squaredNorm(x + $0 * columns, count: columns) }
  }

  /// `Σ x_c²` of one row, summed in order (the banks' stored norms and the
  /// queries' come from here, so they match bit for bit).
  static func squaredNorm(_ row: UnsafePointer<Float>, count: Int) -> Float {
    var s: Float = 0
    for c in 0..<count { s += row[c] * row[c] }
    return s
  }

  /// The `k` smallest squared distances from each query to the bank,
  /// ascending, as a `queries × k` matrix; with `indices`, also the bank
  /// row of each.
  ///
  /// - Parameters:
  ///   - queries: `queryRows × dimension` floats, row-major.
  ///   - queryRows: number of queries (none gives empty results).
  ///   - bank: `bankRows × dimension` floats (any readable memory).
  ///   - bankRows: number of bank rows.
  ///   - bankNorms: `squaredNorms` of the bank (cache them with the bank).
  ///   - dimension: floats per row, for queries and bank alike.
  ///   - k: neighbours per query, 1 ≤ k ≤ `bankRows` (checked by a
  ///     precondition).
  /// - Returns: `queryRows × k` squared distances, row-major and ascending
  ///   within a row, and the bank row of each.
  public func search(
    queries: UnsafePointer<Float>, queryRows: Int, bank: UnsafePointer<Float>, bankRows: Int, bankNorms: UnsafePointer<Float>,
    dimension: Int, k: Int
  ) -> (distances: [Float], indices: [Int32]) {
    search(queries: queries, queryRows: queryRows, bank: .f32(bank), bankRows: bankRows, bankNorms: bankNorms, dimension: dimension, k: k)
  }

  /// Extra candidates a bfloat16 search keeps per query before re-ranking
  /// in float32 (default 16): its k + 16 nearest by BF16 dot products are
  /// re-measured exactly and the k nearest of those kept.
  public var rerankCandidates = 16

  /// `search` against a bank of bfloat16 rows (`bank` holds their bit
  /// patterns; `bankNorms` are the squared norms of the widened rows).
  ///
  /// Queries are rounded to bfloat16 and the distance tile comes from
  /// BF16 dot products with float32 accumulation (`ak_bf16_gemm_nt`:
  /// AVX-512 BF16 where the CPU has it, a portable loop otherwise), which
  /// picks each query's k + `rerankCandidates` nearest. Those are re-ranked
  /// by `Σ (q_j − b_j)²` between the float32 query and the widened row, so
  /// the reported distances are exact to float32 rounding for the rows kept;
  /// a true neighbour is missed only if BF16 rounding moves it behind 16
  /// others.
  public func search(
    queries: UnsafePointer<Float>, queryRows: Int, bf16Bank bank: UnsafePointer<UInt16>, bankRows: Int,
    bankNorms: UnsafePointer<Float>, dimension: Int, k: Int
  ) -> (distances: [Float], indices: [Int32]) {
    search(queries: queries, queryRows: queryRows, bank: .bf16(bank), bankRows: bankRows, bankNorms: bankNorms, dimension: dimension, k: k)
  }

  /// A bank's rows as the search reads them.
  enum BankRows {
    case f32(UnsafePointer<Float>)
    case bf16(UnsafePointer<UInt16>)
  }

  /// What a scan reads: float32 rows, or bfloat16 rows with the queries
  /// rounded to bfloat16 and the candidates kept for the float32 re-rank.
  enum ScanRows: @unchecked Sendable {
    case f32(UnsafePointer<Float>)
    case bf16(bank: UnsafePointer<UInt16>, queries: UnsafePointer<UInt16>, candidates: Int)

    /// Nearest rows kept per query before re-measuring: k for float32.
    func candidates(k: Int) -> Int {
      if case .bf16(_, _, let c) = self { return c }
      return k
    }
  }

  func search(
    queries: UnsafePointer<Float>, queryRows: Int, bank rows: BankRows, bankRows: Int, bankNorms: UnsafePointer<Float>,
    dimension: Int, k: Int
  ) -> (distances: [Float], indices: [Int32]) {
    precondition(k >= 1 && k <= bankRows, "1 ≤ k ≤ bank size")
    var distances = [Float](repeating: .infinity, count: queryRows * k)
    var indices = [Int32](repeating: -1, count: queryRows * k)
    if queryRows == 0 { return (distances, indices) }
    var queryBF16: [UInt16] = []
    if case .bf16 = rows {
      queryBF16 = [UInt16](unsafeUninitializedCapacity: queryRows * dimension) { out, count in
        ak_f32_to_bf16(queries, out.baseAddress, queryRows * dimension)
        count = queryRows * dimension
      }
    }
    let queryNorms = Self.squaredNorms(queries, rows: queryRows, columns: dimension)
    let q = SharedReadOnlyBuffer(UnsafeBufferPointer(start: queries, count: queryRows * dimension))
    let bn = SharedReadOnlyBuffer(UnsafeBufferPointer(start: bankNorms, count: bankRows))
    let queryBlock = queryBlock
    let bankBlock = bankBlock
    let rerankCandidates = rerankCandidates
    queryBF16.withUnsafeBufferPointer { qb16Buffer in
      let scanned: ScanRows
      switch rows {
      case .f32(let b): scanned = .f32(b)
      case .bf16(let b):
        scanned = .bf16(
          bank: b, queries: qb16Buffer.baseAddress.unsafelyUnwrapped, candidates: min(bankRows, k + max(0, rerankCandidates)))
      }
      queryNorms.withUnsafeBufferPointer { qnBuffer in
        let qn = SharedReadOnlyBuffer(qnBuffer)
        let splitQueries = queryRows >= workers * min(queryBlock, 64)
        if splitQueries {
          distances.withUnsafeMutableBufferPointer { dBuffer in
            indices.withUnsafeMutableBufferPointer { iBuffer in
              let d = SharedBuffer(dBuffer)
              let ix = SharedBuffer(iBuffer)
              let blocks = (queryRows + queryBlock - 1) / queryBlock
              let w = min(workers, blocks)
              ParallelFor.run(workers: w) { worker in
                let tile = UnsafeMutablePointer<Float>.allocate(capacity: queryBlock * bankBlock)
                defer { tile.deallocate() }
                var block = worker
                while block < blocks {
                  let q0 = block * queryBlock
                  let q1 = min(queryRows, q0 + queryBlock)
                  Self.scan(
                    q: q.base, qn: qn.base, q0: q0, q1: q1, rows: scanned, bn: bn.base, b0: 0, b1: bankRows, dimension: dimension,
                    k: k, bankBlock: bankBlock, tile: tile, outDistances: d.base, outIndices: ix.base)
                  block += w
                }
              }
            }
          }
        } else {
          // Few queries: split the bank, then merge the per-worker top-k lists.
          let w = max(1, min(workers, bankRows / max(k, 1)))
          var partialD = [Float](repeating: .infinity, count: w * queryRows * k)
          var partialI = [Int32](repeating: -1, count: w * queryRows * k)
          partialD.withUnsafeMutableBufferPointer { dBuffer in
            partialI.withUnsafeMutableBufferPointer { iBuffer in
              let d = SharedBuffer(dBuffer)
              let ix = SharedBuffer(iBuffer)
              ParallelFor.run(workers: w) { worker in
                let b0 = bankRows * worker / w
                let b1 = bankRows * (worker + 1) / w
                let tile = UnsafeMutablePointer<Float>.allocate(capacity: queryBlock * bankBlock)
                defer { tile.deallocate() }
                var q0 = 0
                while q0 < queryRows {
                  let q1 = min(queryRows, q0 + queryBlock)
                  Self.scan(
                    q: q.base, qn: qn.base, q0: q0, q1: q1, rows: scanned, bn: bn.base, b0: b0, b1: b1, dimension: dimension,
                    k: k, bankBlock: bankBlock, tile: tile, outDistances: d.base + worker * queryRows * k,
                    outIndices: ix.base + worker * queryRows * k)
                  q0 = q1
                }
              }
            }
          }
          for qi in 0..<queryRows {
            var list = TopK(k: k)
            for worker in 0..<w {
              for j in 0..<k {
                let o = worker * queryRows * k + qi * k + j
                list.insert(partialD[o], partialI[o])
              }
            }
            for j in 0..<k {
              distances[qi * k + j] = list.distances[j]
              indices[qi * k + j] = list.indices[j]
            }
          }
        }
      }
    }
    return (distances, indices)
  }

  /// Top-k of queries `q0..<q1` against bank rows `b0..<b1`, written to
  /// rows `q0..<q1` of the output (which must start at +∞ / −1).
  private static func scan(
    q: UnsafePointer<Float>, qn: UnsafePointer<Float>, q0: Int, q1: Int, rows: ScanRows, bn: UnsafePointer<Float>,
    b0: Int, b1: Int, dimension: Int, k: Int, bankBlock: Int, tile: UnsafeMutablePointer<Float>,
    outDistances: UnsafeMutablePointer<Float>, outIndices: UnsafeMutablePointer<Int32>
  ) {
    let nq = q1 - q0
    let candidates = rows.candidates(k: k)
    var lists = (0..<nq).map { _ in TopK(k: candidates) }
    var s = b0
    while s < b1 {
      let e = min(b1, s + bankBlock)
      let nb = e - s
      // tile[i, j] = q_i · b_j
      switch rows {
      case .f32(let b):
        cblas_sgemm(
          CblasRowMajor, CblasNoTrans, CblasTrans, Int32(nq), Int32(nb), Int32(dimension), 1, q + q0 * dimension, Int32(dimension),
          b + s * dimension, Int32(dimension), 0, tile, Int32(nb))
      case .bf16(let bank, let queries, _):
        ak_bf16_gemm_nt(queries + q0 * dimension, nq, bank + s * dimension, nb, dimension, tile, nb)
      }
      for i in 0..<nq {
        let row = tile + i * nb
        let qnorm = qn[q0 + i]
        var worst = lists[i].worst
        for j in 0..<nb {
          let d = max(0, qnorm + bn[s + j] - 2 * row[j])
          if d < worst {
            lists[i].insert(d, Int32(s + j))
            worst = lists[i].worst
          }
        }
      }
      s = e
    }
    for i in 0..<nq {
      // The GEMM picked the k nearest; their distances are recomputed
      // directly, so a reported distance depends only on the two rows and
      // not on how the bank was blocked or sharded (OpenBLAS's result for one
      // q·b can change with the matrix shape: small-matrix kernels, K
      // blocking). That is what makes merged shard scores bit-identical.
      // (A bfloat16 bank's candidates are re-ranked against the widened rows.)
      var exact = TopK(k: k)
      let query = q + (q0 + i) * dimension
      for j in 0..<candidates where lists[i].indices[j] >= 0 {
        let row = Int(lists[i].indices[j])
        let d: Float
        switch rows {
        case .f32(let b):
          d = squaredDistance(query, b + row * dimension, count: dimension)
        case .bf16(let bank, _, _):
          d = withUnsafeTemporaryAllocation(of: Float.self, capacity: dimension) { widened in
            ak_bf16_to_f32(bank + row * dimension, widened.baseAddress, dimension)
            return squaredDistance(query, widened.baseAddress.unsafelyUnwrapped, count: dimension)
          }
        }
        exact.insert(d, lists[i].indices[j])
      }
      for j in 0..<k {
        outDistances[(q0 + i) * k + j] = exact.distances[j]
        outIndices[(q0 + i) * k + j] = exact.indices[j]
      }
    }
  }
}

/// A bounded, ascending list of the k smallest (distance, index) pairs.
struct TopK {
  var distances: [Float]
  var indices: [Int32]

  init(k: Int) {
    distances = [Float](repeating: .infinity, count: k)
    indices = [Int32](repeating: -1, count: k)
  }

  var worst: Float { distances[distances.count - 1] }

  /// Inserts (d, i) if it beats the current worst; ties keep the earlier index.
  mutating func insert(_ d: Float, _ i: Int32) {
    var p = distances.count - 1
    guard d < distances[p] || (d == distances[p] && i >= 0 && (indices[p] < 0 || i < indices[p])) else { return }
    while p > 0 && (distances[p - 1] > d || (distances[p - 1] == d && indices[p - 1] > i)) {
      distances[p] = distances[p - 1]
      indices[p] = indices[p - 1]
      p -= 1
    }
    distances[p] = d
    indices[p] = i
  }
}
