import Foundation
import Testing

/// `fit --bank-dtype bf16` end to end: half the file, the same neighbours
/// whichever kernel path runs (AVX-512 BF16, or the portable loop forced
/// with ANOMALYKIT_KERNELS), and refusals for scorers without rows.
@Suite("CLI: bfloat16 banks")
struct BFloat16BankCLITests {
  @Test("a bf16 bank is half the file and answers the same on every kernel path")
  func everyKernelPath() throws {
    let dir = try CLIRunner.temporaryFolder()
    var rng = SystemRandomNumberGenerator()
    let rows = (0..<400).map { _ in (0..<200).map { _ in Float.random(in: -1...1, using: &rng) } }
    try BankCLITests.writeNPY(Array(rows[0..<360]), to: dir + "/normals.npy")
    try BankCLITests.writeNPY(Array(rows[360...]), to: dir + "/queries.npy")
    for dtype in ["f32", "bf16"] {
      let fit = try CLIRunner.run(["fit", "--from-npy", dir + "/normals.npy", "--scorer", "knn", "--holdout", "0.2", "--bank-dtype", dtype, "--out", dir + "/\(dtype).safetensors"])
      #expect(fit.status == 0, "\(fit.stderr)")
    }
    let size = { (name: String) in (try FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.size] as? Int) ?? 0 }
    #expect(try size("bf16.safetensors") < size("f32.safetensors") / 2 + 4096)
    let info = try CLIRunner.run(["info", dir + "/bf16.safetensors", "--json"])
    #expect(info.stdout.contains("\"dtype\":\"BF16\"") && info.stdout.contains("\"bank_dtype\":\"bf16\""), "\(info.stdout)")

    var answers: [Data] = []
    for kernels in ["portable", "avx2", "avx512"] {
      let out = dir + "/n-\(kernels).npy"
      let r = try CLIRunner.run(
        ["score", "--bank", dir + "/bf16.safetensors", "--from-npy", dir + "/queries.npy", "--neighbours-out", out],
        environment: ["ANOMALYKIT_KERNELS": kernels])
      #expect(r.status == 0, "\(kernels): \(r.stderr)")
      answers.append(try Data(contentsOf: URL(fileURLWithPath: out)) + Data(contentsOf: URL(fileURLWithPath: dir + "/n-\(kernels).rows.npy")))
    }
    #expect(answers[0] == answers[1] && answers[1] == answers[2], "the kernel paths found different neighbours or distances")
    let scored = try CLIRunner.run(["score", "--bank", dir + "/bf16.safetensors", "--from-npy", dir + "/queries.npy", "--json"])
    #expect(scored.status == 0 && scored.stdout.contains("\"anomalous\":false"), "\(scored.stderr)")

    let refused = try CLIRunner.run(["fit", "--from-npy", dir + "/normals.npy", "--scorer", "gaussian", "--bank-dtype", "bf16", "--out", dir + "/g.safetensors"])
    #expect(refused.status == 1 && refused.stderr.contains("bankDType bf16") && refused.stderr.contains("gaussian"), "\(refused.stderr)")
  }
}
