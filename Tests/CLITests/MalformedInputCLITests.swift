import Foundation
import Testing

/// Every parser of the toolkit, end to end through the CLI, on malformed
/// input: each case writes one bad file (or folder, or nothing), runs the
/// command that consumes it, and checks the exit code, that stderr names the
/// offending path in full and says what was wrong, and that nothing trapped.
@Suite("CLI: malformed inputs")
struct MalformedInputCLITests {
  /// What the case puts at its path.
  enum Payload: Sendable {
    /// A file with these bytes.
    case file([UInt8])
    /// A folder holding these files.
    case folder([String: [UInt8]])
    /// Nothing: the path does not exist.
    case absent
    /// Nothing, and the path's folder does not exist either.
    case inMissingFolder
  }

  /// Paths a command line can use besides the bad one.
  struct Context {
    /// The case's own temporary folder.
    let dir: String
    /// A valid 4×3 float32 .npy in `dir`.
    let goodNPY: String
    /// A valid photo.
    let image: String
    /// A valid 6×3 bank fitted from a .npy (shared by all cases).
    let bank: () throws -> String
    /// A valid text detector (shared by all cases).
    let detector: () throws -> String
    /// Valid descriptions JSON in `dir`.
    let descriptions: String
  }

  struct Case: Sendable, CustomStringConvertible {
    /// Distinct name, also used in messages.
    let name: String
    /// The file name the payload gets in the case's folder.
    let fileName: String
    let payload: @Sendable () -> Payload
    /// The command line, given the bad path.
    let command: @Sendable (_ bad: String, _ context: Context) throws -> [String]
    let exitCode: Int32
    /// What the message must say about the problem or the expectation.
    let message: String

    init(
      _ name: String, file fileName: String, exit exitCode: Int32 = 1, says message: String, _ payload: @escaping @Sendable () -> Payload,
      command: @escaping @Sendable (_ bad: String, _ context: Context) throws -> [String]
    ) {
      self.name = name
      self.fileName = fileName
      self.payload = payload
      self.command = command
      self.exitCode = exitCode
      self.message = message
    }

    var description: String { name }
  }

  // MARK: Shared valid files

  static let sharedFolder: String = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("anomalykit-malformed-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }()

  static let validDescriptions = #"{"activate card": "How can I activate my new card?", "lost card": "My card was lost, what should I do?"}"#

  static let sharedBank: Result<String, CLIFailure> = {
    let npy = sharedFolder + "/normal.npy"
    let bank = sharedFolder + "/bank.safetensors"
    do {
      try CLIRunner.write(MalformedFiles.npy(rows: 6, columns: 3), to: npy)
      let r = try CLIRunner.run(["fit", "--from-npy", npy, "--holdout", "0", "--k", "1", "--out", bank])
      guard r.status == 0 else { return .failure(CLIFailure(message: "fit --from-npy: \(r.stderr)")) }
      return .success(bank)
    } catch {
      return .failure(CLIFailure(message: "\(error)"))
    }
  }()

  static let sharedDetector: Result<String, CLIFailure> = {
    let descriptions = sharedFolder + "/descriptions.json"
    let detector = sharedFolder + "/detector.safetensors"
    do {
      try CLIRunner.write(Array(validDescriptions.utf8), to: descriptions)
      let r = try CLIRunner.run(["adapt", "--descriptions", descriptions, "--out", detector])
      guard r.status == 0 else { return .failure(CLIFailure(message: "adapt --descriptions: \(r.stderr)")) }
      return .success(detector)
    } catch {
      return .failure(CLIFailure(message: "\(error)"))
    }
  }()

  struct CLIFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { "setup failed: \(message)" }
  }

  // MARK: Builders

  static func fixture(_ relative: String) -> [UInt8] {
    (try? Data(contentsOf: URL(fileURLWithPath: CLIRunner.fixture(relative)))).map { Array($0) } ?? []
  }

  static var baselineJPEG: [UInt8] { fixture("images/jpeg_baseline.jpg") }

  static let features23: [UInt8] = MalformedFiles.float32([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])

