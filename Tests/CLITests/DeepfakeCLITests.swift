import Foundation
import Testing

/// Real-only forensic banks end to end: `fit --preset deepfake`, residual
/// pixel patches, `--harmonize-jpeg` carried from fit to score, and the
/// option combinations that are refused.
@Suite("CLI: deepfake banks")
struct DeepfakeCLITests {
  static let demo = CLIRunner.repositoryRoot + "/Examples/demo"

  @Test("--preset deepfake writes its recipe into the bank and scores per 8×8 block")
  func presetBank() throws {
    let dir = try CLIRunner.temporaryFolder()
    let bank = dir + "/real.safetensors"
    let fit = try CLIRunner.run(["fit", "--preset", "deepfake", Self.demo + "/normal", "--holdout", "0", "--coreset", "0.05", "--out", bank])
    #expect(fit.status == 0, "\(fit.stderr)")
    let info = try CLIRunner.run(["info", bank, "--json"])
    for pair in [
      "\"patch_stages\":\"1,2,3\"", "\"patch_grid\":\"coarsest\"", "\"harmonize_jpeg\":\"90\"", "\"resize\":\"native\"",
      "\"input_size\":\"256\"", "\"patch_pooling\":\"mean\"", "\"coreset_method\":\"random\"",
    ] {
      #expect(info.stdout.contains(pair), "\(pair) missing in \(info.stdout)")
    }
    let score = try CLIRunner.run([
      "score", "--bank", bank, Self.demo + "/test/ok_0.png", Self.demo + "/test/defect_0.png", "--json", "--maps-out", dir + "/maps.npy",
    ])
    #expect(score.status == 0, "\(score.stderr)")
    // 256 px input → stage 3 is 32×32: 1024 locations per image, float32, after a 128-byte .npy header.
    let size = try FileManager.default.attributesOfItem(atPath: dir + "/maps.npy")[.size] as? Int
    #expect(size == 128 + 2 * 1024 * 4)
  }

  @Test("Residual pixel patches with JPEG-75 harmonisation")
  func residualBank() throws {
    let dir = try CLIRunner.temporaryFolder()
    let bank = dir + "/npr.safetensors"
    let fit = try CLIRunner.run([
      "fit", "--residual", "npr", "--patch-size", "8", "--harmonize-jpeg", "75", "--resize", "native", "--input-size", "64",
      Self.demo + "/normal", "--holdout", "0", "--coreset", "0.2", "--out", bank,
    ])
    #expect(fit.status == 0, "\(fit.stderr)")
    let info = try CLIRunner.run(["info", bank, "--json"])
    for pair in ["\"patch_residual\":\"npr\"", "\"patch_size\":\"8\"", "\"harmonize_jpeg\":\"75\"", "\"dimension\":\"192\""] {
      #expect(info.stdout.contains(pair), "\(pair) missing in \(info.stdout)")
    }
    let score = try CLIRunner.run(["score", "--bank", bank, Self.demo + "/test", "--csv"])
    #expect(score.status == 0, "\(score.stderr)")
    let images = try FileManager.default.contentsOfDirectory(atPath: Self.demo + "/test").filter { $0.hasSuffix(".png") }
    #expect(score.stdout.split(separator: "\n").count == 1 + images.count)
  }

  @Test("Refused combinations exit 2 with a reason", arguments: [
    (["--harmonize-jpeg", "0"], "--harmonize-jpeg"),
    (["--residual", "npr", "--patch-grid", "coarsest"], "--patch-grid"),
    (["--residual", "npr", "--stage", "3"], "--stage and --residual"),
    (["--patch-size", "8"], "--patch-size"),
    (["--residual", "sobel"], "sobel"),
  ])
  func refused(extra: [String], mention: String) throws {
    let dir = try CLIRunner.temporaryFolder()
    let run = try CLIRunner.run(["fit", Self.demo + "/normal", "--out", dir + "/x.safetensors"] + extra)
    #expect(run.status == 2, "\(extra): \(run.stderr)")
    #expect(run.stderr.contains(mention), "\(extra): \(run.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/x.safetensors"))
  }
}
