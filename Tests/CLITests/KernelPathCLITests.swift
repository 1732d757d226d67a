import FeatureExtraction
import Foundation
import TensorFiles
import Testing

/// `ANOMALYKIT_KERNELS` forces each kernel path in a fresh process: the
/// AVX-512 and AVX2 float32 paths give the same bits, the portable path
/// agrees to rounding, and a bad value is refused before any work.
@Suite("CLI: kernel paths")
struct KernelPathCLITests {
  static let photos = ["coffee", "chelsea", "astronaut", "rocket"].map { CLIRunner.fixture("efficientnet/\($0).png") }

  /// The paths this CPU can run, widest first.
  static var paths: [String] {
    switch KernelPath.active {
    case .avx512: return ["avx512", "avx2", "portable"]
    case .avx2: return ["avx2", "portable"]
    case .portable: return ["portable"]
    }
  }

  @Test("image features and text prototypes: avx512 and avx2 give the same bits, portable agrees within 1e-4")
  func everyPath() throws {
    let dir = try CLIRunner.temporaryFolder()
    var features: [String: [Float]] = [:]
    var prototypes: [String: [Float]] = [:]
    for path in Self.paths {
      let out = dir + "/\(path).npy"
      let embed = try CLIRunner.run(["embed"] + Self.photos + ["--out", out], environment: ["ANOMALYKIT_KERNELS": path])
      #expect(embed.status == 0, "\(path): \(embed.stderr)")
      features[path] = try NPYFile.read(path: out).values
      let detector = dir + "/\(path).safetensors"
      let adapt = try CLIRunner.run(
        ["adapt", "--class-names", "activate_card,exchange_rate,lost_card", "--out", detector], environment: ["ANOMALYKIT_KERNELS": path])
      #expect(adapt.status == 0, "\(path): \(adapt.stderr)")
      prototypes[path] = try SafeTensorsFile(path: detector).floats("prototypes.original")
    }
    if let wide = features["avx512"], let narrow = features["avx2"] {
      #expect(wide == narrow, "AVX-512 and AVX2 image features differ")
      #expect(prototypes["avx512"] == prototypes["avx2"], "AVX-512 and AVX2 text prototypes differ")
    }
    let fastest = try #require(features[Self.paths[0]])
    let portable = try #require(features["portable"])
    #expect(zip(fastest, portable).allSatisfy { abs($0 - $1) <= 1e-4 }, "portable image features differ by more than 1e-4")
    let textFast = try #require(prototypes[Self.paths[0]])
    let textPortable = try #require(prototypes["portable"])
    #expect(zip(textFast, textPortable).allSatisfy { abs($0 - $1) <= 1e-4 }, "portable text prototypes differ by more than 1e-4")
  }

  @Test("an unknown ANOMALYKIT_KERNELS value is refused, naming the choices")
  func unknownValue() throws {
    let dir = try CLIRunner.temporaryFolder()
    let r = try CLIRunner.run(["embed", Self.photos[0], "--out", dir + "/f.npy"], environment: ["ANOMALYKIT_KERNELS": "sse9"])
    #expect(r.status == 1, "\(r.stdout)")
    #expect(r.stderr.contains("ANOMALYKIT_KERNELS='sse9' is not a kernel path (expected avx512, avx2, portable"), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/f.npy"))
  }
}
