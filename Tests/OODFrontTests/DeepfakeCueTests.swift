import FeatureExtraction
import Foundation
import OODFront
import TensorFiles
import Testing

/// The real-only deepfake cues and their calibration against the numpy /
/// PyTorch reference (`Tests/Fixtures/deepfake/make_fixtures.py`, which runs
/// `Notebooks-export/scripts/deepfake_cues.py` and scipy).
@Suite("Deepfake cues: parity with numpy and PyTorch")
struct DeepfakeCueTests {
  static func fixture(_ name: String) -> String { TestPaths.fixture("deepfake/" + name) }

  static func expected() throws -> JSONValue {
    try JSONValue.parse(String(contentsOfFile: fixture("expected.json"), encoding: .utf8))
  }

  static func numbers(_ v: JSONValue?) -> [Double] {
    guard case .array(let items)? = v else { return [] }
    return items.compactMap { if case .number(let x) = $0 { return x } else { return nil } }
  }

  static func number(_ v: JSONValue?) -> Double? {
    if case .number(let x)? = v { return x }
    return nil
  }

  @Test("Counter-based normals are numpy's, draw for draw")
  func normals() throws {
    let e = try Self.expected()
    for (seed, key) in [(UInt64(0), "normals_seed0"), (7, "normals_seed7")] {
      let want = Self.numbers(e[key])
      let got = CounterNormals.draw(count: want.count, seed: seed)
      #expect(want.count > 0)
      for (a, b) in zip(got, want) { #expect(abs(Double(a) - b) < 1e-6, "seed \(seed): \(a) vs \(b)") }
    }
  }

  @Test("Pixel statistics within 1e-4 and network cues within 2e-4 of the reference", arguments: [
    "textured300x200.png", "upsampled96.png", "smooth128x160.png",
  ])
  func cues(name: String) throws {
    let e = try Self.expected()
    guard let ref = e["images"]?[name], let refCues = ref["cues"] else {
      Issue.record("no reference for \(name)")
      return
    }
    let readings = DeepfakeCue.allCases.filter { $0 != .tinyLaDeDa }.map { CueReading($0, .upper) }
    let probe = try PerturbationProbe(weights: TestPaths.weights("efficientnet-lite0.safetensors"))
    let extractor = try CueExtractor(readings: readings, harmonizer: nil, probe: probe)
    let image = try ImageDecoder.decode(path: Self.fixture(name))
    let m = try extractor.measure(image, path: name)
    #expect(Double(m.side) == Self.number(ref["crop"]))
    for (j, r) in readings.enumerated() {
      guard let want = Self.number(refCues[r.cue.rawValue]) else {
        Issue.record("\(name): no reference for \(r.cue.rawValue)")
        continue
      }
      let tolerance = r.needsNetwork ? 2e-4 : 1e-4
      #expect(abs(m.values[j] - want) <= tolerance * max(1, abs(want)), "\(name) \(r.cue.rawValue): \(m.values[j]) vs \(want)")
    }
  }

  @Test("Median, MAD scale, Fisher evidence, log tails and the cross-fitted threshold match numpy and scipy")
  func calibration() throws {
    guard let c = try Self.expected()["calibration"] else {
      Issue.record("no calibration reference")
      return
    }
    let readings = try CueReading.list("noise:upper,period2:two")
    func rows(_ v: JSONValue?) -> [[Double]] {
      guard case .array(let items)? = v else { return [] }
      return items.map { Self.numbers($0) }
    }
    let reals = rows(c["reals"]), queries = rows(c["queries"])
    let cal = RealOnlyCalibration(readings: readings, reals: reals)
    for (a, b) in zip(cal.medians, Self.numbers(c["median"])) { #expect(abs(a - b) < 1e-12) }
    for (a, b) in zip(cal.scales, Self.numbers(c["scale"])) { #expect(abs(a - b) < 1e-12) }
    let wantZ = rows(c["z"]), wantEvidence = rows(c["evidence"]), wantFused = Self.numbers(c["fused"])
    for (i, q) in queries.enumerated() {
      let got = cal.evidence(q)
      for j in 0..<2 {
        #expect(abs(got.z[j] - wantZ[i][j]) < 1e-9)
        #expect(abs(got.evidence[j] - wantEvidence[i][j]) < 1e-9 * max(1, wantEvidence[i][j]), "query \(i) reading \(j)")
      }
      #expect(abs(got.fused - wantFused[i]) < 1e-9 * max(1, wantFused[i]))
    }
    if case .object(let pairs)? = c["log_survival"] {
      for (key, value) in pairs {
        guard let z = Double(key), let want = Self.number(value) else { continue }
        let got = RealOnlyCalibration.logSurvival(z)
        #expect(abs(got - want) <= 1e-9 * max(1, abs(want)), "log sf(\(z)): \(got) vs \(want)")
      }
    } else {
      Issue.record("no log_survival reference")
    }
    let detector = try DeepfakeDetector(readings: readings, reals: reals, fpr: 0.2, harmonizeJPEG: nil)
    let want = try #require(Self.number(c["threshold_fpr0.2"]))
    #expect(abs(detector.threshold - want) < 1e-4 * max(1, want), "\(detector.threshold) vs \(want)")
  }

  @Test("A detector file round-trips; a bank or another recipe is refused with both recipes named")
  func fileRoundTrip() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ak-deepfake-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let reals = (0..<9).map { i in [Double(i) * 0.1, 2 + Double(i % 3)] }
    let d = try DeepfakeDetector(readings: try CueReading.list("noise:lower,band01:two"), reals: reals, harmonizeJPEG: 75, metadata: ["x": "y"])
    try d.write(to: dir + "/d.safetensors")
    let back = try DeepfakeDetector.read(path: dir + "/d.safetensors")
    #expect(back.readings == d.readings && back.threshold == d.threshold && back.harmonizeJPEG == 75 && back.realValues == reals)
    #expect(back.calibration == d.calibration)

    var writer = SafeTensorsWriter(metadata: ["format": "deepfake-detector", "format_version": "1", "recipe": "patch-knn/0"])
    try writer.add("reals.values", doubles: [0], shape: [1, 1])
    try writer.write(to: dir + "/other.safetensors")
    #expect(throws: DeepfakeError.wrongRecipe(path: dir + "/other.safetensors", found: "patch-knn/0", expected: DeepfakeDetector.recipe)) {
      _ = try DeepfakeDetector.read(path: dir + "/other.safetensors")
    }
  }

  @Test("Images below 64 px a side are refused, naming the file; readings parse strictly")
  func badInput() throws {
    let tiny = RGBImage(width: 63, height: 200, pixels: [UInt8](repeating: 9, count: 63 * 200 * 3))
    #expect(throws: DeepfakeError.imageTooSmall(path: "tiny.png", width: 63, height: 200, minSide: 64)) {
      _ = try ForensicCrop.apply(tiny, path: "tiny.png")
    }
    #expect(throws: DeepfakeError.self) { _ = try CueReading.list("noise:sideways") }
    #expect(throws: DeepfakeError.self) { _ = try CueReading.list("noise:lower,noise:upper") }
    #expect(throws: DeepfakeError.notEnoughReals(count: 3, needed: 8)) {
      _ = try DeepfakeDetector(readings: [CueReading(.noise, .lower)], reals: [[1], [2], [3]], harmonizeJPEG: nil)
    }
  }
}
