import ParallelCompute

/// Nearest-prototype scoring, the score of every cold-start method:
///
/// ```
/// S(x) = min_k d(x, z_k)
/// ```
///
/// with `d` from `PrototypeMetric`: the zero-shot score when `z_k` are the
/// description embeddings, the ColdFusion score when they are the adapted
/// prototypes. Distances are computed directly (not through the
/// `‖x‖² + ‖z‖² − 2x·z` expansion), so two observations never trade places
/// through cancellation.
public enum PrototypeScoring {
  /// For each prepared `d`-wide row of `x`: the distance to its nearest row
  /// of `prototypes` and that row's index (the lowest index wins a tie).
  /// With `factors`, distances to prototype `k` are multiplied by
  /// `factors[k]` first (`min_k f_k d(x, p_k)`, the predictive score).
  public static func nearest(
    _ x: [Float], prototypes: [Float], norms: [Float], factors: [Float]? = nil, metric: PrototypeMetric, dimension d: Int,
    workers: Int = ParallelFor.defaultWorkers
  ) -> (distances: [Float], indices: [Int]) {
    let n = d > 0 ? x.count / d : 0
    let k = norms.count
    var distances = [Float](repeating: .infinity, count: n)
    var indices = [Int](repeating: 0, count: n)
    guard n > 0, k > 0 else { return (distances, indices) }
    x.withUnsafeBufferPointer { xp in
      prototypes.withUnsafeBufferPointer { zp in
        distances.withUnsafeMutableBufferPointer { dp in
          indices.withUnsafeMutableBufferPointer { ip in
            let xs = SharedReadOnlyBuffer(xp)
            let zs = SharedReadOnlyBuffer(zp)
            let outD = SharedBuffer(dp)
            let outI = SharedBuffer(ip)
            // Small jobs stay on the calling thread.
            let chunks = n * k * d < 1 << 20 ? 1 : max(1, min(workers, n))
            ParallelFor.run(workers: chunks) { w in
              for r in stride(from: w, to: n, by: chunks) {
                var best = Float.infinity
                var arg = 0
                for c in 0..<k {
                  var v = metric.distance(xs.base + r * d, zs.base + c * d, zNorm: norms[c], dimension: d)
                  if let factors { v *= factors[c] }
                  if v < best {
                    best = v
                    arg = c
                  }
                }
                outD[r] = best
                outI[r] = arg
              }
            }
          }
        }
      }
    }
    return (distances, indices)
  }

  /// `S(x)` for raw rows (prepared for the metric here).
  public static func scores(_ rows: FeatureMatrix, prototypes: [Float], norms: [Float], metric: PrototypeMetric) -> [Float] {
    var x = rows.values
    metric.prepare(&x, dimension: rows.columns)
    return nearest(x, prototypes: prototypes, norms: norms, metric: metric, dimension: rows.columns).distances
  }
}
