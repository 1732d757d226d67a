import Foundation
import TensorFiles
import Testing

/// `anomalykit identity fit|check` end to end on the face fixtures.
///
/// Ground truth from dlib (`Tests/Fixtures/faces/reference.json`): chip_a and
/// chip_b show one person (descriptor distance 0.366 < dlib's 0.6), chip_c
/// someone else (0.896 from chip_a); scene_a and scene_b show chip_a's person
/// (0.364, 0.413), and scene_pair's most confident face does not (0.911).
/// As cosines: a–b 0.974, a–c 0.830, so the default threshold 0.92 separates
/// them and the unit-vector reading of dlib's rule, 0.82, would not.
@Suite("CLI: identity fact-check")
struct IdentityCLITests {
  static func faces(_ name: String) -> String { CLIRunner.fixture("faces/" + name) }

  static func json(_ text: String) throws -> [JSONValue] {
    guard case .array(let rows) = try JSONValue.parse(text) else { return [] }
    return rows
  }

  static func number(_ v: JSONValue?) -> Double? {
    if case .number(let x)? = v { return x }
    return nil
  }

  static func bool(_ v: JSONValue?) -> Bool? {
    if case .bool(let x)? = v { return x }
    return nil
  }

  @Test("chips: chip_b (same person as chip_a) is supported, chip_c is not")
  func chips() throws {
    let dir = try CLIRunner.temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let bank = dir + "/a.safetensors"
    let fit = try CLIRunner.run(["identity", "fit", "--name", "Person A", "--chips", Self.faces("chip_a.png"), "--out", bank])
    #expect(fit.status == 0, "\(fit.stderr)")
    #expect(fit.stderr.contains("1 reference face"))

    let file = try SafeTensorsFile(path: bank)
    #expect(file.metadata["format"] == "identity" && file.metadata["name"] == "Person A")
    for key in ["embedder_sha256", "detector_sha256", "landmarks_sha256"] {
      #expect(file.metadata[key]?.count == 64, "\(key): \(file.metadata[key] ?? "missing")")
    }
    #expect(file.metadata["alignment"]?.contains("150x150") == true)
    #expect(file.metadata["threshold"].flatMap(Double.init).map { abs($0 - 0.92) < 1e-6 } == true)

    let check = try CLIRunner.run([
      "identity", "check", "--bank", bank, "--chips", "--json", Self.faces("chip_b.png"), Self.faces("chip_c.png"),
      Self.faces("chip_a.png"),
    ])
    #expect(check.status == 0, "\(check.stderr)")
    let rows = try Self.json(check.stdout)
    try #require(rows.count == 3, "\(check.stdout)")
    let truth = rows.map { Self.number($0["truth"]) ?? .nan }
    print("identity check --chips truth scores (b, c, a):", truth)
    // dlib's own descriptors give cosines 0.974 (a–b) and 0.830 (a–c).
    #expect(abs(truth[0] - 0.9740) < 1e-3 && abs(truth[1] - 0.8302) < 1e-3, "\(truth)")
    #expect(truth[0] > truth[1])
    #expect(abs(truth[2] - 1) < 1e-5)
    #expect(Self.bool(rows[0]["supports"]) == true && Self.bool(rows[1]["supports"]) == false)
    #expect(rows[0]["nearest"]?.stringValue == Self.faces("chip_a.png"))
    #expect(Self.number(rows[0]["faces"]) == 1)

    let csv = try CLIRunner.run(["identity", "check", "--bank", bank, "--chips", "--csv", Self.faces("chip_c.png")])
    #expect(csv.status == 0)
    #expect(csv.stdout.hasPrefix("path,truth,supports,nearest,faces\n") && csv.stdout.contains(",false,"), "\(csv.stdout)")
    let text = try CLIRunner.run(["identity", "check", "--bank", bank, "--chips", Self.faces("chip_b.png")])
    #expect(text.status == 0 && text.stdout.contains("supported") && text.stderr.contains("Person A"), "\(text.stdout)")
  }

  @Test("photos: a bank from two scenes supports its own person only; the leave-one-out summary is stored")
  func photos() throws {
    let dir = try CLIRunner.temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let bank = dir + "/p.safetensors"
    let fit = try CLIRunner.run([
      "identity", "fit", "--name", "P", Self.faces("scene_a.png"), Self.faces("scene_b.png"), "--out", bank,
    ])
    #expect(fit.status == 0, "\(fit.stderr)")
    #expect(fit.stderr.contains("leave-one-out truth scores"), "\(fit.stderr)")
    let meta = try SafeTensorsFile(path: bank).metadata
    let loo = try JSONValue.parse(meta["leave_one_out_truth"] ?? "")
    #expect(Self.number(loo["count"]) == 2)
    // dlib: scene_a–scene_b cosine 0.9815.
    #expect(Self.number(loo["min"]).map { abs($0 - 0.9815) < 1e-3 } == true, "\(loo)")
    #expect(Self.number(loo["below_threshold"]) == 0)
    #expect(meta["alignment"]?.contains("MMOD") == true)

    let check = try CLIRunner.run([
      "identity", "check", "--bank", bank, "--json", Self.faces("scene_pair.png"), Self.faces("scene_a.png"),
    ])
    #expect(check.status == 0, "\(check.stderr)")
    let rows = try Self.json(check.stdout)
    try #require(rows.count == 2)
    // dlib: scene_pair's most confident face is 0.884 / 0.892 from scene_a / scene_b (another person).
    #expect(Self.bool(rows[0]["supports"]) == false && Self.bool(rows[1]["supports"]) == true, "\(check.stdout)")
    #expect(rows[1]["nearest"]?.stringValue == Self.faces("scene_a.png"))
  }

