import Density
import ParallelCompute
import TensorFiles

/// Protocol results over several seeds.
struct ColdStartRuns {
  let seeds: [UInt64]
  /// Per seed, per method: the AUROC curve.
  let curves: [[ColdStartMethod: [Double]]]

  static func run(_ evaluation: ColdStartEvaluation, contamination: Double, seeds: [UInt64]) throws -> ColdStartRuns {
    // Each worker writes only its own seeds' slots.
    var results = [Result<[ColdStartMethod: [Double]], Error>?](repeating: nil, count: seeds.count)
    results.withUnsafeMutableBufferPointer { buffer in
      let out = SharedBuffer(buffer)
      ParallelFor.chunks(count: seeds.count) { range in
        for i in range { out[i] = Result { try evaluation.curves(contamination: contamination, seed: seeds[i]) } }
      }
    }
    return ColdStartRuns(seeds: seeds, curves: try results.map { try ($0 ?? .failure(CLIError("a seed did not run"))).get() })
  }

  func summaries(_ m: ColdStartMethod) -> [StreamCurveSummary] {
    curves.compactMap { $0[m] }.map(StreamCurveSummary.init(curve:))
  }

  /// Mean and population standard deviation (numpy's default) of each
  /// summary value over the seeds: AUC@10/25/50/100 then final.
  func statistics(_ m: ColdStartMethod) -> (mean: [Double], std: [Double]) {
    let rows = summaries(m).map { $0.areas + [$0.final] }
    guard let width = rows.first?.count else { return ([], []) }
    let n = Double(rows.count)
    let mean = (0..<width).map { j in rows.reduce(0) { $0 + $1[j] } / n }
    let std = (0..<width).map { j in (rows.reduce(0) { $0 + ($1[j] - mean[j]) * ($1[j] - mean[j]) } / n).squareRoot() }
    return (mean, std)
  }

  func json(methods: [ColdStartMethod]) -> JSONValue {
    let keys = StreamCurveSummary.keys + ["final"]
    var byMethod: [(String, JSONValue)] = []
    for m in methods {
      let (mean, std) = statistics(m)
      var fields: [(String, JSONValue)] = zip(keys, mean).map { ($0, .number($1)) }
      fields.append(("std", .object(zip(keys, std).map { ($0, .number($1)) })))
      byMethod.append((m.rawValue, .object(fields)))
    }
    return .object([("seeds", .array(seeds.map { .number(Double($0)) })), ("methods", .object(byMethod))])
  }

  /// The AUROC after each step, averaged over the seeds.
  func meanCurve(_ m: ColdStartMethod) -> [Double] {
    let all = curves.compactMap { $0[m] }
    guard let steps = all.first?.count else { return [] }
    return (0..<steps).map { t in all.reduce(0) { $0 + $1[t] } / Double(all.count) }
  }
}
