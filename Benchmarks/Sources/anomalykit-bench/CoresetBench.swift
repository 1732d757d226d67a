import AnomalyKit
import Density
import FeatureExtraction
import Foundation
import ParallelCompute

/// `anomalykit-bench coreset WEIGHTS IMAGE... [--fraction 0.1] [--input-size 224]`:
/// the greedy coreset of a real patch bank (the fit's own features: stages
/// 3 and 5, --resize stretch), timed for `Coreset.select` at `--projection`
/// dimensions and for the row-scan implementation at 128 dimensions (kept
/// here verbatim as the baseline), in the same run; at 128 the selections must be identical.
func coresetBench() throws {
  let args = positional()
  guard args.count >= 2 else { throw BenchError("usage: anomalykit-bench coreset WEIGHTS IMAGE... [--fraction 0.1]") }
  let fraction = option("--fraction", 0.1)
  let model = try EfficientNetLite(path: args[0], inputSize: Int(option("--input-size", 224)))
  let recipe = BankRecipe(features: .patches(stages: [3, 5], pooling: .max), resize: .stretch)
  let pipeline = try ImageBankPipeline(model: model, recipe: recipe)
  var values: [Float] = []
  var rows = 0
  let t0 = now()
  try pipeline.forEachFeatureBatch(Array(args.dropFirst())) { batch in
    values += batch.values
    rows += batch.rows
  }
  let features = FeatureMatrix(rows: rows, columns: pipeline.featureDimension, values: values)
  let extract = now() - t0
  let m = Int((Double(rows) * fraction).rounded())
  let projection = Int(option("--projection", 128))
  var start = now()
  let fast = Coreset.select(features, count: m, projectedDimension: projection)
  let fastSeconds = now() - start
  start = now()
  let z = Coreset.project(features)
  var rng = SplitMix64(seed: 0 ^ 0x5EED_C0DE)
  let first = Int(rng.next() % UInt64(rows))
  let slow = rowScanGreedy(z, rows: rows, dimension: min(128, features.columns), count: m, first: first)
  let slowSeconds = now() - start
  print(
    "{\"rows\":\(rows),\"columns\":\(features.columns),\"selected\":\(m),\"images\":\(args.count - 1),\"extract_seconds\":\(extract),"
      + "\"projection\":\(projection),\"shipped_seconds\":\(fastSeconds),\"row_scan_128_seconds\":\(slowSeconds),"
      + "\"speedup\":\(slowSeconds / fastSeconds),\"identical\":\(fast == slow),\"shared_rows\":\(Set(fast).intersection(slow).count)}")
}

struct BenchError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

/// The greedy coreset as shipped before issue 20: every round scans every row
/// (with Elkan's per-row test), two workers.
func rowScanGreedy(_ z: [Float], rows n: Int, dimension p: Int, count m: Int, first: Int) -> [Int] {
  var minDistance = [Float](repeating: .infinity, count: n)
  var assignment = [Int32](repeating: 0, count: n)
  var centreDistances = [Float](repeating: 0, count: m)
  var selected: [Int] = []
  var current = first
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
            var centres: [Int] = []
            for t in 0..<m {
              selected.append(current)
              centres.append(current)
              let c0 = current
              let cs = centres
              ParallelFor.chunks(count: t, workers: t > 4096 ? workers : 1) { range in
                for a in range { cd[a] = squaredDistance(zs.base + cs[a] * p, zs.base + c0 * p, count: p) }
              }
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
