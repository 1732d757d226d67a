import AnomalyKit
import Density
import FeatureExtraction
import Foundation
import TensorFiles
import Testing

/// `--precision int8` end to end: a fit calibrates on its images and records
/// the ranges with the precision; later commands quantise with those ranges;
/// text detectors need no ranges (per-row codes) and record the precision;
/// another precision, a file without ranges, damaged ranges and a CPU
/// without VNNI are refused, naming the file or the instructions.
@Suite("CLI: --precision int8")
struct Int8CLITests {
  static let demo = CLIRunner.repositoryRoot + "/Examples/demo"

  @Test("int8 is refused, naming AVX-512 VNNI, when the instructions are off, and where nothing is calibrated; nothing is written")
  func refusals() throws {
    let dir = try CLIRunner.temporaryFolder()
    let fit = try CLIRunner.run(
      ["fit", Self.demo + "/normal", "--precision", "int8", "--out", dir + "/b.safetensors"], environment: ["ANOMALYKIT_KERNELS": "avx2"])
    #expect(fit.status == 1 && fit.stderr.contains("--precision int8 needs AVX-512 VNNI"), "\(fit.stderr)")
    #expect(fit.stderr.contains("ANOMALYKIT_KERNELS=avx2"), "\(fit.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/b.safetensors"))
    let text = try CLIRunner.run(
      ["adapt", "--class-names", "activate_card,lost_card", "--precision", "int8", "--out", dir + "/d.safetensors"],
      environment: ["ANOMALYKIT_KERNELS": "avx2"])
    #expect(text.status == 1 && text.stderr.contains("--precision int8 needs AVX-512 VNNI"), "\(text.stderr)")
    let image = try CLIRunner.run(["adapt", "--imagenet-classes", "brick", "--precision", "int8", "--out", dir + "/i.safetensors"])
    #expect(image.status == 1 && image.stderr.contains("not available for cold-start image detectors"), "\(image.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/d.safetensors") && !FileManager.default.fileExists(atPath: dir + "/i.safetensors"))
  }

  @Test(
    "an int8 bank records its ranges; score follows them, with the float32 bank's verdicts; mixing and damaged ranges are refused",
    .enabled(if: ComputePrecision.int8.isSupported, "needs AVX-512 VNNI"))
  func imageBank() throws {
    let dir = try CLIRunner.temporaryFolder()
    let int8 = dir + "/int8.safetensors"
    let fp32 = dir + "/fp32.safetensors"
    let made = try CLIRunner.run(["fit", Self.demo + "/normal", "--precision", "int8", "--out", int8])
    #expect(made.status == 0, "\(made.stderr)")
    #expect(try CLIRunner.run(["fit", Self.demo + "/normal", "--out", fp32]).status == 0)
    let metadata = try SafeTensorsFile(path: int8).metadata
    #expect(metadata["precision"] == "int8")
    let ranges = try #require(try Int8Calibration(metadata: metadata, path: int8))
    #expect(ranges.ranges.count == 33 && ranges.ranges[1] == 0...6, "\(ranges.metadataValue)")  // the first expansion reads ReLU6 output

    let follows = try CLIRunner.run(["score", "--bank", int8, Self.demo + "/test", "--csv"])
    let explicit = try CLIRunner.run(["score", "--bank", int8, "--precision", "int8", Self.demo + "/test", "--csv"])
    let full = try CLIRunner.run(["score", "--bank", fp32, Self.demo + "/test", "--csv"])
    #expect(follows.status == 0 && follows.stdout == explicit.stdout, "\(follows.stderr)")
    #expect(full.status == 0 && full.stdout != follows.stdout, "int8 and fp32 banks scored identically")
    let verdicts = { (csv: String) in csv.split(separator: "\n").dropFirst().map { $0.hasSuffix("true") } }
    #expect(verdicts(follows.stdout).count == 8 && verdicts(follows.stdout) == verdicts(full.stdout), "\(follows.stdout)")

    let mixed = try CLIRunner.run(["score", "--bank", int8, "--precision", "fp32", Self.demo + "/test"])
    #expect(mixed.status == 1 && mixed.stderr.contains("\(int8): made with --precision int8, but this run asks for fp32"), "\(mixed.stderr)")
    let uncalibrated = try CLIRunner.run(
      ["score", "--bank", fp32, "--precision", "int8", "--allow-mixed-precision", Self.demo + "/test"])
    #expect(
      uncalibrated.status == 1 && uncalibrated.stderr.contains("\(fp32): --precision int8 needs the activation ranges"), "\(uncalibrated.stderr)")

