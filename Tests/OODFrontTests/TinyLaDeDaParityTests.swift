import FeatureExtraction
import Foundation
import OODFront
import TensorFiles
import Testing

/// The Swift Tiny-LaDeDa against PyTorch running the authors' network
/// definition with seeded random weights of the official shapes
/// (`Tests/Fixtures/tiny-ladeda/make_fixtures.py`; the weights went through
/// `Weights/convert.py` from a legacy-format `.pth`).
@Suite("Tiny-LaDeDa parity with PyTorch")
struct TinyLaDeDaParityTests {
  static let images = ["generated256", "photo192x160", "synthetic400x300"]

  static func fixture(_ name: String) -> String { TestPaths.fixture("tiny-ladeda/" + name) }

  static func expected() throws -> SafeTensorsFile {
    try SafeTensorsFile(path: fixture("expected.safetensors"))
  }

  /// Largest |a − b| over two equally long arrays.
  static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
  }

  @Test("right_diag: patch logits within 5e-6 of PyTorch, probabilities within 1e-5")
  func gradientParity() throws {
    let model = try TinyLaDeDa(path: Self.fixture("random-weights.safetensors"))
    #expect(model.preprocess == TinyLaDeDaPreprocess(name: "right_diag"))
    #expect(model.inputSize == 256)
    let reference = try Self.expected()
    var worst: Float = 0
    for name in Self.images {
      let image = try ImageDecoder.decode(path: Self.fixture(name + ".png"))
      let out = model.score(image)
      #expect(out.gridHeight == 126 && out.gridWidth == 126)
      let patches = try reference.floats(name + ".patch_logits", shape: [126, 126])
      let delta = Self.maxDifference(out.patchLogits, patches)
      worst = max(worst, delta)
      #expect(delta <= 5e-6, "\(name): max |Δ patch logit| = \(delta)")
      // PyTorch pools the features (float32) before fc; we average the logits
      // in Double. The two differ by rounding only (3.6e-5 on the synthetic
      // image inside PyTorch itself).
      let pooled = try reference.floats(name + ".pooled_logit", shape: [1])[0]
      #expect(abs(out.meanLogit - pooled) <= 1e-4, "\(name): mean logit \(out.meanLogit) vs pooled \(pooled)")
      let probability = try reference.floats(name + ".probability", shape: [1])[0]
      #expect(abs(out.probability - probability) <= 1e-5, "\(name): probability \(out.probability) vs \(probability)")
      #expect(out.isFake == (probability > 0.5))
    }
    print("Tiny-LaDeDa right_diag parity: max |Δ patch logit| = \(worst)")
  }

  @Test("NPR: patch logits within 5e-6 of PyTorch")
  func nprParity() throws {
    let model = try TinyLaDeDa(path: Self.fixture("random-weights-npr.safetensors"))
    #expect(model.preprocess == .npr)
    let reference = try Self.expected()
    let image = try ImageDecoder.decode(path: Self.fixture("generated256.png"))
    let out = model.score(image)
    let patches = try reference.floats("npr.generated256.patch_logits", shape: [126, 126])
    let delta = Self.maxDifference(out.patchLogits, patches)
    #expect(delta <= 5e-6, "max |Δ patch logit| = \(delta)")
    let pooled = try reference.floats("npr.generated256.pooled_logit", shape: [1])[0]
    #expect(abs(out.meanLogit - pooled) <= 1e-4)
    print("Tiny-LaDeDa NPR parity: max |Δ patch logit| = \(delta)")
  }

  @Test("scoring files in parallel gives each image's single-image output exactly")
  func batchMatchesSingle() throws {
    let model = try TinyLaDeDa(path: Self.fixture("random-weights.safetensors"))
    let paths = (Self.images + Self.images).map { Self.fixture($0 + ".png") }
    let batch = try model.score(paths: paths, workers: 2)
    #expect(batch.count == paths.count)
    for (path, out) in zip(paths, batch) {
      #expect(out == model.score(try ImageDecoder.decode(path: path)), "\(path)")
    }
  }

  @Test("an unreadable file stops the batch with an error naming it")
  func batchError() throws {
    let model = try TinyLaDeDa(path: Self.fixture("random-weights.safetensors"))
    let bogus = Self.fixture("make_fixtures.py")
    #expect {
      _ = try model.score(paths: [Self.fixture("generated256.png"), bogus], workers: 2)
    } throws: { error in
      String(describing: error).contains(bogus)
    }
  }

  /// Changing one input pixel may change only the cells whose documented
  /// window contains it, and changes at least one of them.
  @Test("the receptive field is the documented window", arguments: ["right_diag", "NPR"])
  func receptiveField(preprocess: String) throws {
    let name = preprocess == "NPR" ? "random-weights-npr.safetensors" : "random-weights.safetensors"
    let model = try TinyLaDeDa(path: Self.fixture(name))
    let (width, height) = (41, 37)
    var generator = SplitMix64(seed: 7)
    let input = (0..<(width * height * 3)).map { _ in Float(generator.nextUnit() * 4 - 2) }
    let base = try model.forward(input, width: width, height: height)
    #expect(base.gridWidth == TinyLaDeDa.gridSize(forInput: width) && base.gridHeight == TinyLaDeDa.gridSize(forInput: height))
    let field = model.receptiveField
    for (px, py) in [(20, 18), (0, 0), (39, 35), (7, 30), (40, 17)] {
      var changed = input
      for c in 0..<3 { changed[(py * width + px) * 3 + c] += 3 }
      let out = try model.forward(changed, width: width, height: height)
      var touched = 0
      for r in 0..<out.gridHeight {
        for c in 0..<out.gridWidth where out.patchLogits[r * out.gridWidth + c] != base.patchLogits[r * base.gridWidth + c] {
          touched += 1
          #expect(field.pixels(ofCell: r, extent: height).contains(py) && field.pixels(ofCell: c, extent: width).contains(px),
            "\(preprocess): pixel (\(px), \(py)) changed cell (\(c), \(r)) outside its window")
        }
      }
      #expect(touched > 0, "\(preprocess): pixel (\(px), \(py)) changed nothing")
    }
  }

  @Test("inputs smaller than 5×5 are refused")
  func tooSmall() throws {
    let model = try TinyLaDeDa(path: Self.fixture("random-weights.safetensors"))
    #expect(throws: TinyLaDeDaError.inputTooSmall(width: 4, height: 9, minimum: 5)) {
      _ = try model.forward([Float](repeating: 0, count: 4 * 9 * 3), width: 4, height: 9)
    }
    #expect(try model.forward([Float](repeating: 0, count: 5 * 5 * 3), width: 5, height: 5).patchLogits.count == 1)
  }

  /// Converted official checkpoints: those named by
  /// `ANOMALYKIT_TINY_LADEDA_WEIGHTS` (colon-separated), or else the
  /// authors' `.pth` files in `../shared/data/weights/tiny-ladeda/`
  /// (present on CI and development machines), converted here with
  /// `Weights/convert.py` into a temporary folder. They are under a research
  /// licence, so they are never in the repository, and a clone without
  /// `../shared` has none: then this test has nothing to check.
  static let officialCheckpoints: [String] = {
    let named = (ProcessInfo.processInfo.environment["ANOMALYKIT_TINY_LADEDA_WEIGHTS"] ?? "").split(separator: ":").map(String.init)
    if !named.isEmpty { return named }
    let folder = TestPaths.sharedData("weights/tiny-ladeda")
    let checkpoints = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".pth") }.sorted()
    guard !checkpoints.isEmpty else { return [] }
    let out = NSTemporaryDirectory() + "ak-tiny-ladeda-official-\(ProcessInfo.processInfo.processIdentifier)"
    try? FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    return checkpoints.map { name in
      let converted = out + "/" + name.replacingOccurrences(of: ".pth", with: ".safetensors")
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = ["python3", TestPaths.repositoryRoot + "/Weights/convert.py", "tiny-ladeda", "--pth", folder + "/" + name, "--out", converted]
      process.standardOutput = FileHandle.nullDevice
      try? process.run()
      process.waitUntilExit()
      return converted  // a failed conversion fails the test when the file will not load
    }
  }()

  /// The official checkpoints' image logits match the PyTorch network run
  /// in float64 (`official.json`). Their patch logits reach the thousands,
  /// so float32 PyTorch itself is off by up to ~4e-3 in the pooled logit;
  /// Swift averages float32 patch logits in double and stays within 1e-4.
  @Test(
    "official weights match PyTorch (float64) on the fixture images",
    .enabled(if: !TinyLaDeDaParityTests.officialCheckpoints.isEmpty, "no official checkpoints: ../shared/data/weights/tiny-ladeda is absent and ANOMALYKIT_TINY_LADEDA_WEIGHTS is unset"))
  func officialWeights() throws {
    let json = try JSONValue.parse(String(decoding: try Data(contentsOf: URL(fileURLWithPath: Self.fixture("official.json"))), as: UTF8.self))
    var worst = 0.0
    for path in Self.officialCheckpoints {
      let model = try TinyLaDeDa(path: path)
      let digest = try #require(model.metadata["source_file_sha256"])
      let entry = try #require(json[digest], "\(path): converted from an unknown checkpoint \(digest)")
      #expect(entry["preprocess"]?.stringValue == model.preprocess.name)
      for name in Self.images {
        guard case .number(let reference)? = entry[name]?["pooled_logit_float64"] else {
          Issue.record("official.json lacks \(name)")
          continue
        }
        let out = model.score(try ImageDecoder.decode(path: Self.fixture(name + ".png")))
        let delta = abs(Double(out.meanLogit) - reference)
        worst = max(worst, delta)
        #expect(delta <= 1e-4, "\(path) \(name): \(out.meanLogit) vs \(reference)")
      }
    }
    print("Tiny-LaDeDa official weights: \(Self.officialCheckpoints.count) checkpoints, max |Δ image logit| vs float64 = \(worst)")
  }
}

/// A small deterministic generator for test inputs.
struct SplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// Uniform in [0, 1).
  mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