  /// A safetensors file with string metadata `meta` (sorted keys) and the
  /// given tensors, `name: (dtype, shape, byte count)`, laid out in order.
  static func safetensors(meta: [String: String], tensors: [(String, String, [Int], Int)] = []) -> [UInt8] {
    func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
    var entries: [String] = []
    if !meta.isEmpty {
      entries.append("\"__metadata__\":{" + meta.sorted { $0.key < $1.key }.map { quoted($0.key) + ":" + quoted($0.value) }.joined(separator: ",") + "}")
    }
    var offset = 0
    for (name, dtype, shape, bytes) in tensors {
      entries.append("\(quoted(name)):{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + bytes)]}")
      offset += bytes
    }
    let data = (0..<offset).map { i in features23[i % features23.count] }
    return MalformedFiles.safetensors(header: "{" + entries.joined(separator: ",") + "}", data: data)
  }

  static let bankMeta: [String: String] = [
    "format": "bank", "format_version": "1", "scorer": "knn", "k": "1", "dimension": "3", "count": "2", "normalization": "none",
    "feature_transform": "none", "backbone": "external",
  ]

  /// A 2×3 bank whose metadata is `bankMeta` with `changes` (nil removes a key).
  static func bank(_ changes: [String: String?] = [:], features: (String, [Int], Int)? = ("F32", [2, 3], 24)) -> [UInt8] {
    var meta = bankMeta
    for (k, v) in changes { meta[k] = v }
    return safetensors(meta: meta, tensors: features.map { [("features", $0.0, $0.1, $0.2)] } ?? [])
  }

  static func npy(_ header: String, data: [UInt8] = features23) -> Payload {
    .file(MalformedFiles.npy(header: header, data: data))
  }

  static func text(_ s: String) -> Payload { .file(Array(s.utf8)) }

  // Command lines.
  static let classify: @Sendable (String, Context) -> [String] = { bad, _ in ["classify", bad] }
  static let info: @Sendable (String, Context) -> [String] = { bad, _ in ["info", bad] }
  static let scoreBank: @Sendable (String, Context) -> [String] = { bad, c in ["score", "--bank", bad, "--from-npy", c.goodNPY] }
  static let fitNPY: @Sendable (String, Context) -> [String] = { bad, c in ["fit", "--from-npy", bad, "--out", c.dir + "/bank.safetensors"] }
  static let evalNPY: @Sendable (String, Context) throws -> [String] = { bad, c in
    ["eval", "--bank", try c.bank(), "--normal-npy", bad, "--anomalous-npy", c.goodNPY]
  }
  static let adaptDescriptions: @Sendable (String, Context) -> [String] = { bad, c in
    ["adapt", "--descriptions", bad, "--out", c.dir + "/detector.safetensors"]
  }
  static let adaptObservations: @Sendable (String, Context) -> [String] = { bad, c in
    ["adapt", "--descriptions", c.descriptions, "--observations", bad, "--out", c.dir + "/detector.safetensors"]
  }
  static let scoreTextFile: @Sendable (String, Context) throws -> [String] = { bad, c in
    ["score", "--detector", try c.detector(), "--text-file", bad]
  }

  // MARK: Cases

