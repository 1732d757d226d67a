import FeatureExtraction
import Foundation
import OODFront
import TensorFiles
import Testing

/// `anomalykit deepfake tiny-ladeda` end to end with the random-weights
/// fixture (`Tests/Fixtures/tiny-ladeda`).
@Suite("CLI: deepfake tiny-ladeda")
struct TinyLaDeDaCLITests {
  static let images = ["generated256", "photo192x160", "synthetic400x300"]
  static let weights = CLIRunner.fixture("tiny-ladeda/random-weights.safetensors")
  static var paths: [String] { images.map { CLIRunner.fixture("tiny-ladeda/\($0).png") } }

  static func number(_ value: JSONValue?) -> Double? {
    if case .number(let d)? = value { return d }
    return nil
  }

  @Test("--json: one object per image with the library's scores, and the grid")
  func json() throws {
    let r = try CLIRunner.run(["deepfake", "tiny-ladeda", "--weights", Self.weights] + Self.paths + ["--json", "--patch-logits"])
    #expect(r.status == 0, "\(r.stderr)")
    guard case .array(let items) = try JSONValue.parse(r.stdout) else {
      Issue.record("not a JSON array: \(r.stdout.prefix(200))")
      return
    }
    #expect(items.count == 3)
    let model = try TinyLaDeDa(path: Self.weights)
    let expected = try SafeTensorsFile(path: CLIRunner.fixture("tiny-ladeda/expected.safetensors"))
    for (item, (name, path)) in zip(items, zip(Self.images, Self.paths)) {
      guard case .object(let members) = item else {
        Issue.record("\(name): not an object")
        continue
      }
      #expect(members.map(\.0) == ["path", "probability", "logit", "fake", "grid", "patch_logits"])
      #expect(item["path"]?.stringValue == path)
      let library = model.score(try ImageDecoder.decode(path: path))
      // The printed numbers are the library's floats, exactly.
      #expect(Self.number(item["probability"]).map(Float.init) == library.probability)
      #expect(Self.number(item["logit"]).map(Float.init) == library.meanLogit)
      #expect(item["fake"] == .bool(library.isFake))
      #expect(item["grid"] == .array([.number(126), .number(126)]))
      guard case .array(let patches)? = item["patch_logits"] else {
        Issue.record("\(name): no patch_logits")
        continue
      }
      #expect(patches.compactMap { Self.number($0).map(Float.init) } == library.patchLogits)
      // And they are PyTorch's, to the parity tolerance.
      let torch = try expected.floats(name + ".probability", shape: [1])[0]
      #expect(abs(library.probability - torch) <= 1e-5, "\(name): \(library.probability) vs PyTorch \(torch)")
    }
  }

  @Test("text and CSV output, one row per image in input order")
  func textAndCSV() throws {
    let model = try TinyLaDeDa(path: Self.weights)
    let library = try model.score(paths: Self.paths)
    let text = try CLIRunner.run(["deepfake", "tiny-ladeda", "--weights", Self.weights] + Self.paths)
    #expect(text.status == 0, "\(text.stderr)")
    let lines = text.stdout.split(separator: "\n").map(String.init)
    #expect(lines == zip(Self.paths, library).map { String(format: "%.6f", $1.probability) + "  " + ($1.isFake ? "fake" : "real") + "  " + $0 })
    let csv = try CLIRunner.run(["deepfake", "tiny-ladeda", "--weights", Self.weights, Self.paths[0], "--csv"])
    #expect(csv.stdout == "path,probability,logit,fake\n\(Self.paths[0]),\(library[0].probability),\(library[0].meanLogit),\(library[0].isFake)\n")
  }

  @Test("--heatmaps writes one PNG per image, the size of the image")
  func heatmaps() throws {
    let dir = try CLIRunner.temporaryFolder()
    let r = try CLIRunner.run(["deepfake", "tiny-ladeda", "--weights", Self.weights, Self.paths[1], Self.paths[2], "--heatmaps", dir + "/maps"])
    #expect(r.status == 0, "\(r.stderr)")
    let map = try ImageDecoder.decode(path: dir + "/maps/photo192x160.heatmap.png")
    #expect(map.width == 192 && map.height == 160)
    #expect(FileManager.default.fileExists(atPath: dir + "/maps/synthetic400x300.heatmap.png"))
  }

  @Test("weights with a wrong shape exit 1 naming the file and the tensor")
  func wrongShape() throws {
    let dir = try CLIRunner.temporaryFolder()
    let source = try SafeTensorsFile(path: Self.weights)
    var writer = SafeTensorsWriter(metadata: source.metadata)
    for name in source.names {
      if name == "conv2.weight" {
        try writer.add(name, floats: [Float](repeating: 0.1, count: 64), shape: [8, 8, 1, 1])
      } else {
        try writer.add(name, floats: try source.floats(name), shape: try source.info(name).shape)
      }
    }
    let bad = dir + "/bad.safetensors"
    try writer.write(to: bad)
    let r = try CLIRunner.run(["deepfake", "tiny-ladeda", "--weights", bad, Self.paths[0]])
    #expect(r.status == 1)
    #expect(r.stderr == "error: \(bad): Tiny-LaDeDa weights with the wrong shapes: tensor 'conv2.weight' is [8, 8, 1, 1], expected [8, 8, 3, 3]\n")
    #expect(r.stdout.isEmpty)
  }

  @Test("no --weights is a usage error that explains the conversion")
  func missingWeights() throws {
    let r = try CLIRunner.run(["deepfake", "tiny-ladeda", Self.paths[0]])
    #expect(r.status == 2)
    #expect(r.stderr.contains("--weights is required"))
    #expect(r.stderr.contains("python3 Weights/convert.py tiny-ladeda --pth WildRF_Tiny_LaDeDa.pth --out"))
  }

  @Test("a .pth given as --weights exits 1 with the conversion command")
  func unconverted() throws {
    let pth = CLIRunner.fixture("tiny-ladeda/random-weights.pth")
    let r = try CLIRunner.run(["deepfake", "tiny-ladeda", "--weights", pth, Self.paths[0]])
    #expect(r.status == 1)
    #expect(r.stderr.contains("\(pth): this is a PyTorch checkpoint") && r.stderr.contains("Weights/convert.py tiny-ladeda --pth \(pth)"))
  }

  @Test("an unreadable image exits 1 naming it")
  func badImage() throws {
    let dir = try CLIRunner.temporaryFolder()
    let broken = dir + "/broken.png"
    try CLIRunner.write(MalformedFiles.pngHeader(width: 64, height: 64), to: broken)
    let r = try CLIRunner.run(["deepfake", "tiny-ladeda", "--weights", Self.weights, Self.paths[0], broken])
    #expect(r.status == 1)
    #expect(r.stderr.contains(broken))
    #expect(r.stdout.isEmpty)
  }
}
