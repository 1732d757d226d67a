#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import CBLAS
import ParallelCompute

/// Greedy k-center coreset selection (Sener & Savarese 2018), as PatchCore
/// uses to cap a patch bank.
///
/// Starting from one seeded random row, repeatedly add the row farthest from
/// everything selected so far:
/// ```
/// s_{t+1} = argmax_i min_{j ∈ S_t} ‖x_i − x_j‖²
/// ```
/// As in PatchCore, distances are computed on a Johnson–Lindenstrauss random
/// projection to `projectedDimension` (default 128); the selected rows keep
/// their full features. Each row remembers its nearest selected row a, and
/// the distance to a new centre c is skipped when ‖c − a‖² ≥ 4‖x − a‖²
/// (the triangle inequality shows c cannot be nearer; Elkan 2003). Late in
/// the selection almost every row is skipped, so the cost falls well below
/// the textbook O(N · M · 128) while the selection stays exactly the same
/// (tested against the unpruned algorithm).
public enum Coreset {
  /// Greedy's random-projection width (PatchCore's 128). Each greedy round
  /// costs one distance per row at this width: in 128 dimensions the
  /// triangle-inequality test prunes almost nothing (distances
  /// concentrate), so the width sets the fit time. 32 is 2.6–5× faster but
  /// selects other rows (Notebooks-export/industrial.md).
  public static let defaultProjection = 128

  /// How rows are chosen.
  public enum Method: String, Sendable, CaseIterable {
    /// k-center greedy (below): covers the feature space, O(N·M·128).
    case greedy
    /// A seeded uniform sample: O(N), for very large banks where greedy is
    /// too slow on a CPU.
    case random
  }

  /// `count` distinct rows chosen by `method`, in ascending order for `random`.
  public static func select(
    _ features: FeatureMatrix, count m: Int, method: Method, projectedDimension: Int = defaultProjection, seed: UInt64 = 0
  ) -> [Int] {
    switch method {
    case .greedy:
      return select(features, count: m, projectedDimension: projectedDimension, seed: seed)
    case .random:
      return randomRows(features.rows, choosing: m, seed: seed)
    }
  }

  /// `m` distinct rows of `n`, a seeded uniform sample in ascending order.
  /// Needs only the row count, so a streamed fit can pick its bank before
  /// reading any features back.
  public static func randomRows(_ n: Int, choosing m: Int, seed: UInt64 = 0) -> [Int] {
    guard m < n else { return Array(0..<n) }
    var rng = SplitMix64(seed: seed)
    return Array(rng.permutation(n).prefix(max(0, m))).sorted()
  }

