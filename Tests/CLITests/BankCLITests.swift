import Foundation
import Testing

/// `fit`, `score`, `add`, `eval` and `demo` end to end on the bundled demo
/// images, and the bank-side bad inputs.
@Suite("CLI: reference banks")
struct BankCLITests {
  static let demo = CLIRunner.repositoryRoot + "/Examples/demo"

  /// Writes a little-endian float32 .npy of `rows`.
  static func writeNPY(_ rows: [[Float]], to path: String) throws {
    try CLIRunner.write(MalformedFiles.npy(rows: rows.count, columns: rows.first?.count ?? 0, values: rows.flatMap { $0 }), to: path)
  }

  @Test("fit → score (json, csv) → add → eval on the demo images")
  func imageBankRoundTrip() throws {
    let dir = try CLIRunner.temporaryFolder()
    let bank = dir + "/bank.safetensors"
    let fit = try CLIRunner.run(["fit", Self.demo + "/normal", "--resize", "stretch", "--holdout", "0.2", "--out", bank])
    #expect(fit.status == 0, "\(fit.stderr)")
    let score = try CLIRunner.run(["score", "--bank", bank, Self.demo + "/test", "--json"])
    #expect(score.status == 0, "\(score.stderr)")
    #expect(score.stdout.hasPrefix("[{\"path\":"), "\(score.stdout)")
    let scored = try Self.scores(score.stdout)
    // Every defect crop, defect_0 among them, is flagged and scores above
    // every unseen normal crop. (With 10 normals the 1%-FPR threshold is
    // about their largest held-out score, so some unseen normals are
    // flagged too: that is not asserted either way.)
    let defects = scored.filter { ($0.key as NSString).lastPathComponent.hasPrefix("defect") }
    let normals = scored.filter { ($0.key as NSString).lastPathComponent.hasPrefix("ok") }
    #expect(defects.count == 4 && normals.count == 4, "\(scored.keys)")
    #expect(scored[Self.demo + "/test/defect_0.png"]?.anomalous == true, "\(scored)")
    for (path, entry) in defects { #expect(entry.anomalous == true, "\(path): \(entry)") }
    let lowestDefect = defects.values.map(\.score).min() ?? 0
    let highestNormal = normals.values.map(\.score).max() ?? .infinity
    #expect(lowestDefect > highestNormal, "defects \(defects) vs normals \(normals)")
    let csv = try CLIRunner.run(["score", "--bank", bank, Self.demo + "/test/ok_0.png", "--csv"])
    #expect(csv.stdout.hasPrefix("path,score,anomalous\n"))
    let eval = try CLIRunner.run(["eval", "--bank", bank, "--normal", Self.demo + "/test/ok_0.png", Self.demo + "/test/ok_2.png", "--anomalous", Self.demo + "/test/defect_0.png", "--json"])
    #expect(eval.status == 0, "\(eval.stderr)")
    for key in ["\"auroc\":", "\"ap\":", "\"f1\":", "\"fpr_at_95_tpr\":", "\"n_normal\":2", "\"n_anomalous\":1"] {
      #expect(eval.stdout.contains(key), "\(key) missing in \(eval.stdout)")
    }
    let before = try Data(contentsOf: URL(fileURLWithPath: bank))
    let add = try CLIRunner.run(["add", "--bank", bank, Self.demo + "/test/ok_0.png"])
    #expect(add.status == 0, "\(add.stderr)")
    let after = try CLIRunner.run(["info", bank, "--json"])
    #expect(after.stdout.contains("\"count\":\"11\""), "\(after.stdout)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: bank)) != before)
    // The added image is now in the bank: its cosine-kNN score drops to
    // its other neighbour's distance (k = 2: the self-distance 0 plus one).
    let rescored = try CLIRunner.run(["score", "--bank", bank, Self.demo + "/test/ok_0.png", "--json"])
    #expect(rescored.status == 0, "\(rescored.stderr)")
    let beforeAdd = try #require(scored[Self.demo + "/test/ok_0.png"]?.score)
    let afterAdd = try #require(try Self.scores(rescored.stdout)[Self.demo + "/test/ok_0.png"]?.score)
    #expect(afterAdd < 0.75 * beforeAdd, "score of the added image went from \(beforeAdd) to \(afterAdd)")
  }

  /// `score --json` output by path.
  static func scores(_ json: String) throws -> [String: (score: Double, anomalous: Bool?)] {
    let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]], "\(json)")
    var byPath: [String: (score: Double, anomalous: Bool?)] = [:]
    for row in rows {
      let path = try #require(row["path"] as? String)
      byPath[path] = (try #require(row["score"] as? Double), row["anomalous"] as? Bool)
    }
    return byPath
  }

  @Test("a fit too small to cross-fit with the bank's k writes no threshold, and never flags its own normals")
  func smallFitCalibratesWithTheScoringK() throws {
    let dir = try CLIRunner.temporaryFolder()
    // Two images with the default k = 2: each calibration fold keeps one
    // image, so a threshold would have to come from k = 1 scores, about
    // half the size of the bank's k = 2 scores.
    let two = [Self.demo + "/normal/brick_00.png", Self.demo + "/normal/brick_01.png"]
    let bank = dir + "/two.safetensors"
    let fit = try CLIRunner.run(["fit"] + two + ["--resize", "stretch", "--out", bank])
    #expect(fit.status == 0, "\(fit.stderr)")
    #expect(fit.stderr.contains("cannot calibrate a threshold") && fit.stderr.contains("k = 2"), "\(fit.stderr)")
    #expect(fit.stderr.contains("Give at least 3 normal images"), "\(fit.stderr)")
    let score = try CLIRunner.run(["score", "--bank", bank] + two + [Self.demo + "/test/ok_0.png", "--json"])
    #expect(score.status == 0, "\(score.stderr)")
    for (path, entry) in try Self.scores(score.stdout) { #expect(entry.anomalous == nil, "\(path): \(entry)") }

    // Three images leave two per fold, enough for k = 2: a threshold is
    // set, and the training images score below it.
    let three = two + [Self.demo + "/normal/brick_02.png"]
    let bank3 = dir + "/three.safetensors"
    let fit3 = try CLIRunner.run(["fit"] + three + ["--resize", "stretch", "--out", bank3])
    #expect(fit3.status == 0 && !fit3.stderr.contains("cannot calibrate"), "\(fit3.stderr)")
    let score3 = try CLIRunner.run(["score", "--bank", bank3] + three + ["--json"])
    for (path, entry) in try Self.scores(score3.stdout) { #expect(entry.anomalous == false, "\(path): \(entry)") }
  }

  @Test("a patch bank writes one heatmap per image and per-location maps")
  func patchBankHeatmaps() throws {
    let dir = try CLIRunner.temporaryFolder()
    let bank = dir + "/patch.safetensors"
    let fit = try CLIRunner.run(["fit", "--patches", Self.demo + "/normal", "--resize", "stretch", "--coreset", "0.2", "--holdout", "0", "--out", bank])
    #expect(fit.status == 0, "\(fit.stderr)")
    let score = try CLIRunner.run([
      "score", "--bank", bank, Self.demo + "/test/defect_0.png", Self.demo + "/test/ok_0.png", "--heatmaps", dir + "/maps",
      "--maps-out", dir + "/maps.npy", "--json",
    ])
    #expect(score.status == 0, "\(score.stderr)")
    #expect(score.stdout.contains("\"anomalous\":null"))
    #expect(FileManager.default.fileExists(atPath: dir + "/maps/defect_0.heatmap.png"))
    let maps = try Data(contentsOf: URL(fileURLWithPath: dir + "/maps.npy"))
    // The patch-bank default input is 320 px: a 40×40 stage-3 grid per image.
    #expect(maps.count == 128 + 2 * 1600 * 4)
  }

  @Test("demo runs with no arguments and prints a table with a heatmap path")
  func demo() throws {
    let dir = try CLIRunner.temporaryFolder()
    let r = try CLIRunner.run(["demo", "--out", dir])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("defect_0.png") && r.stdout.contains("heatmaps:"))
    #expect(FileManager.default.fileExists(atPath: dir + "/heatmaps/defect_0.heatmap.png"))
    // The defects are flagged and the unseen normal crops are not.
    for line in r.stdout.split(separator: "\n") where line.contains(".png") && !line.contains("heatmaps") {
      #expect(line.contains("defect") == line.contains("ANOMALOUS"), "\(line)")
    }
  }

  @Test("k larger than the bank is refused and nothing is written")
  func kTooLarge() throws {
    let dir = try CLIRunner.temporaryFolder()
    let out = dir + "/bank.safetensors"
    let r = try CLIRunner.run(["fit", Self.demo + "/normal/brick_00.png", Self.demo + "/normal/brick_01.png", "--k", "5", "--out", out])
    #expect(r.status == 1)
    #expect(r.stderr.contains("k = 5"), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
    #expect((try FileManager.default.contentsOfDirectory(atPath: dir)).isEmpty)
  }

  @Test("NaN or Inf in features is refused, naming the row")
  func nonFinite() throws {
    let dir = try CLIRunner.temporaryFolder()
    try Self.writeNPY([[1, 2, 3], [4, .nan, 6], [7, 8, 9]], to: dir + "/nan.npy")
    let r = try CLIRunner.run(["fit", "--from-npy", dir + "/nan.npy", "--out", dir + "/b.safetensors"])
    #expect(r.status == 1)
    #expect(r.stderr.contains("non-finite") && r.stderr.contains("row 1"), "\(r.stderr)")
    try Self.writeNPY([[1, 2, 3], [4, 5, 6], [7, 8, 9]], to: dir + "/ok.npy")
    #expect(try CLIRunner.run(["fit", "--from-npy", dir + "/ok.npy", "--holdout", "0", "--out", dir + "/b.safetensors"]).status == 0)
    try Self.writeNPY([[.infinity, 2, 3]], to: dir + "/inf.npy")
    let s = try CLIRunner.run(["score", "--bank", dir + "/b.safetensors", "--from-npy", dir + "/inf.npy"])
    #expect(s.status == 1)
    #expect(s.stderr.contains(dir + "/inf.npy") && s.stderr.contains("non-finite"), "\(s.stderr)")
  }

  @Test("a bank of another dimension, backbone or weights is refused")
  func mismatchedBanks() throws {
    let dir = try CLIRunner.temporaryFolder()
    try Self.writeNPY([[1, 2, 3], [4, 5, 6], [7, 8, 10]], to: dir + "/f.npy")
    let bank = dir + "/small.safetensors"
    #expect(try CLIRunner.run(["fit", "--from-npy", dir + "/f.npy", "--holdout", "0", "--out", bank]).status == 0)
    try Self.writeNPY([[1, 2, 3, 4]], to: dir + "/q.npy")
    let dim = try CLIRunner.run(["score", "--bank", bank, "--from-npy", dir + "/q.npy"])
    #expect(dim.status == 1)
    #expect(dim.stderr.contains("dimension 4") && dim.stderr.contains("expects 3"), "\(dim.stderr)")
    let external = try CLIRunner.run(["score", "--bank", bank, Self.demo + "/test/ok_0.png"])
    #expect(external.status == 1)
    #expect(external.stderr.contains(bank), "\(external.stderr)")

    // A real image bank, then the same bank with its weights hash altered.
    let image = dir + "/image.safetensors"
    #expect(try CLIRunner.run(["fit", Self.demo + "/normal", "--resize", "stretch", "--holdout", "0", "--out", image]).status == 0)
    var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: image)))
    let needle = Array("611940f5".utf8)
    if let at = (0..<(bytes.count - needle.count)).first(where: { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }) {
      bytes.replaceSubrange(at..<(at + 8), with: Array("00000000".utf8))
    }
    let tampered = dir + "/tampered.safetensors"
    try CLIRunner.write(bytes, to: tampered)
    let r = try CLIRunner.run(["score", "--bank", tampered, Self.demo + "/test/ok_0.png"])
    #expect(r.status == 1)
    #expect(r.stderr.contains("weights_sha256") && r.stderr.contains(tampered), "\(r.stderr)")
    // A weights file is not a bank.
    let w = try CLIRunner.run(["score", "--bank", CLIRunner.weights, Self.demo + "/test/ok_0.png"])
    #expect(w.status == 1)
    #expect(w.stderr.contains("expected 'bank'"), "\(w.stderr)")
  }

  @Test("an --out in a missing folder fails before any work")
  func missingFolder() throws {
    let out = "/no-such-folder-\(UUID().uuidString)/bank.safetensors"
    let r = try CLIRunner.run(["fit", Self.demo + "/normal", "--out", out])
    #expect(r.status == 1)
    #expect(r.stderr.contains(out) && r.stderr.contains("does not exist"), "\(r.stderr)")
  }

  @Test("--seed picks the coreset: the same seed gives the same bank, another seed another, recorded in the bank")
  func coresetSeed() throws {
    let dir = try CLIRunner.temporaryFolder()
    func fit(_ seed: Int, _ name: String) throws -> Data {
      let out = dir + "/" + name
      let r = try CLIRunner.run([
        "fit", "--patches", "--coreset-method", "random", "--holdout", "0", Self.demo + "/normal", "--seed", String(seed), "--out", out,
      ])
      #expect(r.status == 0, "\(r.stderr)")
      return try Data(contentsOf: URL(fileURLWithPath: out))
    }
    let a = try fit(0, "a.safetensors")
    #expect(try fit(0, "b.safetensors") == a)
    #expect(try fit(3, "c.safetensors") != a)
    let info = try CLIRunner.run(["info", dir + "/c.safetensors"])
    #expect(info.stdout.contains("coreset_seed = 3"), "\(info.stdout)")
  }
}
