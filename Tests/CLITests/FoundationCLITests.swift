import Foundation
import Testing

/// `info`, `embed` and `classify` end to end, including bad input: every
/// failure exits non-zero and names the offending file on stderr.
@Suite("CLI: info, embed, classify")
struct FoundationCLITests {
  @Test("classify prints espresso for the coffee photo")
  func classifyCoffee() throws {
    let r = try CLIRunner.run(["classify", CLIRunner.fixture("efficientnet/coffee.png")])
    #expect(r.status == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n")
    #expect(lines.count == 6)
    #expect(lines.dropFirst().first?.contains("espresso") == true, "\(r.stdout)")
  }

  @Test("embed writes an N×1280 float32 .npy and a paths file in input order")
  func embedNPY() throws {
    let dir = try CLIRunner.temporaryFolder()
    let out = dir + "/features.npy"
    let photos = ["rocket", "coffee"].map { CLIRunner.fixture("efficientnet/\($0).png") }
    let r = try CLIRunner.run(["embed"] + photos + ["--out", out])
    #expect(r.status == 0, "\(r.stderr)")
    let data = try Data(contentsOf: URL(fileURLWithPath: out))
    #expect(data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)))
    let headerLength = Int(data[8]) | Int(data[9]) << 8
    let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
    #expect(header.contains("'descr': '<f4'") && header.contains("(2, 1280)"))
    #expect((10 + headerLength) % 64 == 0)
    #expect(data.count == 10 + headerLength + 2 * 1280 * 4)
    let paths = try String(contentsOfFile: out + ".paths.txt", encoding: .utf8)
    #expect(paths == photos.joined(separator: "\n") + "\n")
  }

  @Test("a photo's EXIF orientation is applied unless --keep-stored-orientation")
  func exifOrientation() throws {
    let dir = try CLIRunner.temporaryFolder()
    // The same stored pixels, tagged upright (1) and rotated 90° clockwise (6).
    let photos = [1, 6].map { CLIRunner.fixture("orientation/jpeg_orientation_\($0).jpg") }
    func rows(_ extra: [String]) throws -> (Data, Data) {
      let out = dir + "/f.npy"
      let r = try CLIRunner.run(["embed"] + photos + ["--resize", "stretch", "--out", out] + extra)
      #expect(r.status == 0, "\(r.stderr)")
      let data = try Data(contentsOf: URL(fileURLWithPath: out))
      let row = 1280 * 4
      return (data.subdata(in: 128..<(128 + row)), data.subdata(in: (128 + row)..<(128 + 2 * row)))
    }
    let applied = try rows([])
    #expect(applied.0 != applied.1, "the rotated photo should not embed as the upright one")
    let stored = try rows(["--keep-stored-orientation"])
    #expect(stored.0 == stored.1, "as stored, both files hold the same pixels")
    #expect(stored.0 == applied.0, "orientation 1 is the stored pixels")
  }

  @Test("embed --layer stage3 writes 40·28·28 values per image to .safetensors")
  func embedStageSafetensors() throws {
    let dir = try CLIRunner.temporaryFolder()
    let out = dir + "/maps.safetensors"
    let r = try CLIRunner.run(["embed", CLIRunner.fixture("efficientnet/coffee.png"), "--layer", "stage3", "--out", out])
    #expect(r.status == 0, "\(r.stderr)")
    let info = try CLIRunner.run(["info", out, "--json"])
    #expect(info.status == 0)
    #expect(info.stdout.contains("\"shape\":[1,31360]"), "\(info.stdout)")
    #expect(info.stdout.contains("\"layer\":\"stage3\""))
  }

  @Test("the portable kernels (OpenBLAS GEMM, SSE2 depthwise) give the same features as the AVX2 ones")
  func portableKernels() throws {
    let dir = try CLIRunner.temporaryFolder()
    let photos = ["coffee", "chelsea", "astronaut", "rocket"].map { CLIRunner.fixture("efficientnet/\($0).png") }
    let fast = try CLIRunner.run(["embed"] + photos + ["--out", dir + "/fast.npy"])
    let portable = try CLIRunner.run(["embed"] + photos + ["--out", dir + "/portable.npy"], environment: ["ANOMALYKIT_KERNELS": "portable"])
    #expect(fast.status == 0 && portable.status == 0, "\(fast.stderr) \(portable.stderr)")
    let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/fast.npy"))
    let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/portable.npy"))
    #expect(a.count == b.count && a.count == 128 + 4 * 1280 * 4)
    var worst: Float = 0
    for i in stride(from: 128, to: min(a.count, b.count), by: 4) {
      let x = a.subdata(in: i..<(i + 4)).withUnsafeBytes { $0.loadUnaligned(as: Float.self) }
      let y = b.subdata(in: i..<(i + 4)).withUnsafeBytes { $0.loadUnaligned(as: Float.self) }
      worst = max(worst, abs(x - y))
    }
    #expect(worst <= 1e-4, "max |Δ pooled| between kernel paths = \(worst)")
  }

  @Test("info describes the bundled weights")
  func infoWeights() throws {
    let r = try CLIRunner.run(["info", CLIRunner.weights])
    #expect(r.status == 0)
    #expect(r.stdout.contains("architecture = efficientnet-lite0"))
    #expect(r.stdout.contains("_conv_stem.weight"))
  }

  struct BadInput: Sendable, CustomStringConvertible {
    let name: String
    let bytes: [UInt8]
    let command: String  // "classify" or "info"
    var description: String { name }
  }

