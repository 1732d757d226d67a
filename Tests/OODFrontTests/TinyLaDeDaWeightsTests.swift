import Foundation
import OODFront
import TensorFiles
import Testing

/// Loading refuses anything but a complete, well-shaped Tiny-LaDeDa file,
/// with a message naming the file and the tensor or key.
@Suite("Tiny-LaDeDa weights validation")
struct TinyLaDeDaWeightsTests {
  static let source = TestPaths.fixture("tiny-ladeda/random-weights.safetensors")

  /// A copy of the fixture weights with `edit` applied to the tensors
  /// (name → (shape, values)) and metadata, written to a temporary file.
  static func variant(
    _ label: String, tensors edit: (inout [String: ([Int], [Float])]) -> Void = { _ in },
    metadata editMetadata: (inout [String: String]) -> Void = { _ in }
  ) throws -> String {
    let file = try SafeTensorsFile(path: source)
    var tensors: [String: ([Int], [Float])] = [:]
    for name in file.names { tensors[name] = (try file.info(name).shape, try file.floats(name)) }
    edit(&tensors)
    var metadata = file.metadata
    editMetadata(&metadata)
    var writer = SafeTensorsWriter(metadata: metadata)
    for name in tensors.keys.sorted() {
      let (shape, values) = tensors[name]!
      try writer.add(name, floats: values, shape: shape)
    }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-ladeda-\(label)-\(UUID().uuidString).safetensors").path
    try writer.write(to: path)
    return path
  }

  /// The error message of loading `path`, or nil if it loads.
  static func loadError(_ path: String) -> String? {
    do {
      _ = try TinyLaDeDa(path: path)
      return nil
    } catch {
      return String(describing: error)
    }
  }

  @Test("the fixture loads, with its metadata")
  func loads() throws {
    let model = try TinyLaDeDa(path: Self.source)
    #expect(model.metadata["architecture"] == "tiny-ladeda")
    #expect(model.receptiveField == ReceptiveField(size: 7, stride: 2, offset: -1))
    #expect(TinyLaDeDa.tensorShapes.count == 18)
    // 1,297 learned parameters (the BN running statistics are not learned).
    let learned = TinyLaDeDa.tensorShapes.filter { !$0.name.hasSuffix("running_mean") && !$0.name.hasSuffix("running_var") }
    #expect(learned.reduce(0) { $0 + $1.shape.reduce(1, *) } == 1297)
  }

  @Test("a tensor with the wrong shape is named, with both shapes")
  func wrongShape() throws {
    let path = try Self.variant("shape") { t in t["layer1.0.conv2.weight"] = ([8, 8, 1, 1], Array(t["layer1.0.conv2.weight"]!.1.prefix(64))) }
    let message = try #require(Self.loadError(path))
    #expect(message == "\(path): Tiny-LaDeDa weights with the wrong shapes: tensor 'layer1.0.conv2.weight' is [8, 8, 1, 1], expected [8, 8, 3, 3]")
    // The authors' factory shape for fc (Bottleneck expansion 4).
    let fc32 = try Self.variant("fc32") { t in t["fc.weight"] = ([1, 32], [Float](repeating: 0.1, count: 32)) }
    #expect(Self.loadError(fc32) == "\(fc32): Tiny-LaDeDa weights with the wrong shapes: tensor 'fc.weight' is [1, 32], expected [1, 8]")
  }

  @Test("missing and unexpected tensors are named")
  func missingAndUnexpected() throws {
    let missing = try Self.variant("missing") { t in t["bn1.running_var"] = nil }
    #expect(Self.loadError(missing)?.contains("without tensor 'bn1.running_var'") == true)
    let extra = try Self.variant("extra") { t in t["layer1.0.conv3.weight"] = ([32, 8, 1, 1], [Float](repeating: 0, count: 256)) }
    #expect(Self.loadError(extra) == "\(extra): tensor 'layer1.0.conv3.weight' [32, 8, 1, 1] is not part of Tiny-LaDeDa")
  }

  @Test("non-finite weights and negative variances are refused")
  func badValues() throws {
    let nan = try Self.variant("nan") { t in t["conv2.weight"]!.1[5] = .nan }
    #expect(Self.loadError(nan) == "\(nan): tensor 'conv2.weight': non-finite value at element 5")
    let variance = try Self.variant("variance") { t in t["layer1.0.bn2.running_var"]!.1[3] = -1 }
    #expect(Self.loadError(variance) == "\(variance): tensor 'layer1.0.bn2.running_var': negative variance at element 3")
  }

  @Test("metadata of another model or representation is refused")
  func metadata() throws {
    let arch = try Self.variant("arch", metadata: { $0["architecture"] = "efficientnet-lite0" })
    #expect(Self.loadError(arch) == "\(arch): not a Tiny-LaDeDa weights file: metadata 'architecture' is 'efficientnet-lite0', expected 'tiny-ladeda'")
    let none = try Self.variant("noarch", metadata: { $0["architecture"] = nil })
    #expect(Self.loadError(none)?.contains("no 'architecture' in metadata") == true)
    let version = try Self.variant("version", metadata: { $0["format_version"] = "2" })
    #expect(Self.loadError(version)?.contains("'format_version' is '2', expected '1'") == true)
    let preprocess = try Self.variant("preprocess", metadata: { $0["preprocess"] = "raw" })
    #expect(Self.loadError(preprocess)?.contains("metadata 'preprocess' is 'raw', expected one of left_diag, right_diag, x_grad, y_grad, NPR") == true)
    let kernel = try Self.variant("kernel", metadata: { $0["gradient_kernel"] = "[[0,1,2],[-1,0,1],[-2,-1,0]]" })
    #expect(Self.loadError(kernel)?.contains("'right_diag' is [-2, -1, 0, -1, 0, 1, 0, 1, 2]") == true)
    let left = try Self.variant("left", metadata: { $0["preprocess"] = "left_diag"; $0["gradient_kernel"] = "[[0,1,2],[-1,0,1],[-2,-1,0]]" })
    #expect(try TinyLaDeDa(path: left).preprocess == .gradient(name: "left_diag", kernel: [0, 1, 2, -1, 0, 1, -2, -1, 0]))
  }

  @Test("a PyTorch checkpoint given directly gets the conversion command")
  func unconverted() throws {
    let dir = FileManager.default.temporaryDirectory.path
    for (label, bytes) in [("zip", [0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0] as [UInt8]), ("legacy", [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8])] {
      let path = dir + "/tiny-ladeda-\(label)-\(UUID().uuidString).pth"
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      #expect(throws: TinyLaDeDaError.unconvertedCheckpoint(path: path)) { try TinyLaDeDa(path: path) }
      #expect(Self.loadError(path)?.contains("python3 Weights/convert.py tiny-ladeda --pth \(path)") == true)
    }
  }
}