  /// The rows of `features` through a seeded Gaussian random projection to
  /// `min(projectedDimension, D)` dimensions, scaled by 1/√p (row-major).
  public static func project(_ features: FeatureMatrix, projectedDimension: Int = 128, seed: UInt64 = 0) -> [Float] {
    var rng = SplitMix64(seed: seed)
    let n = features.rows
    let d = features.columns
    let p = min(projectedDimension, d)
    var projection = [Float](repeating: 0, count: d * p)
    for i in 0..<(d * p) {
      let u1 = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-300)
      let u2 = Double(rng.next() >> 11) / Double(1 << 53)
      projection[i] = Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2) / Double(p).squareRoot())
    }
    // z = X · P, one GEMM per worker over a slice of rows.
    var z = [Float](repeating: 0, count: n * p)
    features.values.withUnsafeBufferPointer { xb in
      projection.withUnsafeBufferPointer { pb in
        z.withUnsafeMutableBufferPointer { zb in
          let x = SharedReadOnlyBuffer(xb)
          let pr = SharedReadOnlyBuffer(pb)
          let out = SharedBuffer(zb)
          ParallelFor.chunks(count: n) { rows in
            cblas_sgemm(
              CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows.count), Int32(p), Int32(d), 1, x.base + rows.lowerBound * d,
              Int32(d), pr.base, Int32(p), 0, out.base + rows.lowerBound * p, Int32(p))
          }
        }
      }
    }
    return z
  }

  /// `m` distinct rows chosen by k-center greedy (above), in the order they
  /// were selected: the first is a seeded random row. All rows (in order)
  /// when `m ≥ N`, none when `m ≤ 0`.
  public static func select(
    _ features: FeatureMatrix, count m: Int, projectedDimension: Int = 128, seed: UInt64 = 0
  ) -> [Int] {
    let n = features.rows
    guard m < n else { return Array(0..<n) }
    guard m > 0 else { return [] }
    let p = min(projectedDimension, features.columns)
    let z = project(features, projectedDimension: projectedDimension, seed: seed)
    // The first centre comes from its own stream, so it does not depend on
    // how many numbers the projection drew.
    var rng = SplitMix64(seed: seed ^ 0x5EED_C0DE)
    var minDistance = [Float](repeating: .infinity, count: n)
    // Index (into `selected`) of each row's nearest selected row.
    var assignment = [Int32](repeating: 0, count: n)
    // Squared distances from the newest selected row to every earlier one.
    var centreDistances = [Float](repeating: 0, count: m)
    var selected: [Int] = []
    selected.reserveCapacity(m)
    var current = Int(rng.next() % UInt64(n))
    let workers = ParallelFor.defaultWorkers
    var bestPerWorker = [(Float, Int)](repeating: (-1, -1), count: workers)
    z.withUnsafeBufferPointer { zb in
      minDistance.withUnsafeMutableBufferPointer { mb in
        assignment.withUnsafeMutableBufferPointer { ab in
          centreDistances.withUnsafeMutableBufferPointer { cb in
            bestPerWorker.withUnsafeMutableBufferPointer { bb in
              let zs = SharedReadOnlyBuffer(zb)
              let md = SharedBuffer(mb)
              let owner = SharedBuffer(ab)
              let cd = SharedBuffer(cb)
              let best = SharedBuffer(bb)
              let centreRows = UnsafeMutableBufferPointer<Int>.allocate(capacity: m)
              defer { centreRows.deallocate() }
              let centres = SharedBuffer(centreRows)
              for t in 0..<m {
                selected.append(current)
                centres[t] = current
                let c0 = current
                // d(new, earlier centre a), for the pruning test below.
                ParallelFor.chunks(count: t, workers: t > 4096 ? workers : 1) { range in
                  for a in range { cd[a] = squaredDistance(zs.base + centres[a] * p, zs.base + c0 * p, count: p) }
                }
                // A selected row is never picked again, even when every row
                // left is a duplicate of the selection (all at distance 0).
                md[c0] = -.infinity
                owner[c0] = Int32(t)
                let round = Int32(t)
                ParallelFor.run(workers: workers) { w in
                  let lo = n * w / workers
                  let hi = n * (w + 1) / workers
                  var bestDistance: Float = -1
                  var bestIndex = -1
                  for i in lo..<hi {
                    let mi = md[i]
                    // Triangle inequality: with a = the row's nearest
                    // centre, ‖x − new‖ ≥ ‖new − a‖ − ‖x − a‖, so when
                    // ‖new − a‖² ≥ 4‖x − a‖² the new centre cannot be nearer
                    // and the distance is not computed (Elkan 2003). The
                    // small slack keeps rounding from pruning a true update.
                    if t == 0 || cd[Int(owner[i])] < 4 * mi * 1.0001 {
                      let s = squaredDistance(zs.base + i * p, zs.base + c0 * p, count: p)
                      if s < mi {
                        md[i] = s
                        owner[i] = round
                      }
                    }
                    if md[i] > bestDistance {
                      bestDistance = md[i]
                      bestIndex = i
                    }
                  }
                  best[w] = (bestDistance, bestIndex)
                }
                var top: (Float, Int) = (-1, -1)
                for w in 0..<workers where best[w].1 >= 0 && best[w].0 > top.0 { top = best[w] }
                current = top.1
              }
            }
          }
        }
      }
    }
    return selected
  }
}

/// ‖a − b‖² over `count` floats, eight lanes at a time (explicit SIMD: the
/// compiler may not reorder a float reduction by itself). Inlinable, so
/// the benchmark's baseline greedy (`anomalykit-bench coreset`) calls the
/// same code as inline as `Coreset.select` does.
@inlinable @inline(__always)
package func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
  var acc = SIMD8<Float>(repeating: 0)
  var c = 0
  while c + 8 <= count {
    let t = UnsafeRawPointer(a + c).loadUnaligned(as: SIMD8<Float>.self) - UnsafeRawPointer(b + c).loadUnaligned(as: SIMD8<Float>.self)
    acc += t * t
    c += 8
  }
  var s = acc.sum()
  while c < count {
    let t = a[c] - b[c]
    s += t * t
    c += 1
  }
  return s
}