  static let pngCases: [Case] = [
    Case("png: empty file", file: "empty.png", says: "empty file (0 bytes), expected a PNG or JPEG image", { .file([]) }, command: classify),
    Case("png: not a PNG", file: "text.png", says: "not a PNG or JPEG image", { text("GIF89a, or rather plain text") }, command: classify),
    Case("png: truncated in IDAT", file: "cut-idat.png", says: "truncated PNG: data ended after", {
      let p = MalformedFiles.pngParts(width: 16, height: 16)
      return .file(p.signature + p.ihdr + Array(p.idat.prefix(p.idat.count / 2)))
    }, command: classify),
    Case("png: bad CRC in IHDR", file: "bad-crc.png", says: "corrupt PNG: IHDR: CRC error", {
      .file(MalformedFiles.pngSignature + MalformedFiles.pngChunk("IHDR", MalformedFiles.ihdr(width: 8, height: 8), corruptCRC: true) + MalformedFiles.pngParts().idat + MalformedFiles.pngParts().iend)
    }, command: classify),
    Case("png: IHDR with zero width", file: "zero-width.png", says: "corrupt PNG: Invalid IHDR data (Image width is zero in IHDR)", {
      let p = MalformedFiles.pngParts()
      return .file(p.signature + MalformedFiles.pngChunk("IHDR", MalformedFiles.ihdr(width: 0, height: 8)) + p.idat + p.iend)
    }, command: classify),
    Case("png: IHDR over the pixel budget", file: "budget.png", says: "above the pixel budget", {
      let p = MalformedFiles.pngParts()
      return .file(p.signature + MalformedFiles.pngChunk("IHDR", MalformedFiles.ihdr(width: 50_000, height: 50_000)) + p.idat + p.iend)
    }, command: { bad, c in ["embed", bad, "--out", c.dir + "/f.npy"] }),
    Case("png: IHDR side over libpng's limit", file: "wide.png", says: "Image width exceeds user limit in IHDR", {
      let p = MalformedFiles.pngParts()
      return .file(p.signature + MalformedFiles.pngChunk("IHDR", MalformedFiles.ihdr(width: 2_000_000, height: 1)) + p.idat + p.iend)
    }, command: classify),
    Case("png: RGB with bit depth 4", file: "rgb4.png", says: "Invalid color type/bit depth combination in IHDR", {
      let p = MalformedFiles.pngParts()
      return .file(p.signature + MalformedFiles.pngChunk("IHDR", MalformedFiles.ihdr(width: 8, height: 8, bitDepth: 4, colorType: 2)) + p.idat + p.iend)
    }, command: classify),
    Case("png: colour type 5", file: "type5.png", says: "Invalid color type in IHDR", {
      let p = MalformedFiles.pngParts()
      return .file(p.signature + MalformedFiles.pngChunk("IHDR", MalformedFiles.ihdr(width: 8, height: 8, bitDepth: 8, colorType: 5)) + p.idat + p.iend)
    }, command: classify),
    Case("png: ends after IHDR", file: "only-ihdr.png", says: "truncated PNG", {
      let p = MalformedFiles.pngParts()
      return .file(p.signature + p.ihdr)
    }, command: classify),
    Case("png: IEND before any IDAT", file: "no-idat.png", says: "corrupt PNG: IEND: out of place", {
      let p = MalformedFiles.pngParts()
      return .file(p.signature + p.ihdr + p.iend)
    }, command: classify),
    Case("png: corrupt zlib stream", file: "bad-zlib.png", says: "corrupt PNG: IDAT: invalid block type", {
      let p = MalformedFiles.pngParts()
      return .file(p.signature + p.ihdr + MalformedFiles.pngChunk("IDAT", [0x78, 0x9C] + Array(repeating: 0xFF, count: 40)) + p.iend)
    }, command: { bad, c in ["fit", bad, "--out", c.dir + "/bank.safetensors"] }),
    Case("png: too little image data", file: "short-data.png", says: "corrupt PNG: Not enough image data", {
      .file(MalformedFiles.pngHeader(width: 64, height: 64))
    }, command: classify),
  ]

  static let jpegCases: [Case] = [
    Case("jpeg: empty file", file: "empty.jpg", says: "empty file (0 bytes)", { .file([]) }, command: classify),
    Case("jpeg: SOI and EOI only", file: "soi.jpg", says: "corrupt JPEG: JPEG datastream contains no image", { .file([0xFF, 0xD8, 0xFF, 0xD9]) }, command: classify),
    Case("jpeg: truncated scan", file: "cut-scan.jpg", says: "truncated JPEG", {
      let jpeg = baselineJPEG
      let start = MalformedFiles.jpegScanStart(jpeg) ?? 0
      return .file(Array(jpeg.prefix(start + (jpeg.count - start) / 3)))
    }, command: classify),
    Case("jpeg: SOF claiming 60000×60000", file: "huge-sof.jpg", says: "60000×60000 = 3600000000 pixels, above the pixel budget", {
      .file(MalformedFiles.jpeg(baselineJPEG, settingWidth: 60_000, height: 60_000))
    }, command: classify),
    Case("jpeg: SOF with zero height", file: "zero-height.jpg", says: "corrupt JPEG: Empty JPEG image", {
      .file(MalformedFiles.jpeg(baselineJPEG, settingWidth: 64, height: 0))
    }, command: classify),
    Case("jpeg: garbage after SOI", file: "garbage.jpg", says: "corrupt JPEG: Unsupported marker type", {
      .file([0xFF, 0xD8, 0xFF] + Array("this is not a marker segment at all".utf8))
    }, command: classify),
    Case("jpeg: headers without a scan", file: "no-scan.jpg", says: "truncated JPEG", {
      let jpeg = baselineJPEG
      let start = MalformedFiles.jpegScanStart(jpeg) ?? 0
      return .file(Array(jpeg.prefix(start)))
    }, command: { bad, c in ["embed", bad, "--out", c.dir + "/f.npy"] }),
    Case("jpeg: truncated PNG renamed .jpg", file: "renamed.jpg", says: "truncated PNG", {
      let p = MalformedFiles.pngParts(width: 16, height: 16)
      return .file(p.signature + p.ihdr + Array(p.idat.prefix(20)))
    }, command: classify),
  ]

