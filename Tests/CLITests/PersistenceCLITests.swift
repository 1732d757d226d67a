import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Atomic persistence, path safety and resource limits, end to end.
@Suite("CLI: persistence, paths and limits")
struct PersistenceCLITests {
  static let demo = CLIRunner.repositoryRoot + "/Examples/demo"

  /// An N×D float32 .npy of seeded values in [-1, 1).
  static func writeRandomNPY(rows: Int, columns: Int, seed: UInt64, to path: String) throws {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    let values = (0..<(rows * columns)).map { _ -> Float in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)
    }
    try CLIRunner.write(MalformedFiles.npy(rows: rows, columns: columns, values: values), to: path)
  }

  static func temporaryFiles(in dir: String, for name: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(".\(name).tmp-") }
  }

  @Test("SIGKILL while a bank is being written leaves the old bank intact and loadable")
  func killDuringWrite() throws {
    let dir = try CLIRunner.temporaryFolder()
    let small = dir + "/small.npy"
    let big = dir + "/big.npy"
    let bank = dir + "/bank.safetensors"
    try Self.writeRandomNPY(rows: 64, columns: 256, seed: 1, to: small)
    // 60,000 × 256 float32: a 61 MB bank, so the write (and its fsync) spans
    // many polls of the folder.
    try Self.writeRandomNPY(rows: 60_000, columns: 256, seed: 2, to: big)
    let first = try CLIRunner.run(["fit", "--from-npy", small, "--scorer", "knn", "--holdout", "0", "--out", bank])
    #expect(first.status == 0, "\(first.stderr)")
    let old = try Data(contentsOf: URL(fileURLWithPath: bank))

    var killedMidWrite = false
    for _ in 0..<5 where !killedMidWrite {
      let process = CLIRunner.process(["fit", "--from-npy", big, "--scorer", "knn", "--holdout", "0", "--out", bank])
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      // Kill as soon as the temporary file of the new bank appears.
      while process.isRunning {
        if !Self.temporaryFiles(in: dir, for: "bank.safetensors").isEmpty {
          kill(process.processIdentifier, SIGKILL)
          break
        }
        usleep(100)
      }
      process.waitUntilExit()
      // A temp file left behind means the kill landed before the rename.
      let leftovers = Self.temporaryFiles(in: dir, for: "bank.safetensors")
      killedMidWrite = process.terminationReason == .uncaughtSignal && !leftovers.isEmpty
      for name in leftovers { try FileManager.default.removeItem(atPath: dir + "/" + name) }
      if !killedMidWrite {
        // The write won the race: put the old bank back and try again.
        try old.write(to: URL(fileURLWithPath: bank))
      }
    }
    #expect(killedMidWrite, "never caught the process between creating and renaming its temporary file")
    #expect(try Data(contentsOf: URL(fileURLWithPath: bank)) == old, "the old bank changed")
    let info = try CLIRunner.run(["info", bank])
    #expect(info.status == 0, "\(info.stderr)")
    #expect(info.stdout.contains("count = 64"), "\(info.stdout)")
    let score = try CLIRunner.run(["score", "--bank", bank, "--from-npy", small, "--json"])
    #expect(score.status == 0, "\(score.stderr)")
  }

  @Test("a bank path that is a folder, a link loop or unwritable is refused before any work")
  func unusableBankPaths() throws {
    let dir = try CLIRunner.temporaryFolder()
    let npy = dir + "/f.npy"
    try Self.writeRandomNPY(rows: 8, columns: 4, seed: 3, to: npy)
    try FileManager.default.createDirectory(atPath: dir + "/folder.safetensors", withIntermediateDirectories: false)
    try FileManager.default.createSymbolicLink(atPath: dir + "/loop.safetensors", withDestinationPath: "loop.safetensors")
    let cases: [(path: String, expected: String)] = [
      (dir + "/folder.safetensors", "is a directory"),
      (dir + "/loop.safetensors", "symbolic link loop"),
      ("/proc/anomalykit-\(UUID().uuidString).safetensors", "cannot create files in '/proc'"),
      (dir + "/missing/bank.safetensors", "does not exist"),
    ]
    for c in cases {
      for arguments in [["fit", "--from-npy", npy, "--out", c.path], ["fit", Self.demo + "/normal", "--out", c.path]] {
        let r = try CLIRunner.run(arguments)
        #expect(r.status == 1, "\(c.path): status \(r.status), \(r.stderr)")
        #expect(r.stderr.contains(c.path) && r.stderr.contains(c.expected), "\(c.path): \(r.stderr)")
        #expect(!r.stderr.contains("fit: features"), "\(c.path): work started before the path was checked: \(r.stderr)")
      }
    }
  }

  @Test("writing through a symbolic link replaces its target and keeps the link")
  func symlinkedBank() throws {
    let dir = try CLIRunner.temporaryFolder()
    let npy = dir + "/f.npy"
    try Self.writeRandomNPY(rows: 8, columns: 4, seed: 4, to: npy)
    try FileManager.default.createDirectory(atPath: dir + "/banks", withIntermediateDirectories: false)
    try FileManager.default.createSymbolicLink(atPath: dir + "/current.safetensors", withDestinationPath: "banks/v1.safetensors")
    let r = try CLIRunner.run(["fit", "--from-npy", npy, "--out", dir + "/current.safetensors"])
    #expect(r.status == 0, "\(r.stderr)")
    let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/current.safetensors")
    #expect(attributes[.type] as? FileAttributeType == .typeSymbolicLink)
    #expect(FileManager.default.fileExists(atPath: dir + "/banks/v1.safetensors"))
  }

  @Test("outputs never overwrite inputs")
  func outputsNeverOverwriteInputs() throws {
    let dir = try CLIRunner.temporaryFolder()
    let normal = dir + "/n.npy"
    let anomalous = dir + "/a.npy"
    let bank = dir + "/bank.safetensors"
    try Self.writeRandomNPY(rows: 8, columns: 4, seed: 5, to: normal)
    try Self.writeRandomNPY(rows: 8, columns: 4, seed: 6, to: anomalous)
    #expect(try CLIRunner.run(["fit", "--from-npy", normal, "--out", bank]).status == 0)
    let before = try Data(contentsOf: URL(fileURLWithPath: normal))
    let r = try CLIRunner.run(["eval", "--bank", bank, "--normal-npy", normal, "--anomalous-npy", anomalous, "--scores-out", normal])
    #expect(r.status == 1, "\(r.stderr)")
    #expect(r.stderr.contains("would overwrite the input"), "\(r.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: normal)) == before)

    // Scoring a folder that holds an earlier heatmap, into that folder: the
    // heatmap of a.png would be the input a.heatmap.png.
    let images = dir + "/images"
    try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: false)
    try FileManager.default.copyItem(atPath: Self.demo + "/test/ok_0.png", toPath: images + "/a.png")
    try FileManager.default.copyItem(atPath: Self.demo + "/test/ok_2.png", toPath: images + "/a.heatmap.png")
    let patchBank = dir + "/patches.safetensors"
    let fit = try CLIRunner.run(["fit", "--patches", Self.demo + "/normal", "--holdout", "0", "--out", patchBank])
    #expect(fit.status == 0, "\(fit.stderr)")
    let heatmapInput = try Data(contentsOf: URL(fileURLWithPath: images + "/a.heatmap.png"))
    // The check comes before any work: scoring would stop at this broken
    // image, so its error would show if the images were scored first.
    try CLIRunner.write(Array("not an image".utf8), to: images + "/z.png")
    let score = try CLIRunner.run(["score", "--bank", patchBank, images, "--heatmaps", images])
    #expect(score.status == 1, "\(score.stderr)")
    #expect(!score.stderr.contains("z.png"), "\(score.stderr)")
    #expect(score.stderr.contains(images + "/a.heatmap.png") && score.stderr.contains("would overwrite the input"), "\(score.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: images + "/a.heatmap.png")) == heatmapInput)
  }

  @Test("a symbolic link loop inside an input folder is walked once, with a warning")
  func inputFolderLinkLoop() throws {
    let dir = try CLIRunner.temporaryFolder()
    let images = dir + "/images"
    try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: false)
    try FileManager.default.copyItem(atPath: Self.demo + "/test/ok_0.png", toPath: images + "/a.png")
    try FileManager.default.createSymbolicLink(atPath: images + "/self", withDestinationPath: ".")
    try FileManager.default.createSymbolicLink(atPath: images + "/dangling", withDestinationPath: "nowhere")
    let r = try CLIRunner.run(["embed", images, "--out", dir + "/f.npy"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains(images + "/self") && r.stderr.contains("already walked"), "\(r.stderr)")
    #expect(r.stderr.contains(images + "/dangling") && r.stderr.contains("does not resolve"), "\(r.stderr)")
    let listed = try String(contentsOfFile: dir + "/f.npy.paths.txt", encoding: .utf8)
    #expect(listed == images + "/a.png\n", "\(listed)")
  }

  @Test("resource limits stop the run before the work, name the flag and exit 1")
  func limits() throws {
    let dir = try CLIRunner.temporaryFolder()
    let bank = dir + "/bank.safetensors"
    let fit = try CLIRunner.run(["fit", "--patches", "--coreset-method", "greedy", Self.demo + "/normal", "--max-fit-memory", "2M", "--out", bank])
    #expect(fit.status == 1, "\(fit.stderr)")
    #expect(fit.stderr.contains("--max-fit-memory") && fit.stderr.contains("--coreset-method random"), "\(fit.stderr)")
    #expect(!fit.stderr.contains("fit: features"), "features were computed before the budget check: \(fit.stderr)")
    #expect(!FileManager.default.fileExists(atPath: bank))
    // The same fit streams within the budget when the coreset is random.
    let streamed = try CLIRunner.run(["fit", "--patches", "--coreset-method", "random", Self.demo + "/normal", "--max-fit-memory", "2M", "--out", bank])
    #expect(streamed.status == 0, "\(streamed.stderr)")

    let header = try CLIRunner.run(["info", bank, "--max-header-bytes", "64"])
    #expect(header.status == 1)
    #expect(header.stderr.contains(bank) && header.stderr.contains("--max-header-bytes"), "\(header.stderr)")

    let descriptions = dir + "/d.txt"
    try CLIRunner.write(Array(("a short description\n" + String(repeating: "x", count: 2000) + "\n").utf8), to: descriptions)
    let text = try CLIRunner.run(["adapt", "--descriptions", descriptions, "--out", dir + "/det.safetensors", "--max-text-bytes", "1K"])
    #expect(text.status == 1)
    #expect(text.stderr.contains(descriptions + ":2") && text.stderr.contains("--max-text-bytes"), "\(text.stderr)")

    let files = try CLIRunner.run(["embed", Self.demo + "/normal", "--out", dir + "/f.npy", "--max-files", "3"])
    #expect(files.status == 1)
    #expect(files.stderr.contains("--max-files"), "\(files.stderr)")

    let usage = try CLIRunner.run(["fit", Self.demo + "/normal", "--out", bank, "--max-fit-memory", "lots"])
    #expect(usage.status == 2, "\(usage.stderr)")
  }
}
