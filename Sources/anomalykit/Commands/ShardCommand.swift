import AnomalyKit
import ArgumentParser
import Foundation

/// `anomalykit shard --bank BANK --shards N --out DIR`: splits a bank into
/// N ordinary bank files and a manifest.
struct ShardCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "shard", abstract: "Split a kNN bank into N shard banks for scoring on several machines.",
    discussion: """
      Writes DIR/STEM.shard-I-of-N.safetensors (contiguous row ranges; each an ordinary bank with shard_index, \
      shard_count, parent_sha256 and shard_row_offset in its metadata) and DIR/manifest.json. Score the same \
      inputs against every shard with 'score --neighbours-out', then 'merge-scores' gives the whole bank's \
      scores and verdicts, bit for bit. knn and cosine-knn banks shard exactly; the others are refused with \
      the reason.
      """)

  @Option(name: .long, help: "The bank to split (written by 'anomalykit fit').")
  var bank: String

  @Option(name: .long, help: "How many shards (each must hold at least k rows).")
  var shards: Int

  @Option(name: .long, help: "Folder for the shard files and manifest.json (created if missing).")
  var out: String

  @OptionGroup var limits: LimitOptions

  func validate() throws {
    guard shards >= 1 else { throw ValidationError("--shards must be at least 1") }
  }

  func run() throws {
    let set = try ShardSet.split(bank: URL(fileURLWithPath: bank), into: shards, folder: URL(fileURLWithPath: out))
    warn("wrote \(set.count) shards of \(bank) and manifest.json to \(out)")
  }
}