    // Damage one range in place (same length, so the header stays valid).
    var bytes = try Data(contentsOf: URL(fileURLWithPath: int8))
    let good = Data(" 0.0:6.0 ".utf8)
    let range = try #require(bytes.range(of: good))
    bytes.replaceSubrange(range, with: Data(" 0.0:6.x ".utf8))
    let damaged = dir + "/damaged.safetensors"
    try bytes.write(to: URL(fileURLWithPath: damaged))
    let bad = try CLIRunner.run(["score", "--bank", damaged, Self.demo + "/test"])
    #expect(bad.status == 1 && bad.stderr.contains("\(damaged): bad int8 calibration") && bad.stderr.contains("0.0:6.x"), "\(bad.stderr)")
  }

  @Test(
    "the shards of a sharded int8 fit share the whole input list's calibration; embed calibrates on its inputs",
    .enabled(if: ComputePrecision.int8.isSupported, "needs AVX-512 VNNI"))
  func shardsAndEmbed() throws {
    let dir = try CLIRunner.temporaryFolder()
    var recorded: [String?] = []
    for i in 0..<2 {
      let out = dir + "/s\(i).safetensors"
      let r = try CLIRunner.run(["fit", Self.demo + "/normal", "--precision", "int8", "--shard", "\(i)/2", "--out", out])
      #expect(r.status == 0, "\(r.stderr)")
      recorded.append(try SafeTensorsFile(path: out).metadata[Int8Calibration.metadataKey])
    }
    let whole = dir + "/whole.safetensors"
    #expect(try CLIRunner.run(["fit", Self.demo + "/normal", "--precision", "int8", "--out", whole]).status == 0)
    let expected = try SafeTensorsFile(path: whole).metadata[Int8Calibration.metadataKey]
    #expect(expected != nil && recorded == [expected, expected])

    let embedded = dir + "/e.npy"
    let embed = try CLIRunner.run(["embed", Self.demo + "/normal", "--precision", "int8", "--out", embedded])
    #expect(embed.status == 0 && FileManager.default.fileExists(atPath: embedded), "\(embed.stderr)")
  }

  @Test(
    "a text detector records int8 (no ranges) and scores in it: the lost-card query nearest its class, the off-topic one further; mixing and VNNI off are refused; caches keep int8 apart",
    .enabled(if: ComputePrecision.int8.isSupported, "needs AVX-512 VNNI"))
  func textDetector() throws {
    let dir = try CLIRunner.temporaryFolder()
    let detector = dir + "/d.safetensors"
    let made = try CLIRunner.run(["adapt", "--class-names", "activate_card,exchange_rate,lost_card", "--precision", "int8", "--out", detector])
    #expect(made.status == 0, "\(made.stderr)")
    let metadata = try SafeTensorsFile(path: detector).metadata
    #expect(metadata["precision"] == "int8" && metadata[Int8Calibration.metadataKey] == nil)
    let queries = ["I lost my card", "what is the weather like in Paris"]
    let score = try CLIRunner.run(["score", "--detector", detector, "--json"] + queries)
    #expect(score.status == 0 && score.stdout.contains("\"class\":\"lost_card\""), "\(score.stdout) \(score.stderr)")
    let scores = score.stdout.components(separatedBy: "\"score\":").dropFirst().compactMap { Double($0.prefix { $0 != "," }) }
    #expect(scores.count == 2 && scores[0] < scores[1], "\(score.stdout)")
    let mixed = try CLIRunner.run(["score", "--detector", detector, "--precision", "fp32", "I lost my card"])
    #expect(mixed.status == 1 && mixed.stderr.contains("made with --precision int8, but this run asks for fp32"), "\(mixed.stderr)")
    let off = try CLIRunner.run(["score", "--detector", detector, "I lost my card"], environment: ["ANOMALYKIT_KERNELS": "portable"])
    #expect(off.status == 1 && off.stderr.contains("--precision int8 needs AVX-512 VNNI"), "\(off.stderr)")

    let texts = [TextRecord(text: "I lost my card", origin: "t")]
    let cache = dir + "/cache.safetensors"
    try TextEmbeddingCache.store(FeatureMatrix(rows: 1, columns: 2, values: [3, 4]), to: cache, weightsSHA256: "w", precision: .int8, texts: texts)
    #expect(TextEmbeddingCache.load(cache, weightsSHA256: "w", precision: .int8, texts: texts)?.values == [3, 4])
    #expect(TextEmbeddingCache.load(cache, weightsSHA256: "w", precision: .fp32, texts: texts) == nil)
    #expect(TextEmbeddingCache.load(cache, weightsSHA256: "w", precision: .bf16, texts: texts) == nil)
  }
}
