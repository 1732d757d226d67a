import Foundation
import Testing

/// `shard`, `fit --shard`, `score --neighbours-out` and `merge-scores` end
/// to end: merged shard scores print exactly what scoring the whole bank
/// prints, and bad shard sets are refused naming the files.
@Suite("CLI: sharded banks")
struct ShardCLITests {
  static let demo = BankCLITests.demo

  /// Scores `inputs` against each shard and merges; returns merge-scores' result.
  static func scoreSharded(_ shards: [String], inputs: [String], meta: String, dir: String, extra: [String] = []) throws -> CLIRunner.Result {
    var files: [String] = []
    for (i, shard) in shards.enumerated() {
      let out = dir + "/n\(i)-\(UUID().uuidString.prefix(6)).npy"
      let r = try CLIRunner.run(["score", "--bank", shard] + inputs + ["--neighbours-out", out, "--threads", "1"])
      #expect(r.status == 0, "\(r.stderr)")
      files.append(out)
    }
    return try CLIRunner.run(["merge-scores"] + files.reversed() + ["--bank-meta", meta] + extra)
  }

  @Test("a patch bank split in 2 and 3 shards scores the demo images exactly as the whole bank")
  func patchBankShards() throws {
    let dir = try CLIRunner.temporaryFolder()
    let bank = dir + "/patch.safetensors"
    let fit = try CLIRunner.run(["fit", "--patches", Self.demo + "/normal", "--coreset", "0.05", "--holdout", "0.2", "--out", bank])
    #expect(fit.status == 0, "\(fit.stderr)")
    let whole = try CLIRunner.run(["score", "--bank", bank, Self.demo + "/test", "--csv"])
    #expect(whole.status == 0 && whole.stdout.contains("true"), "\(whole.stderr)\n\(whole.stdout)")
    for n in [2, 3] {
      let out = dir + "/shards\(n)"
      let split = try CLIRunner.run(["shard", "--bank", bank, "--shards", String(n), "--out", out])
      #expect(split.status == 0, "\(split.stderr)")
      let shards = (0..<n).map { out + "/patch.shard-\($0)-of-\(n).safetensors" }
      let merged = try Self.scoreSharded(shards, inputs: [Self.demo + "/test"], meta: out + "/manifest.json", dir: dir, extra: ["--csv"])
      #expect(merged.status == 0, "\(merged.stderr)")
      #expect(merged.stdout == whole.stdout, "\(n) shards:\n\(merged.stdout)\nwhole:\n\(whole.stdout)")
      // Any shard, or the parent bank, stands in for the manifest.
      let viaShard = try Self.scoreSharded(shards, inputs: [Self.demo + "/test"], meta: shards[1], dir: dir, extra: ["--csv"])
      #expect(viaShard.stdout == whole.stdout)
      let info = try CLIRunner.run(["info", shards[0], "--json"])
      for key in ["\"shard_index\":\"0\"", "\"shard_count\":\"\(n)\"", "\"parent_sha256\":"] { #expect(info.stdout.contains(key), "\(key)") }
    }
    // A whole bank answers as a set of one.
    let one = try Self.scoreSharded([bank], inputs: [Self.demo + "/test"], meta: bank, dir: dir, extra: ["--csv"])
    #expect(one.stdout == whole.stdout)
  }

  @Test("features extracted once (--features-out) answer every shard (--from-features) exactly; another recipe's are refused")
  func featuresOnce() throws {
    let dir = try CLIRunner.temporaryFolder()
    let bank = dir + "/patch.safetensors"
    #expect(try CLIRunner.run(["fit", "--patches", Self.demo + "/normal", "--coreset", "0.05", "--holdout", "0.2", "--out", bank]).status == 0)
    let whole = try CLIRunner.run(["score", "--bank", bank, Self.demo + "/test", "--csv"])
    #expect(try CLIRunner.run(["shard", "--bank", bank, "--shards", "2", "--out", dir + "/s"]).status == 0)
    let shards = (0..<2).map { dir + "/s/patch.shard-\($0)-of-2.safetensors" }
    let features = dir + "/features.safetensors"
    let extract = try CLIRunner.run(["score", "--bank", shards[1], Self.demo + "/test", "--features-out", features])
    #expect(extract.status == 0, "\(extract.stderr)")
    var files: [String] = []
    for (i, shard) in shards.enumerated() {
      let out = dir + "/f\(i).npy"
      let r = try CLIRunner.run(["score", "--bank", shard, "--from-features", features, "--neighbours-out", out])
      #expect(r.status == 0, "\(r.stderr)")
      files.append(out)
    }
    let merged = try CLIRunner.run(["merge-scores"] + files + ["--bank-meta", dir + "/s/manifest.json", "--csv"])
    #expect(merged.stdout == whole.stdout, "\(merged.stdout)\nwhole:\n\(whole.stdout)")

    let imageBank = dir + "/image.safetensors"
    #expect(try CLIRunner.run(["fit", Self.demo + "/normal", "--holdout", "0", "--out", imageBank]).status == 0)
    let wrong = try CLIRunner.run(["score", "--bank", imageBank, "--from-features", features, "--neighbours-out", dir + "/w.npy"])
    #expect(wrong.status == 1 && wrong.stderr.contains(features) && wrong.stderr.contains(imageBank), "\(wrong.stderr)")
    let usage = try CLIRunner.run(["score", "--bank", bank, "--from-features", features, "--csv"])
    #expect(usage.status == 2 && usage.stderr.contains("--from-features needs --neighbours-out"), "\(usage.stderr)")
  }

  @Test("fit --shard i/N over feature rows merges to the whole fit's scores; held-out normals calibrate a threshold")
  func shardedFit() throws {
    let dir = try CLIRunner.temporaryFolder()
    // Normals around one direction; the last query points the other way.
    var rng = SystemRandomNumberGenerator()
    let centre = (0..<24).map { _ in Float.random(in: -1...1, using: &rng) }
    let rows = (0..<90).map { _ in centre.map { $0 + Float.random(in: -0.3...0.3, using: &rng) } }
    let normals = dir + "/normals.npy"
    let queries = dir + "/queries.npy"
    try BankCLITests.writeNPY(Array(rows[0..<60]), to: normals)
    try BankCLITests.writeNPY(Array(rows[60..<90]) + [centre.map { -$0 }], to: queries)
    let whole = dir + "/whole.safetensors"
    #expect(try CLIRunner.run(["fit", "--from-npy", normals, "--holdout", "0", "--out", whole]).status == 0)
    let expected = try CLIRunner.run(["score", "--bank", whole, "--from-npy", queries, "--csv"])
    var shards: [String] = []
    for i in 0..<3 {
      let out = dir + "/fit-\(i).safetensors"
      let r = try CLIRunner.run(["fit", "--from-npy", normals, "--shard", "\(i)/3", "--out", out])
      #expect(r.status == 0, "\(r.stderr)")
      shards.append(out)
    }
    let merged = try Self.scoreSharded(shards, inputs: ["--from-npy", queries], meta: shards[0], dir: dir, extra: ["--csv"])
    #expect(merged.status == 0, "\(merged.stderr)")
    #expect(merged.stdout == expected.stdout)

    // Calibrate on held-out normals (the queries' first 30 rows), then the
    // manifest gives verdicts: the far-away row is flagged.
    let heldOut = dir + "/held.npy"
    try BankCLITests.writeNPY(Array(rows[60..<90]), to: heldOut)
    let manifest = dir + "/manifest.json"
    let calibrate = try Self.scoreSharded(
      shards, inputs: ["--from-npy", heldOut], meta: shards[2], dir: dir, extra: ["--calibrate-fpr", "0.1", "--manifest-out", manifest])
    #expect(calibrate.status == 0 && calibrate.stderr.contains("threshold"), "\(calibrate.stderr)")
    let verdicts = try Self.scoreSharded(shards, inputs: ["--from-npy", queries], meta: manifest, dir: dir, extra: ["--json"])
    let scored = try BankCLITests.scores(verdicts.stdout)
    #expect(scored[queries + "#30"]?.anomalous == true, "\(verdicts.stdout)")
    #expect(scored.values.filter { $0.anomalous == true }.count <= 6, "\(verdicts.stdout)")
    let text = try String(contentsOfFile: manifest, encoding: .utf8)
    #expect(text.contains("\"threshold_method\":\"held-out quantile\"") && text.contains("fit-0.safetensors"), "\(text)")
  }

  @Test("bad shard sets, shard counts and sharded fits are refused, naming the files")
  func refusals() throws {
    let dir = try CLIRunner.temporaryFolder()
    let normals = dir + "/normals.npy"
    try BankCLITests.writeNPY((0..<10).map { r in (0..<4).map { Float(r * 4 + $0) } }, to: normals)
    let bank = dir + "/bank.safetensors"
    #expect(try CLIRunner.run(["fit", "--from-npy", normals, "--holdout", "0", "--out", bank]).status == 0)

    let tooMany = try CLIRunner.run(["shard", "--bank", bank, "--shards", "6", "--out", dir + "/s"])
    #expect(tooMany.status == 1 && tooMany.stderr.contains("use at most 5 shards") && tooMany.stderr.contains(bank), "\(tooMany.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/s/bank.shard-0-of-6.safetensors"))

    let gaussian = dir + "/gaussian.safetensors"
    #expect(try CLIRunner.run(["fit", "--from-npy", normals, "--scorer", "gaussian", "--holdout", "0", "--out", gaussian]).status == 0)
    let refused = try CLIRunner.run(["shard", "--bank", gaussian, "--shards", "2", "--out", dir + "/g"])
    #expect(refused.status == 1 && refused.stderr.contains("needs no shards"), "\(refused.stderr)")
    let refusedNeighbours = try CLIRunner.run(["score", "--bank", gaussian, "--from-npy", normals, "--neighbours-out", dir + "/g.npy"])
    #expect(refusedNeighbours.status == 1 && refusedNeighbours.stderr.contains(gaussian), "\(refusedNeighbours.stderr)")

    #expect(try CLIRunner.run(["shard", "--bank", bank, "--shards", "2", "--out", dir + "/a"]).status == 0)
    let other = dir + "/other.safetensors"
    #expect(try CLIRunner.run(["fit", "--from-npy", normals, "--k", "1", "--holdout", "0", "--out", other]).status == 0)
    #expect(try CLIRunner.run(["shard", "--bank", other, "--shards", "2", "--out", dir + "/b"]).status == 0)
    func neighbours(_ shard: String, _ name: String) throws -> String {
      let out = dir + "/" + name
      let r = try CLIRunner.run(["score", "--bank", shard, "--from-npy", normals, "--neighbours-out", out])
      #expect(r.status == 0, "\(r.stderr)")
      return out
    }
    let a0 = try neighbours(dir + "/a/bank.shard-0-of-2.safetensors", "a0.npy")
    let a1 = try neighbours(dir + "/a/bank.shard-1-of-2.safetensors", "a1.npy")
    let b1 = try neighbours(dir + "/b/other.shard-1-of-2.safetensors", "b1.npy")

    let mixed = try CLIRunner.run(["merge-scores", a0, b1, "--bank-meta", dir + "/a/manifest.json"])
    #expect(mixed.status == 1 && mixed.stderr.contains(b1) && mixed.stderr.contains("another") == false, "\(mixed.stderr)")
    #expect(mixed.stderr.contains("merge neighbour files of one bank's shards"), "\(mixed.stderr)")
    let missing = try CLIRunner.run(["merge-scores", a1, "--bank-meta", dir + "/a/manifest.json"])
    #expect(missing.status == 1 && missing.stderr.contains("missing shard(s) 0 of 2") && missing.stderr.contains(a1), "\(missing.stderr)")
    let twice = try CLIRunner.run(["merge-scores", a1, a1, "--bank-meta", bank])
    #expect(twice.status == 1 && twice.stderr.contains("both answer shard 1"), "\(twice.stderr)")
    let wrongMeta = try CLIRunner.run(["merge-scores", a0, a1, "--bank-meta", other])
    #expect(wrongMeta.status == 1 && wrongMeta.stderr.contains(a0), "\(wrongMeta.stderr)")
    try FileManager.default.removeItem(atPath: dir + "/a1.rows.npy")
    let noRows = try CLIRunner.run(["merge-scores", a0, a1, "--bank-meta", bank])
    #expect(noRows.status == 1 && noRows.stderr.contains("a1.rows.npy"), "\(noRows.stderr)")

    let greedy = try CLIRunner.run(["fit", "--from-npy", normals, "--shard", "0/2", "--coreset", "0.5", "--coreset-method", "greedy", "--out", dir + "/x.safetensors"])
    #expect(greedy.status == 1 && greedy.stderr.contains("cannot use the greedy coreset"), "\(greedy.stderr)")
    let holdout = try CLIRunner.run(["fit", "--from-npy", normals, "--shard", "0/2", "--holdout", "0.2", "--out", dir + "/x.safetensors"])
    #expect(holdout.status == 2 && holdout.stderr.contains("--calibrate-fpr"), "\(holdout.stderr)")
    let badShard = try CLIRunner.run(["fit", "--from-npy", normals, "--shard", "2/2", "--out", dir + "/x.safetensors"])
    #expect(badShard.status == 2 && badShard.stderr.contains("i/N"), "\(badShard.stderr)")
  }

  @Test("--threads 1 scores the same bits as every core")
  func threadsOption() throws {
    let dir = try CLIRunner.temporaryFolder()
    let bank = dir + "/bank.safetensors"
    #expect(try CLIRunner.run(["fit", Self.demo + "/normal", "--holdout", "0", "--out", bank]).status == 0)
    let all = try CLIRunner.run(["score", "--bank", bank, Self.demo + "/test", "--csv"])
    let one = try CLIRunner.run(["score", "--bank", bank, Self.demo + "/test", "--csv", "--threads", "1"])
    #expect(one.status == 0 && one.stdout == all.stdout, "\(one.stderr)")
    let zero = try CLIRunner.run(["score", "--bank", bank, Self.demo + "/test", "--threads", "0"])
    #expect(zero.status == 2 && zero.stderr.contains("--threads must be at least 1"))
  }
}