  @Test("a file without a face stops fit and check with exit 1 naming it, unless --skip-no-face")
  func noFace() throws {
    let dir = try CLIRunner.temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let brick = CLIRunner.repositoryRoot + "/Examples/demo/normal/brick_00.png"
    let bank = dir + "/b.safetensors"
    let fit = try CLIRunner.run(["identity", "fit", "--name", "P", Self.faces("scene_a.png"), brick, "--out", bank])
    #expect(fit.status == 1)
    #expect(fit.stderr.contains(brick) && fit.stderr.contains("no face"), "\(fit.stderr)")
    #expect(!FileManager.default.fileExists(atPath: bank))

    let only = try CLIRunner.run(["identity", "fit", "--name", "P", "--skip-no-face", brick, "--out", bank])
    #expect(only.status == 1 && only.stderr.contains("nothing to fit"), "\(only.stderr)")

    let skip = try CLIRunner.run([
      "identity", "fit", "--name", "P", "--skip-no-face", Self.faces("scene_a.png"), brick, "--out", bank,
    ])
    #expect(skip.status == 0 && skip.stderr.contains("skipped 1 file(s) with no face"), "\(skip.stderr)")

    let check = try CLIRunner.run(["identity", "check", "--bank", bank, brick])
    #expect(check.status == 1 && check.stderr.contains(brick) && check.stderr.contains("no face"), "\(check.stderr)")
    let skipping = try CLIRunner.run(["identity", "check", "--bank", bank, "--skip-no-face", "--json", brick])
    #expect(skipping.status == 0, "\(skipping.stderr)")
    let rows = try Self.json(skipping.stdout)
    #expect(rows.count == 1 && Self.number(rows.first?["faces"]) == 0 && rows.first?["truth"] == .null)
  }

  @Test("a bank made with other embedder weights is refused, naming the bank and both hashes")
  func incompatibleBank() throws {
    let dir = try CLIRunner.temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let bank = dir + "/a.safetensors"
    let fit = try CLIRunner.run(["identity", "fit", "--name", "A", "--chips", Self.faces("chip_a.png"), "--out", bank])
    try #require(fit.status == 0, "\(fit.stderr)")
    let file = try SafeTensorsFile(path: bank)
    let ours = try #require(file.metadata["embedder_sha256"])
    var meta = file.metadata
    let other = String(repeating: "0f", count: 32)
    meta["embedder_sha256"] = other
    let forged = dir + "/other-weights.safetensors"
    var writer = SafeTensorsWriter(metadata: meta)
    try writer.add("references", floats: try file.floats("references"), shape: try file.info("references").shape)
    try writer.write(to: forged)
    let r = try CLIRunner.run(["identity", "check", "--bank", forged, "--chips", Self.faces("chip_b.png")])
    #expect(r.status == 1)
    #expect(r.stderr.contains(forged) && r.stderr.contains(other) && r.stderr.contains(ours), "\(r.stderr)")
  }

  @Test("files that are not identity banks are refused with exit 1, naming the file")
  func wrongFormatBank() throws {
    let detector = CLIRunner.repositoryRoot + "/Weights/dlib-mmod-face-detector.safetensors"
    let r = try CLIRunner.run(["identity", "check", "--bank", detector, "--chips", Self.faces("chip_b.png")])
    #expect(r.status == 1)
    #expect(r.stderr.contains(detector) && r.stderr.contains("not a valid identity bank"), "\(r.stderr)")
    let image = Self.faces("chip_a.png")
    let png = try CLIRunner.run(["identity", "check", "--bank", image, "--chips", Self.faces("chip_b.png")])
    #expect(png.status == 1 && png.stderr.contains(image), "\(png.stderr)")
  }

  @Test("--chips refuses an image that is not 150×150, naming it")
  func wrongChipSize() throws {
    let dir = try CLIRunner.temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let scene = Self.faces("scene_a.png")
    let r = try CLIRunner.run(["identity", "fit", "--name", "A", "--chips", scene, "--out", dir + "/a.safetensors"])
    #expect(r.status == 1)
    #expect(r.stderr.contains(scene) && r.stderr.contains("180×161") && r.stderr.contains("150×150"), "\(r.stderr)")
  }

  @Test("usage errors exit 2; the bank never overwrites an input")
  func usage() throws {
    let chip = Self.faces("chip_a.png")
    let badThreshold = try CLIRunner.run(["identity", "fit", "--name", "A", "--threshold", "1.5", chip, "--out", "/tmp/x.safetensors"])
    #expect(badThreshold.status == 2, "\(badThreshold.stderr)")
    let both = try CLIRunner.run(["identity", "check", "--bank", "b.safetensors", "--json", "--csv", chip])
    #expect(both.status == 2)
    let dir = try CLIRunner.temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let input = dir + "/in.safetensors"
    try FileManager.default.copyItem(atPath: chip, toPath: input)
    let clobber = try CLIRunner.run(["identity", "fit", "--name", "A", "--chips", input, "--out", input])
    #expect(clobber.status == 1 && clobber.stderr.contains("overwrite"), "\(clobber.stderr)")
  }
}