  static let badImages: [BadInput] = {
    let png = (try? Data(contentsOf: URL(fileURLWithPath: CLIRunner.fixture("efficientnet/coffee.png")))).map { Array($0) } ?? []
    return [
      BadInput(name: "empty.png", bytes: [], command: "classify"),
      BadInput(name: "garbage.png", bytes: Array("this is not an image at all".utf8), command: "classify"),
      BadInput(name: "truncated.png", bytes: Array(png.prefix(png.count / 3)), command: "classify"),
      BadInput(name: "huge.png", bytes: MalformedFiles.pngHeader(width: 100_000, height: 100_000), command: "classify"),
      BadInput(name: "garbage.jpg", bytes: [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array(repeating: 0x41, count: 64), command: "classify"),
      BadInput(name: "zero.jpg", bytes: [], command: "classify"),
    ]
  }()

  @Test("bad images exit 1 and name the file", arguments: badImages)
  func badImage(_ input: BadInput) throws {
    let dir = try CLIRunner.temporaryFolder()
    let path = dir + "/" + input.name
    try CLIRunner.write(input.bytes, to: path)
    let r = try CLIRunner.run([input.command, path])
    #expect(r.status == 1, "\(input.name): status \(r.status), stderr \(r.stderr)")
    #expect(r.stderr.contains(path), "\(input.name): \(r.stderr)")
    #expect(!r.stderr.contains("Fatal error"))
  }

  @Test("a truncated JPEG exits 1 and names the file")
  func truncatedJPEG() throws {
    let dir = try CLIRunner.temporaryFolder()
    let source = dir + "/whole.jpg"
    let jpeg = CLIRunner.fixture("images/jpeg_baseline.jpg")
    try #require(FileManager.default.fileExists(atPath: jpeg), "missing fixture \(jpeg)")
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: jpeg)))
    try CLIRunner.write(Array(bytes.prefix(bytes.count / 2)), to: source)
    let r = try CLIRunner.run(["classify", source])
    #expect(r.status == 1)
    #expect(r.stderr.contains(source) && r.stderr.contains("truncated JPEG"), "\(r.stderr)")
  }

  static let badWeights: [BadInput] = [
    BadInput(name: "past-eof.safetensors", bytes: MalformedFiles.safetensors(header: "{}", claimedLength: 1 << 20), command: "info"),
    BadInput(
      name: "overlap.safetensors",
      bytes: MalformedFiles.safetensors(
        header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
        data: Array(repeating: 0, count: 12)), command: "info"),
    BadInput(
      name: "out-of-range.safetensors",
      bytes: MalformedFiles.safetensors(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: Array(repeating: 0, count: 8)),
      command: "info"),
    BadInput(
      name: "length-mismatch.safetensors",
      bytes: MalformedFiles.safetensors(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)),
      command: "info"),
    BadInput(name: "not-json.safetensors", bytes: MalformedFiles.safetensors(header: "{nope"), command: "info"),
  ]

  @Test("malformed safetensors exit 1 and name the file", arguments: badWeights)
  func badSafetensors(_ input: BadInput) throws {
    let dir = try CLIRunner.temporaryFolder()
    let path = dir + "/" + input.name
    try CLIRunner.write(input.bytes, to: path)
    let r = try CLIRunner.run(["info", path])
    #expect(r.status == 1, "\(input.name): status \(r.status)")
    #expect(r.stderr.contains(path), "\(input.name): \(r.stderr)")
  }

  @Test("weights missing a tensor exit 1 and name the file and the tensor")
  func weightsMissingTensor() throws {
    let dir = try CLIRunner.temporaryFolder()
    let path = dir + "/partial.safetensors"
    let header = #"{"__metadata__":{"architecture":"efficientnet-lite0","format":"weights"},"_conv_stem.weight":{"dtype":"F32","shape":[32,3,3,3],"data_offsets":[0,3456]}}"#
    try CLIRunner.write(MalformedFiles.safetensors(header: header, data: Array(repeating: 0, count: 3456)), to: path)
    let r = try CLIRunner.run(["classify", CLIRunner.fixture("efficientnet/coffee.png"), "--weights", path])
    #expect(r.status == 1)
    #expect(r.stderr.contains(path) && r.stderr.contains("_bn0"), "\(r.stderr)")
  }

  @Test("usage errors exit 2")
  func usage() throws {
    #expect(try CLIRunner.run(["embed", "x.png"]).status == 2)  // missing --out
    #expect(try CLIRunner.run(["embed", "x.png", "--out", "x.txt"]).status == 2)
    #expect(try CLIRunner.run(["no-such-command"]).status == 2)
    #expect(try CLIRunner.run(["embed", "x.png", "--out", "y.npy", "--layer", "stage99"]).status == 2)
  }

  @Test("embed into a missing folder fails before any work and names the path")
  func missingOutputFolder() throws {
    let out = "/nonexistent-folder-\(UUID().uuidString)/f.npy"
    let r = try CLIRunner.run(["embed", CLIRunner.fixture("efficientnet/coffee.png"), "--out", out])
    #expect(r.status == 1)
    #expect(r.stderr.contains(out), "\(r.stderr)")
  }

  @Test("a folder with no images is an error; non-image files are skipped with a warning")
  func folders() throws {
    let dir = try CLIRunner.temporaryFolder()
    try CLIRunner.write(Array("notes".utf8), to: dir + "/README.txt")
    let empty = try CLIRunner.run(["embed", dir, "--out", dir + "/f.npy"])
    #expect(empty.status == 1)
    #expect(empty.stderr.contains("no images found"), "\(empty.stderr)")
    try FileManager.default.copyItem(atPath: CLIRunner.fixture("efficientnet/coffee.png"), toPath: dir + "/a.png")
    let ok = try CLIRunner.run(["embed", dir, "--out", dir + "/f.npy"])
    #expect(ok.status == 0, "\(ok.stderr)")
    #expect(ok.stderr.contains("skipped 1 non-image file"), "\(ok.stderr)")
  }
}