  static let safetensorsCases: [Case] = [
    Case("safetensors: shorter than the length prefix", file: "short.safetensors", says: "expected at least 8 (header length)", {
      .file([1, 2, 3, 4])
    }, command: info),
    Case("safetensors: header length beyond the file", file: "past-eof.safetensors", says: "header claims 4096 bytes but the file has only", {
      .file(MalformedFiles.safetensors(header: "{}", claimedLength: 4096))
    }, command: info),
    Case("safetensors: header length 2^63", file: "2p63.safetensors", says: "above the limit of", {
      .file(MalformedFiles.safetensors(header: "{}", claimedLength: 1 << 63))
    }, command: info),
    Case("safetensors: header not JSON", file: "not-json.safetensors", says: "invalid safetensors header: JSON", {
      .file(MalformedFiles.safetensors(header: "{\"a\": nope}"))
    }, command: info),
    Case("safetensors: header not an object", file: "array.safetensors", says: "invalid safetensors header: expected a JSON object", {
      .file(MalformedFiles.safetensors(header: "[1, 2, 3]"))
    }, command: info),
    Case("safetensors: metadata value not a string", file: "meta-number.safetensors", says: "__metadata__ value for 'k' is not a string", {
      .file(MalformedFiles.safetensors(header: #"{"__metadata__":{"k":3}}"#))
    }, command: info),
    Case("safetensors: unknown dtype", file: "dtype.safetensors", says: "unknown dtype 'F17' (expected one of", {
      .file(safetensors(meta: [:], tensors: [("w", "F17", [2], 8)]))
    }, command: info),
    Case("safetensors: shape and offsets disagree", file: "mismatch.safetensors", says: "shape [3] of F32 needs 12 bytes but data_offsets span 8", {
      .file(safetensors(meta: [:], tensors: [("w", "F32", [3], 8)]))
    }, command: info),
    Case("safetensors: overlapping tensors", file: "overlap.safetensors", says: "tensors 'a' and 'b' overlap", {
      .file(
        MalformedFiles.safetensors(
          header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
          data: Array(repeating: 0, count: 12)))
    }, command: info),
    Case("safetensors: negative shape", file: "negative.safetensors", says: "shape holds a value that is not a non-negative integer", {
      .file(MalformedFiles.safetensors(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]))
    }, command: info),
    Case("safetensors: shape overflowing", file: "huge-shape.safetensors", says: "overflows", {
      .file(MalformedFiles.safetensors(header: #"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]))
    }, command: info),
    Case("safetensors: offsets past the data", file: "out-of-range.safetensors", says: "data_offsets [0, 16] fall outside the data section of 8 bytes", {
      .file(MalformedFiles.safetensors(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: Array(repeating: 0, count: 8)))
    }, command: info),
    Case("weights: missing tensors", file: "partial.safetensors", says: "missing tensor '_bn0", {
      .file(safetensors(meta: ["architecture": "efficientnet-lite0", "format": "weights"], tensors: [("_conv_stem.weight", "F32", [32, 3, 3, 3], 3456)]))
    }, command: { bad, c in ["classify", c.image, "--weights", bad] }),
    Case("weights: a bank given as --weights", file: "bank-as-weights.safetensors", says: "not an AnomalyKit weights file: no 'architecture'", {
      .file(bank())
    }, command: { bad, c in ["classify", c.image, "--weights", bad] }),
  ]

  static let bankCases: [Case] = [
    Case("bank: a weights file", file: "weights.safetensors", says: "metadata 'format' is 'weights', expected 'bank'", {
      .file(safetensors(meta: ["architecture": "efficientnet-lite0", "format": "weights"], tensors: [("_conv_stem.weight", "F32", [2, 3], 24)]))
    }, command: scoreBank),
    Case("bank: a detector file", file: "detector.safetensors", says: "metadata 'format' is 'detector', expected 'bank'", {
      .file(safetensors(meta: ["format": "detector", "format_version": "1"], tensors: [("prototypes.original", "F32", [2, 3], 24)]))
    }, command: scoreBank),
    Case("bank: an identity bank", file: "identity.safetensors", says: "metadata 'format' is 'identity', expected 'bank'", {
      .file(safetensors(meta: ["format": "identity", "format_version": "1", "name": "P"], tensors: [("references", "F32", [2, 3], 24)]))
    }, command: scoreBank),
    Case("bank: no format metadata", file: "plain.safetensors", says: "metadata 'format' is '(missing)', expected 'bank'", {
      .file(safetensors(meta: [:], tensors: [("features", "F32", [2, 3], 24)]))
    }, command: scoreBank),
    Case("bank: missing its features tensor", file: "no-features.safetensors", says: "missing tensor 'features'", {
      .file(bank(features: nil))
    }, command: scoreBank),
    Case("bank: features of the wrong dtype", file: "f64.safetensors", says: "'features' must be a non-empty F32 or BF16 [N, D] tensor, found F64", {
      .file(bank(features: ("F64", [2, 3], 48)))
    }, command: scoreBank),
    Case("bank: NaN threshold", file: "nan-threshold.safetensors", says: "threshold 'nan' is not a finite number", {
      .file(bank(["threshold": "nan"]))
    }, command: scoreBank),
    Case("bank: k not an integer", file: "k-text.safetensors", says: "metadata 'k' must be a positive integer", {
      .file(bank(["k": "two"]))
    }, command: scoreBank),
    Case("bank: unknown scorer", file: "scorer.safetensors", says: "unknown scorer 'magic'", { .file(bank(["scorer": "magic"])) }, command: scoreBank),
    Case("bank: future format version", file: "v9.safetensors", says: "format_version '9' is not supported", {
      .file(bank(["format_version": "9"]))
    }, command: scoreBank),
    Case("bank: truncated file", file: "truncated-bank.safetensors", says: "fall outside the data section", {
      let whole = bank()
      return .file(Array(whole.prefix(whole.count - 10)))
    }, command: { bad, c in ["eval", "--bank", bad, "--normal-npy", c.goodNPY, "--anomalous-npy", c.goodNPY] }),
    Case("detector: a bank given as --detector", file: "bank-as-detector.safetensors", says: "metadata 'format' is 'bank', expected 'detector'", {
      .file(bank())
    }, command: { bad, _ in ["score", "--detector", bad, "some text"] }),
  ]

  static let npyCases: [Case] = [
    Case("npy: bad magic", file: "magic.npy", says: "missing the \\x93NUMPY magic", {
      .file(MalformedFiles.npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data: features23, magic: Array("NOTNPY".utf8)))
    }, command: fitNPY),
    Case("npy: unsupported version", file: "v9.npy", says: "unsupported format version 9 (expected 1, 2 or 3)", {
      .file(MalformedFiles.npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data: features23, version: 9))
    }, command: fitNPY),
    Case("npy: header not a dict", file: "not-dict.npy", says: "header is not a Python dict", { npy("['<f4', False, (2, 3)]") }, command: fitNPY),
    Case("npy: header length past the end", file: "long-header.npy", says: "runs past the end of the file", {
      .file([0x93] + Array("NUMPY".utf8) + [1, 0, 0xFF, 0x7F] + Array("{'descr': '<f4'".utf8))
    }, command: fitNPY),
    Case("npy: fortran_order True", file: "fortran.npy", says: "only C order is supported", {
      npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }")
    }, command: fitNPY),
    Case("npy: int32 dtype", file: "int.npy", says: "dtype must be '<f4' or '<f8'", { npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }") }, command: fitNPY),
    Case("npy: big-endian float32", file: "big-endian.npy", says: "dtype must be '<f4' or '<f8'", {
      npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }")
    }, command: evalNPY),
    Case("npy: 3-D shape", file: "3d.npy", says: "shape must be 1-D or 2-D", {
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }")
    }, command: fitNPY),
    Case("npy: data shorter than the shape", file: "short.npy", says: "shape (4, 3) needs 48 data bytes, file has 24", {
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }")
    }, command: fitNPY),
    Case("npy: NaN feature (fit)", file: "nan.npy", says: "non-finite feature (NaN or Inf) in row 1, column 0", {
      .file(MalformedFiles.npy(rows: 3, columns: 3, values: [1, 2, 3, .nan, 5, 6, 7, 8, 9]))
    }, command: fitNPY),
    Case("npy: Inf feature (eval)", file: "inf.npy", says: "non-finite feature (NaN or Inf) in row 0, column 2", {
      .file(MalformedFiles.npy(rows: 2, columns: 3, values: [1, 2, .infinity, 4, 5, 6]))
    }, command: evalNPY),
    Case("npy: zero rows (fit)", file: "zero-rows.npy", says: "no feature rows", {
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", data: [])
    }, command: fitNPY),
    Case("npy: zero rows (eval)", file: "zero-rows-eval.npy", says: "no feature rows", {
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", data: [])
    }, command: evalNPY),
    Case("npy: zero columns", file: "zero-columns.npy", says: "features have zero columns; expected an N×D matrix with D ≥ 1", {
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", data: [])
    }, command: fitNPY),
    Case("npy: wrong dimension for the bank", file: "wide.npy", says: "features have dimension 4, the bank expects 3", {
      .file(MalformedFiles.npy(rows: 2, columns: 4))
    }, command: evalNPY),
    Case("npy: cold-start file of another width", file: "coldstart-npy", says: "test-anomaly.npy: features have 4 columns, expected 3", {
      .folder([
        "prototypes.npy": MalformedFiles.npy(rows: 2, columns: 3), "stream-normal.npy": MalformedFiles.npy(rows: 4, columns: 3),
        "anomaly-pool.npy": MalformedFiles.npy(rows: 2, columns: 3), "test-normal.npy": MalformedFiles.npy(rows: 2, columns: 3),
        "test-anomaly.npy": MalformedFiles.npy(rows: 2, columns: 4),
      ])
    }, command: { bad, _ in ["coldstart", "eval", bad, "--from-npy"] }),
  ]

  static let descriptionCases: [Case] = [
    Case("descriptions: not JSON", file: "broken.json", says: "invalid descriptions: not valid JSON", { text(#"{"a": "x", nope}"#) }, command: adaptDescriptions),
    Case("descriptions: an array", file: "array.json", says: "expected a JSON object mapping class name → description", {
      text(#"["How can I activate my card?", "I lost my card"]"#)
    }, command: adaptDescriptions),
    Case("descriptions: empty object", file: "empty-object.json", says: "the JSON object is empty", { text("{ }") }, command: adaptDescriptions),
    Case("descriptions: a number value", file: "number.json", says: "class 'a': expected a string or an array of strings", {
      text(#"{"a": 3}"#)
    }, command: adaptDescriptions),
    Case("descriptions: an empty string", file: "empty-string.json", says: "class 'a' has an empty description", { text(#"{"a": "  "}"#) }, command: adaptDescriptions),
    Case("descriptions: an empty array", file: "empty-array.json", says: "class 'a' has no description", { text(#"{"a": []}"#) }, command: adaptDescriptions),
    Case("descriptions: a class twice", file: "twice.json", says: "not valid JSON: duplicate key 'a'", { text(#"{"a": "x", "a": "y"}"#) }, command: adaptDescriptions),
    Case("descriptions: invalid UTF-8", file: "latin1.json", says: "not valid UTF-8", {
      .file(Array(#"{"caf"#.utf8) + [0xE9] + Array(#"": "a coffee"}"#.utf8))
    }, command: adaptDescriptions),
    Case("descriptions: empty file", file: "empty.txt", says: "no descriptions (the file is empty)", { .file([]) }, command: adaptDescriptions),
    Case("descriptions: a folder", file: "descriptions-folder", says: "cannot read: is a directory, expected a file", { .folder([:]) }, command: adaptDescriptions),
  ]

  static let textCases: [Case] = [
    Case("text: invalid UTF-8 (--text-file)", file: "bad-utf8.txt", says: ":2: text is not valid UTF-8", {
      .file(Array("fine first line\nsecond ".utf8) + [0xC3, 0x28] + Array(" line\n".utf8))
    }, command: scoreTextFile),
    Case("text: invalid UTF-8 (--observations)", file: "bad-obs.txt", says: ":3: text is not valid UTF-8", {
      .file(Array("one\ntwo\n".utf8) + [0xFF, 0xFE] + Array("three\n".utf8))
    }, command: adaptObservations),
    Case("text: empty --text-file", file: "empty.txt", says: "no texts to score", { .file([]) }, command: scoreTextFile),
    Case("text: only blank observations", file: "blank.txt", says: "no texts (every line is blank)", { text("\n   \n\t\n") }, command: adaptObservations),
    Case("text: a folder as --text-file", file: "texts", says: "cannot read: is a directory, expected a file", { .folder(["a.txt": Array("hello\n".utf8)]) }, command: scoreTextFile),
    Case("text: missing --observations", file: "ghost.txt", says: "cannot read: no such file", { .absent }, command: adaptObservations),
  ]

  static let pathCases: [Case] = [
    Case("paths: non-existent image", file: "ghost.png", says: "no such file or folder", { .absent }, command: classify),
    Case("paths: folder with no images", file: "no-images", says: "no images found (expected .png, .jpg or .jpeg files)", {
      .folder(["README.txt": Array("notes".utf8), "mask.bmp": [0x42, 0x4D]])
    }, command: { bad, c in ["embed", bad, "--out", c.dir + "/f.npy"] }),
    Case("paths: output folder missing", file: "bank.safetensors", says: "does not exist", { .inMissingFolder }, command: { bad, c in
      ["fit", "--from-npy", c.goodNPY, "--out", bad]
    }),
    Case("paths: output is a folder", file: "out.npy", says: "is a directory, expected a file path", { .folder([:]) }, command: { bad, c in
      ["embed", c.image, "--out", bad]
    }),
    Case("paths: non-existent bank", file: "ghost.safetensors", says: "cannot open: No such file", { .absent }, command: scoreBank),
    Case("paths: a folder given to info", file: "folder.safetensors", says: "is a directory, expected a file", { .folder([:]) }, command: info),
  ]

  static let allCases: [Case] =
    pngCases + jpegCases + safetensorsCases + bankCases + npyCases + descriptionCases + textCases + pathCases

  @Test("case names are distinct")
  func distinct() {
    #expect(Set(Self.allCases.map(\.name)).count == Self.allCases.count)
    #expect(Self.allCases.count >= 30)
  }

  @Test("malformed input exits 1, names the file and says what was wrong", arguments: allCases)
  func malformed(_ c: Case) throws {
    let dir = try CLIRunner.temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var bad = dir + "/" + c.fileName
    switch c.payload() {
    case .file(let bytes):
      try CLIRunner.write(bytes, to: bad)
    case .folder(let files):
      try FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: false)
      for (name, bytes) in files { try CLIRunner.write(bytes, to: bad + "/" + name) }
    case .absent:
      break
    case .inMissingFolder:
      bad = dir + "/no-such-folder/" + c.fileName
    }
    let goodNPY = dir + "/good.npy"
    try CLIRunner.write(MalformedFiles.npy(rows: 4, columns: 3), to: goodNPY)
    let descriptions = dir + "/descriptions.json"
    try CLIRunner.write(Array(Self.validDescriptions.utf8), to: descriptions)
    let context = Context(
      dir: dir, goodNPY: goodNPY, image: CLIRunner.fixture("efficientnet/coffee.png"), bank: { try Self.sharedBank.get() },
      detector: { try Self.sharedDetector.get() }, descriptions: descriptions)
    let arguments = try c.command(bad, context)
    let r = try CLIRunner.run(arguments)
    #expect(r.status == c.exitCode, "\(c.name): exit \(r.status), stderr: \(r.stderr)")
    #expect(r.stderr.contains(bad), "\(c.name): stderr does not name \(bad): \(r.stderr)")
    #expect(r.stderr.contains(c.message), "\(c.name): stderr does not say '\(c.message)': \(r.stderr)")
    #expect(!r.stderr.contains("Fatal error"), "\(c.name): trapped: \(r.stderr)")
  }
}
