import Foundation
import Testing

/// `deepfake fit` / `deepfake score` end to end: the JSON a trust-and-safety
/// pipeline reads, the threshold set on reals only, and the refusals.
@Suite("CLI: real-only deepfake detector")
struct DeepfakeDetectorCLITests {
  static let demo = CLIRunner.repositoryRoot + "/Examples/demo"

  @Test("fit on reals, then score: per-cue JSON, a verdict at the reals' threshold, heatmaps of the crop")
  func fitAndScore() throws {
    let dir = try CLIRunner.temporaryFolder()
    let detector = dir + "/real.safetensors"
    let fit = try CLIRunner.run(["deepfake", "fit", Self.demo + "/normal", "--out", detector, "--fpr", "0.1"])
    #expect(fit.status == 0, "\(fit.stderr)")
    #expect(fit.stderr.contains("10 real images"))
    let info = try CLIRunner.run(["info", detector, "--json"])
    for pair in ["\"recipe\":\"real-only-cues/1\"", "\"harmonize_jpeg\":\"90\"", "\"readings\":\"noise:lower,minder_pool:upper\""] {
      #expect(info.stdout.contains(pair), "\(pair) missing in \(info.stdout)")
    }
    let images = [Self.demo + "/test/ok_0.png", CLIRunner.fixture("deepfake/upsampled96.png")]
    let score = try CLIRunner.run(["deepfake", "score", "--bank", detector, "--json"] + images)
    #expect(score.status == 0, "\(score.stderr)")
    let doc = try JSONSerialization.jsonObject(with: Data(score.stdout.utf8)) as? [[String: Any]]
    let rows = try #require(doc)
    #expect(rows.count == 2)
    for row in rows {
      let cues = try #require(row["cues"] as? [String: [String: Any]])
      #expect(Set(cues.keys) == ["noise", "minder_pool"])
      // The fused score is Fisher's sum of the per-cue evidence.
      let sum = cues.values.compactMap { $0["evidence"] as? Double }.reduce(0, +)
      let fused = try #require(row["score"] as? Double)
      #expect(abs(sum - fused) < 1e-6 * max(1, fused))
      let threshold = try #require(row["threshold"] as? Double)
      #expect((row["generated"] as? Bool) == (fused > threshold))
    }
    #expect(rows[1]["crop"] as? Double == 96)

    // Heatmaps need a stage-3 cue; the default detector has none and says so.
    let noMaps = try CLIRunner.run(["deepfake", "score", "--bank", detector, "--heatmaps", dir + "/maps"] + images)
    #expect(noMaps.status == 1 && noMaps.stderr.contains("rigid_s3"), "\(noMaps.stderr)")
    let mapped = dir + "/mapped.safetensors"
    let fit3 = try CLIRunner.run(["deepfake", "fit", Self.demo + "/normal", "--out", mapped, "--cues", "noise:lower,rigid_s3:lower,minder_s3:lower"])
    #expect(fit3.status == 0, "\(fit3.stderr)")
    let withMaps = try CLIRunner.run(["deepfake", "score", "--bank", mapped, "--heatmaps", dir + "/maps"] + images)
    #expect(withMaps.status == 0, "\(withMaps.stderr)")
    let maps = try FileManager.default.contentsOfDirectory(atPath: dir + "/maps").sorted()
    #expect(maps == ["ok_0.heatmap.png", "upsampled96.heatmap.png"])

    // --fpr at score time recomputes the threshold from the stored reals.
    let strict = try CLIRunner.run(["deepfake", "score", "--bank", detector, "--json", "--fpr", "0.5"] + images)
    #expect(strict.status == 0 && strict.stdout.contains("\"fpr\":0.5"), "\(strict.stderr)")
  }

  @Test("--tiny-ladeda adds its mean logit as the default cue, equal to `deepfake tiny-ladeda`'s logit; scoring without the weights is refused")
  func tinyLaDeDaCue() throws {
    let dir = try CLIRunner.temporaryFolder()
    let weights = CLIRunner.fixture("tiny-ladeda/random-weights.safetensors")
    let detector = dir + "/tl.safetensors"
    let fit = try CLIRunner.run(["deepfake", "fit", Self.demo + "/normal", "--out", detector, "--tiny-ladeda", weights])
    #expect(fit.status == 0, "\(fit.stderr)")
    #expect(fit.stderr.contains("cues tiny_ladeda:upper"), "\(fit.stderr)")
    let image = Self.demo + "/test/defect_0.png"
    let score = try CLIRunner.run(["deepfake", "score", "--bank", detector, "--tiny-ladeda", weights, "--json", image])
    #expect(score.status == 0, "\(score.stderr)")
    let tiny = try CLIRunner.run(["deepfake", "tiny-ladeda", "--weights", weights, "--harmonize-jpeg", "90", "--json", image])
    let cue = try #require(
      ((try JSONSerialization.jsonObject(with: Data(score.stdout.utf8)) as? [[String: Any]])?.first?["cues"] as? [String: [String: Any]])?[
        "tiny_ladeda"]?["value"] as? Double)
    let logit = try #require((try JSONSerialization.jsonObject(with: Data(tiny.stdout.utf8)) as? [[String: Any]])?.first?["logit"] as? Double)
    #expect(abs(cue - logit) < 1e-6, "\(cue) vs \(logit)")
    let missing = try CLIRunner.run(["deepfake", "score", "--bank", detector, image])
    #expect(missing.status == 1 && missing.stderr.contains("--tiny-ladeda"), "\(missing.stderr)")
  }

  @Test("A bank from `fit` is refused with both recipes named; small images and too few reals are refused by name")
  func refusals() throws {
    let dir = try CLIRunner.temporaryFolder()
    let bank = dir + "/bank.safetensors"
    let fit = try CLIRunner.run(["fit", "--preset", "deepfake", Self.demo + "/normal", "--holdout", "0", "--coreset", "0.05", "--out", bank])
    #expect(fit.status == 0, "\(fit.stderr)")
    let wrong = try CLIRunner.run(["deepfake", "score", "--bank", bank, Self.demo + "/test/ok_0.png"])
    #expect(wrong.status == 1 && wrong.stdout.isEmpty)
    #expect(wrong.stderr.contains("reference bank") && wrong.stderr.contains("real-only-cues/1"), "\(wrong.stderr)")

    let few = try CLIRunner.run(["deepfake", "fit", Self.demo + "/normal/brick_00.png", "--out", dir + "/few.safetensors"])
    #expect(few.status == 1 && few.stderr.contains("at least 8"), "\(few.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/few.safetensors"))

    let detector = dir + "/real.safetensors"
    _ = try CLIRunner.run(["deepfake", "fit", Self.demo + "/normal", "--out", detector, "--cues", "noise:lower,period2:two"])
    let small = dir + "/small.png"
    try Data(MalformedFiles.png(width: 40, height: 300)).write(to: URL(fileURLWithPath: small))
    let refused = try CLIRunner.run(["deepfake", "score", "--bank", detector, small])
    #expect(refused.status == 1 && refused.stderr.contains(small) && refused.stderr.contains("64×64"), "\(refused.stderr)")

    let badCue = try CLIRunner.run(["deepfake", "fit", Self.demo + "/normal", "--out", dir + "/x.safetensors", "--cues", "noise:sideways"])
    #expect(badCue.status != 0 && badCue.stderr.contains("noise:sideways"))
  }
}
