import AnomalyKit
import ArgumentParser
import Density
import Foundation

/// `anomalykit merge-scores F1 F2 … --bank-meta BANK`: the whole bank's
/// scores from one neighbour file per shard.
struct MergeScoresCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "merge-scores", abstract: "Merge per-shard neighbour files into the whole bank's scores and verdicts.",
    discussion: """
      Give one file written by 'score --bank SHARD --neighbours-out F' per shard, for the same inputs. The k \
      nearest over all shards are the k smallest of each shard's k nearest, so the merged scores equal \
      scoring the whole bank, bit for bit. --bank-meta is the shards' manifest.json, the parent bank, or any \
      shard: it gives the threshold and patch pooling, and must belong to the same bank as the files. \
      Output is score's (table, --json or --csv), in input order.
      """)

  @Argument(help: "Neighbour files (.npy, with their .rows.npy and .json beside them), one per shard.")
  var files: [String] = []

  @Option(name: .customLong("bank-meta"), help: "The shard set's manifest.json, the parent bank, or one of its shards.")
  var bankMeta: String

  @Flag(help: "Print a JSON array.")
  var json = false

  @Flag(help: "Print CSV (path,score,anomalous).")
  var csv = false

  @Option(name: .customLong("calibrate-fpr"), help: "The inputs are held-out normal images: set the threshold to the (1 − FPR) quantile of their merged scores and write the manifest with it to --manifest-out.")
  var calibrateFPR: Double?

  @Option(name: .customLong("manifest-out"), help: "Where --calibrate-fpr writes the shard manifest (.json).")
  var manifestOut: String?

  func validate() throws {
    guard !files.isEmpty else { throw ValidationError("give one neighbour file per shard") }
    guard !(json && csv) else { throw ValidationError("--json and --csv are exclusive") }
    guard (calibrateFPR == nil) == (manifestOut == nil) else { throw ValidationError("--calibrate-fpr and --manifest-out go together") }
    if let f = calibrateFPR, !(f > 0 && f < 1) { throw ValidationError("--calibrate-fpr must be in (0, 1)") }
    if let m = manifestOut, !m.hasSuffix(".json") { throw ValidationError("--manifest-out must end in .json") }
  }

  func run() throws {
    var set = try ShardSet(bankMeta: bankMeta)
    let neighbourFiles = try files.map { try NeighbourFile.read(path: $0) }
    var results = try set.merge(neighbourFiles, paths: files)
    if let fpr = calibrateFPR, let out = manifestOut {
      if set.shards.count != set.count {
        set.shards = (0..<set.count).map { i in neighbourFiles.first { $0.shard.index == i }?.bank ?? "" }
      }
      set = try set.calibrated(scores: results.map(\.score), fpr: fpr)
      try set.write(to: out)
      let t = set.threshold ?? .nan
      results = results.map { ImageScore(path: $0.path, score: $0.score, anomalous: $0.score > t, map: nil, gridHeight: 1, gridWidth: 1) }
      warn("wrote \(out): threshold \(String(format: "%.6g", t)) at FPR \(fpr) from \(results.count) held-out normal scores")
    }
    ScoreOutput.print(results, json: json, csv: csv)
  }
}
