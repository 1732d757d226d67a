import AnomalyKit
import ArgumentParser
import Density
import Foundation
import TensorFiles

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
    let file = try SafeTensorsFile(path: bank)
    let parent = try BankFile.read(file)
    if let refusal = parent.scorer.shardingRefusal { throw CLIError("\(bank): \(refusal)") }
    if parent.shard != nil { throw CLIError("\(bank): this bank is already a shard; split its parent bank instead") }
    guard shards <= parent.count / parent.k else {
      throw CLIError(
        "\(bank): --shards \(shards) is too many for a bank of \(parent.count) rows with k = \(parent.k): each shard must hold "
          + "at least k rows, so use at most \(parent.count / parent.k) shards")
    }
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let stem = URL(fileURLWithPath: bank).deletingPathExtension().lastPathComponent
    let parentSHA256 = file.sha256()
    var written: [String] = []
    do {
      for i in 0..<shards {
        let path = out + "/" + "\(stem).shard-\(i)-of-\(shards).safetensors"
        try OutputPath.check(path, inputs: [bank])
        try BankFile.write(try parent.shard(i, of: shards, parentSHA256: parentSHA256), to: path, toolkitVersion: ToolkitVersion.current)
        written.append(path)
      }
      try ShardSet(parentSHA256: parentSHA256, count: shards, shards: written, metadata: parent.metadata)
        .write(to: out + "/manifest.json")
    } catch {
      // Nothing half-written: a failed split leaves no shard behind.
      for path in written { try? FileManager.default.removeItem(atPath: path) }
      throw error
    }
    warn("wrote \(shards) shards of \(bank) (\(parent.count) rows) and manifest.json to \(out)")
  }
}
