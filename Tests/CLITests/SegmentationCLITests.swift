import FeatureExtraction
import Foundation
import Testing

/// `eval --mvtec`, `eval --masks` and few-shot `--shots` end to end on the
/// bundled demo (bricks with pasted gravel; masks from
/// `Tests/Fixtures/mvtec-mini/make_fixtures.py`), and the layout errors.
@Suite("CLI: segmentation metrics and MVTec layout")
struct SegmentationCLITests {
  static let demo = CLIRunner.repositoryRoot + "/Examples/demo"

  /// An MVTec AD layout of symbolic links to the demo images and the mask fixtures.
  static func layout() throws -> String {
    let root = try CLIRunner.temporaryFolder() + "/mini"
    let fm = FileManager.default
    for sub in ["train/good", "test/good", "test/gravel"] { try fm.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true) }
    for i in 0..<10 { try fm.createSymbolicLink(atPath: root + "/train/good/brick_0\(i).png", withDestinationPath: demo + "/normal/brick_0\(i).png") }
    for i in 0..<4 {
      try fm.createSymbolicLink(atPath: root + "/test/good/ok_\(i).png", withDestinationPath: demo + "/test/ok_\(i).png")
      try fm.createSymbolicLink(atPath: root + "/test/gravel/defect_\(i).png", withDestinationPath: demo + "/test/defect_\(i).png")
    }
    try fm.createSymbolicLink(atPath: root + "/ground_truth", withDestinationPath: CLIRunner.fixture("mvtec-mini/ground_truth"))
    return root
  }

  static func object(_ stdout: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
  }

  @Test("--mvtec fits on train/good and reports image AUROC, pixel AUROC and AUPRO; --masks on the kept bank agrees")
  func mvtec() throws {
    let root = try Self.layout()
    let bank = root + "/../bank.safetensors"
    let run = try CLIRunner.run(["eval", "--mvtec", root, "--json", "--bank-out", bank, "--input-size", "160"])
    #expect(run.status == 0, "\(run.stderr)")
    let r = try Self.object(run.stdout)
    #expect(r["n_normal"] as? Double == 4 && r["n_anomalous"] as? Double == 4)
    let auroc = try #require(r["auroc"] as? Double), pixel = try #require(r["pixel_auroc"] as? Double)
    let aupro = try #require(r["aupro"] as? Double)
    // Pasted gravel on bricks is easy: the metrics must be high, and AUPRO is a normalised area.
    #expect(auroc >= 0.9 && pixel > 0.9 && aupro > 0.5 && aupro <= 1, "\(r)")

    let again = try CLIRunner.run([
      "eval", "--bank", bank, "--normal", root + "/test/good", "--anomalous", root + "/test/gravel", "--masks", root + "/ground_truth", "--json",
    ])
    #expect(again.status == 0, "\(again.stderr)")
    let r2 = try Self.object(again.stdout)
    #expect(r2["pixel_auroc"] as? Double == pixel && r2["aupro"] as? Double == aupro)
  }

  @Test("--shots 2 --draws 3 reports the mean over three fits and each draw")
  func fewShot() throws {
    let root = try Self.layout()
    let run = try CLIRunner.run(["eval", "--mvtec", root, "--shots", "2", "--draws", "3", "--json", "--input-size", "160"])
    #expect(run.status == 0, "\(run.stderr)")
    let r = try Self.object(run.stdout)
    #expect(r["shots"] as? Double == 2)
    let draws = try #require(r["draws"] as? [[String: Any]])
    #expect(draws.count == 3)
    let mean = draws.compactMap { $0["auroc"] as? Double }.reduce(0, +) / 3
    #expect(abs((r["auroc"] as? Double ?? -1) - mean) < 1e-12)

    // Dihedral augmentation: one shot enters the bank as 8 images (the bank's fit_images says so).
    let bank = root + "/../aug.safetensors"
    let aug = try CLIRunner.run(["eval", "--mvtec", root, "--augment-dihedral", "--json", "--input-size", "160", "--bank-out", bank])
    #expect(aug.status == 0, "\(aug.stderr)")
    #expect(try Self.object(aug.stdout)["augment"] as? String == "dihedral")
    let info = try CLIRunner.run(["info", bank, "--json"])
    #expect(info.stdout.contains("\"fit_images\":\"80\""), "\(info.stdout.prefix(400))")
    let refused = try CLIRunner.run(["eval", "--bank", bank, "--normal", root + "/test/good", "--anomalous", root + "/test/gravel", "--augment-dihedral"])
    #expect(refused.status == 2 && refused.stderr.contains("--augment-dihedral"))
  }

  @Test("Layout and mask errors name the file and what was expected")
  func errors() throws {
    let root = try Self.layout()
    let fm = FileManager.default
    try fm.removeItem(atPath: root + "/train/good")
    let noTrain = try CLIRunner.run(["eval", "--mvtec", root])
    #expect(noTrain.status == 1 && noTrain.stderr.contains("no train/good") && noTrain.stderr.contains("ROOT/test/good"), "\(noTrain.stderr)")

    let good = try Self.layout()
    let bank = good + "/../bank.safetensors"
    #expect(try CLIRunner.run(["eval", "--mvtec", good, "--bank-out", bank, "--input-size", "160"]).status == 0)
    let emptyMasks = try CLIRunner.temporaryFolder()
    let missing = try CLIRunner.run([
      "eval", "--bank", bank, "--normal", good + "/test/good", "--anomalous", good + "/test/gravel", "--masks", emptyMasks,
    ])
    #expect(missing.status == 1 && missing.stderr.contains("defect_0.png") && missing.stderr.contains("defect_0_mask.png"), "\(missing.stderr)")

    // A mask of another size is resized nearest-neighbour, with a warning.
    let small = try CLIRunner.temporaryFolder()
    for i in 0..<4 { try Data(MalformedFiles.png(width: 80, height: 80)).write(to: URL(fileURLWithPath: small + "/defect_\(i)_mask.png")) }
    let resized = try CLIRunner.run([
      "eval", "--bank", bank, "--normal", good + "/test/good", "--anomalous", good + "/test/gravel", "--masks", small, "--json",
    ])
    #expect(resized.status == 0 && resized.stderr.contains("resized nearest-neighbour"), "\(resized.stderr)")

    let crop = good + "/../crop.safetensors"
    #expect(try CLIRunner.run(["fit", "--patches", "--resize", "crop", Self.demo + "/normal", "--holdout", "0", "--out", crop]).status == 0)
    let refused = try CLIRunner.run([
      "eval", "--bank", crop, "--normal", good + "/test/good", "--anomalous", good + "/test/gravel", "--masks", good + "/ground_truth",
    ])
    #expect(refused.status == 1 && refused.stderr.contains("--resize stretch"), "\(refused.stderr)")
  }

  @Test("score --masks-out writes binary masks at the pixel threshold fitted on normals; refusals name the bank")
  func masksOut() throws {
    let dir = try CLIRunner.temporaryFolder()
    let bank = dir + "/b.safetensors"
    let fit = try CLIRunner.run(["fit", "--patches", "--resize", "stretch", "--input-size", "160", Self.demo + "/normal", "--out", bank])
    #expect(fit.status == 0, "\(fit.stderr)")
    let info = try CLIRunner.run(["info", bank, "--json"])
    #expect(info.stdout.contains("\"pixel_threshold\"") && info.stdout.contains("\"pixel_fpr\":\"0.01\""))
    let run = try CLIRunner.run(["score", "--bank", bank, Self.demo + "/test", "--masks-out", dir + "/masks"])
    #expect(run.status == 0, "\(run.stderr)")
    let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/masks").sorted()
    #expect(names == (0..<4).map { "defect_\($0).mask.png" } + (0..<4).map { "ok_\($0).mask.png" })
    // Every mask is the image's size and binary; most gravel pixels are flagged, few brick pixels of the ok crops.
    for i in 0..<4 {
      let mask = try Self.grey(dir + "/masks/defect_\(i).mask.png")
      let truth = try Self.grey(CLIRunner.fixture("mvtec-mini/ground_truth/gravel/defect_\(i)_mask.png"))
      #expect(mask.count == 160 * 160 && Set(mask).isSubset(of: [0, 255]))
      let hit = zip(mask, truth).filter { $0.1 > 0 && $0.0 > 0 }.count, defect = truth.filter { $0 > 0 }.count
      #expect(Double(hit) / Double(defect) > 0.5, "defect_\(i): \(hit) of \(defect) gravel pixels flagged")
      let ok = try Self.grey(dir + "/masks/ok_\(i).mask.png")
      #expect(Double(ok.filter { $0 > 0 }.count) / Double(ok.count) < 0.1, "ok_\(i)")
    }

    let noPixel = dir + "/nop.safetensors"
    #expect(try CLIRunner.run(["fit", "--patches", "--resize", "stretch", Self.demo + "/normal", "--holdout", "0", "--out", noPixel]).status == 0)
    let refused = try CLIRunner.run(["score", "--bank", noPixel, Self.demo + "/test", "--masks-out", dir + "/m2"])
    #expect(refused.status == 1 && refused.stderr.contains("no pixel threshold") && refused.stdout.isEmpty, "\(refused.stderr)")
  }

  /// The first channel of an image, row-major.
  static func grey(_ path: String) throws -> [UInt8] {
    let image = try ImageDecoder.decode(path: path)
    return stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] }
  }
}
