import AnomalyKit
import Density
import FeatureExtraction
import Foundation
import TensorFiles
import Testing

/// `--precision` end to end: banks and detectors record it, later commands
/// follow it, another precision is refused unless `--allow-mixed-precision`,
/// and a precision whose instructions are missing is refused naming them.
@Suite("CLI: --precision")
struct PrecisionCLITests {
  static let demo = CLIRunner.repositoryRoot + "/Examples/demo"

  @Test("--precision bf16 is refused, naming AVX-512 BF16, when the instructions are off; nothing is written")
  func refusedWithoutInstructions() throws {
    let dir = try CLIRunner.temporaryFolder()
    let env = ["ANOMALYKIT_KERNELS": "avx2"]
    let fit = try CLIRunner.run(
      ["fit", Self.demo + "/normal", "--precision", "bf16", "--out", dir + "/b.safetensors"], environment: env)
    #expect(fit.status == 1 && fit.stderr.contains("--precision bf16 needs AVX-512 BF16"), "\(fit.stderr)")
    #expect(fit.stderr.contains("ANOMALYKIT_KERNELS=avx2"), "\(fit.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/b.safetensors"))
    let adapt = try CLIRunner.run(
      ["adapt", "--class-names", "activate_card,lost_card", "--precision", "bf16", "--out", dir + "/d.safetensors"], environment: env)
    #expect(adapt.status == 1 && adapt.stderr.contains("AVX-512 BF16"), "\(adapt.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/d.safetensors"))
    let bad = try CLIRunner.run(["fit", Self.demo + "/normal", "--precision", "fp16", "--out", dir + "/x.safetensors"])
    #expect(bad.status == 2 && bad.stderr.contains("fp16"), "\(bad.stderr)")
  }

  @Test(
    "an image bank records bf16; score follows it, refuses fp32 unless mixing is allowed",
    .enabled(if: ComputePrecision.bf16.isSupported, "needs AVX-512 BF16"))
  func imageBank() throws {
    let dir = try CLIRunner.temporaryFolder()
    let bf16 = dir + "/bf16.safetensors"
    let fp32 = dir + "/fp32.safetensors"
    #expect(try CLIRunner.run(["fit", Self.demo + "/normal", "--precision", "bf16", "--out", bf16]).status == 0)
    #expect(try CLIRunner.run(["fit", Self.demo + "/normal", "--out", fp32]).status == 0)
    #expect(try SafeTensorsFile(path: bf16).metadata["precision"] == "bf16")
    #expect(try SafeTensorsFile(path: fp32).metadata["precision"] == "fp32")

    let follows = try CLIRunner.run(["score", "--bank", bf16, Self.demo + "/test", "--csv"])
    let explicit = try CLIRunner.run(["score", "--bank", bf16, "--precision", "bf16", Self.demo + "/test", "--csv"])
    let full = try CLIRunner.run(["score", "--bank", fp32, Self.demo + "/test", "--csv"])
    #expect(follows.status == 0 && follows.stdout == explicit.stdout, "\(follows.stderr)")
    #expect(full.status == 0 && full.stdout != follows.stdout, "bf16 and fp32 banks scored identically")
    // The verdicts are those of the float32 bank, image for image.
    let verdicts = { (csv: String) in csv.split(separator: "\n").dropFirst().map { $0.hasSuffix("true") } }
    #expect(verdicts(follows.stdout).count == 8 && verdicts(follows.stdout) == verdicts(full.stdout), "\(follows.stdout)")

    let mixed = try CLIRunner.run(["score", "--bank", bf16, "--precision", "fp32", Self.demo + "/test"])
    #expect(mixed.status == 1, "\(mixed.stdout)")
    #expect(
      mixed.stderr.contains("\(bf16): made with --precision bf16, but this run asks for fp32")
        && mixed.stderr.contains("--allow-mixed-precision"), "\(mixed.stderr)")
    let other = try CLIRunner.run(["add", "--bank", fp32, "--precision", "bf16", Self.demo + "/normal/brick_00.png"])
    #expect(other.status != 0 && other.stderr.contains("made with --precision fp32"), "\(other.stderr)")
    let allowed = try CLIRunner.run(["score", "--bank", bf16, "--precision", "fp32", "--allow-mixed-precision", Self.demo + "/test", "--csv"])
    #expect(allowed.status == 0 && allowed.stdout != follows.stdout, "\(allowed.stderr)")

    // eval --mvtec fits and scores in the precision asked for.
    let root = try SegmentationCLITests.layout()
    let kept = root + "/../bf16-mvtec.safetensors"
    let mvtec = try CLIRunner.run(["eval", "--mvtec", root, "--precision", "bf16", "--json", "--bank-out", kept, "--input-size", "160"])
    #expect(mvtec.status == 0, "\(mvtec.stderr)")
    #expect(try SafeTensorsFile(path: kept).metadata["precision"] == "bf16")
  }

  @Test(
    "a text detector records bf16 and scores in it; the embedding cache keeps precisions apart",
    .enabled(if: ComputePrecision.bf16.isSupported, "needs AVX-512 BF16"))
  func textDetector() throws {
    let dir = try CLIRunner.temporaryFolder()
    let detector = dir + "/d.safetensors"
    let made = try CLIRunner.run(["adapt", "--class-names", "activate_card,exchange_rate,lost_card", "--precision", "bf16", "--out", detector])
    #expect(made.status == 0, "\(made.stderr)")
    #expect(try SafeTensorsFile(path: detector).metadata["precision"] == "bf16")
    let score = try CLIRunner.run(["score", "--detector", detector, "I lost my card", "--json"])
    #expect(score.status == 0 && score.stdout.contains("\"class\":\"lost_card\""), "\(score.stdout) \(score.stderr)")
    let mixed = try CLIRunner.run(["score", "--detector", detector, "--precision", "fp32", "I lost my card"])
    #expect(mixed.status == 1 && mixed.stderr.contains("made with --precision bf16"), "\(mixed.stderr)")
    let allowed = try CLIRunner.run(["score", "--detector", detector, "--precision", "fp32", "--allow-mixed-precision", "I lost my card", "--json"])
    #expect(allowed.status == 0 && allowed.stdout.contains("\"class\":\"lost_card\""), "\(allowed.stderr)")

    // A cache written by a bf16 encoder is not read back for fp32 (or by old files' readers).
    let texts = [TextRecord(text: "I lost my card", origin: "t")]
    let cache = dir + "/cache.safetensors"
    try TextEmbeddingCache.store(FeatureMatrix(rows: 1, columns: 2, values: [1, 2]), to: cache, weightsSHA256: "w", precision: .bf16, texts: texts)
    #expect(TextEmbeddingCache.load(cache, weightsSHA256: "w", precision: .bf16, texts: texts)?.values == [1, 2])
    #expect(TextEmbeddingCache.load(cache, weightsSHA256: "w", precision: .fp32, texts: texts) == nil)
  }
}
