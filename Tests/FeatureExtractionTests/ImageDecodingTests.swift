import FeatureExtraction
import Foundation
import TensorFiles
import Testing

/// PNG and JPEG decoding against Pillow / numpy, and refusal of bad input.
/// Fixtures and expectations: `Tests/Fixtures/images/make_images.py`.
@Suite("Image decoding")
struct ImageDecodingTests {
  static func image(_ name: String) -> String { TestPaths.fixture("images/" + name) }

  /// The expected 8-bit RGB pixels of fixture `name` (a U8 [h, w, 3] tensor).
  static func expected(_ name: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
    let file = try SafeTensorsFile(path: image("expected.safetensors"))
    let info = try file.info(name)
    #expect(info.dtype == .u8 && info.shape.count == 3 && info.shape[2] == 3)
    let values = try file.integers(name).map { UInt8($0) }
    return (info.shape[1], info.shape[0], values)
  }

  /// Largest per-sample difference between the decode of `name` and its
  /// expectation, and how many samples differ at all.
  static func compare(_ name: String) throws -> (maxDiff: Int, differing: Int, count: Int) {
    let decoded = try ImageDecoder.decode(path: image(name))
    let want = try expected(name)
    #expect(decoded.width == want.width, "\(name) width")
    #expect(decoded.height == want.height, "\(name) height")
    try #require(decoded.pixels.count == want.pixels.count)
    var worst = 0
    var differing = 0
    for (a, b) in zip(decoded.pixels, want.pixels) {
      let d = abs(Int(a) - Int(b))
      worst = max(worst, d)
      if d != 0 { differing += 1 }
    }
    return (worst, differing, decoded.pixels.count)
  }

  // MARK: - PNG

  @Test(
    "8-bit PNGs decode exactly as Pillow's convert('RGB')",
    arguments: [
      "rgb8.png", "rgba8.png", "gray8.png", "gray_alpha8.png", "palette.png", "palette_trns.png", "gray_trns.png",
    ])
  func png8(name: String) throws {
    let r = try Self.compare(name)
    #expect(r.maxDiff == 0, "\(name): max |Δ| = \(r.maxDiff) over \(r.differing) of \(r.count) samples")
  }

  @Test("alpha is dropped, keeping the stored colour of fully transparent pixels")
  func alphaDropped() throws {
    // Row 0 of rgba8.png has alpha 0; its colours are random and must survive
    // (compositing onto black or white would turn them into 0 or 255).
    let decoded = try ImageDecoder.decode(path: Self.image("rgba8.png"))
    let want = try Self.expected("rgba8.png")
    let row0 = Array(decoded.pixels[0..<(decoded.width * 3)])
    #expect(row0 == Array(want.pixels[0..<(want.width * 3)]))
    #expect(Set(row0).count > 2, "transparent row should keep its varied colours")
    // Same for 16-bit RGBA.
    let wide = try ImageDecoder.decode(path: Self.image("rgba16.png"))
    let want16 = try Self.expected("rgba16.png")
    #expect(Array(wide.pixels[0..<(wide.width * 3)]) == Array(want16.pixels[0..<(want16.width * 3)]))
  }

  @Test(
    "16-bit PNGs keep the high byte of each sample, as Pillow does for RGB(A)",
    arguments: ["gray16.png", "rgb16.png", "rgba16.png"])
  func png16(name: String) throws {
    // The expectation is v >> 8: Pillow's own convert("RGB") for rgb16 and
    // rgba16 (make_images.py asserts it), computed for gray16 (Pillow clips
    // 16-bit gray to 0…255). It is within 1 of round(v·255/65535).
    let r = try Self.compare(name)
    #expect(r.maxDiff == 0, "\(name): max |Δ| = \(r.maxDiff) over \(r.differing) of \(r.count) samples")
  }

  @Test("16-bit edge samples keep their high byte: 0 → 0, 32768 → 128, 65535 → 255")
  func png16Edges() throws {
    // make_images.py puts 0, 1, 128, 129, 255, 256, 257, 32767, 32768, 65278,
    // 65279, 65534, 65535 at the start of gray16.png.
    let decoded = try ImageDecoder.decode(path: Self.image("gray16.png"))
    let gray = stride(from: 0, to: decoded.pixels.count, by: 3).map { decoded.pixels[$0] }
    #expect(Array(gray.prefix(13)) == [0, 0, 0, 0, 0, 1, 1, 127, 128, 254, 254, 255, 255])
    // Gray is replicated to all three channels.
    for i in 0..<(decoded.width * decoded.height) {
      #expect(decoded.pixels[3 * i] == decoded.pixels[3 * i + 1] && decoded.pixels[3 * i] == decoded.pixels[3 * i + 2])
    }
  }

  @Test("a PNG with gAMA 1.0 decodes to its stored samples, as Pillow does")
  func gammaChunk() throws {
    // libpng's simplified API would honour gAMA and turn the linear ramp
    // 0, 32, 64, … into sRGB (0, 99, 136, …); the classic-API decoder applies
    // no gamma, like Pillow.
    let r = try Self.compare("gamma_1_0.png")
    #expect(r.maxDiff == 0, "max |Δ| = \(r.maxDiff) over \(r.differing) of \(r.count) samples")
    let decoded = try ImageDecoder.decode(path: Self.image("gamma_1_0.png"))
    let firstRow = stride(from: 0, to: decoded.width * 3, by: 3).map { decoded.pixels[$0] }
    #expect(firstRow == [0, 32, 64, 96, 128, 160, 192, 224])
  }

  @Test(
    "Adam7-interlaced PNGs decode exactly as Pillow's convert('RGB')",
    arguments: ["adam7_rgb8.png", "adam7_gray1.png", "adam7_rgba16.png"])
  func interlaced(name: String) throws {
    let r = try Self.compare(name)
    #expect(r.maxDiff == 0, "\(name): max |Δ| = \(r.maxDiff) over \(r.differing) of \(r.count) samples")
  }

  // MARK: - JPEG

  @Test(
    "JPEGs decode as Pillow/libjpeg-turbo does, within ±1",
    arguments: ["jpeg_baseline.jpg", "jpeg_progressive.jpg", "jpeg_gray.jpg"])
  func jpeg(name: String) throws {
    let r = try Self.compare(name)
    #expect(r.maxDiff <= 1, "\(name): max |Δ| = \(r.maxDiff) over \(r.differing) of \(r.count) samples")
  }

  @Test("Adobe CMYK JPEG is within ±3 of Pillow's convert('RGB')")
  func cmyk() throws {
    let r = try Self.compare("jpeg_cmyk.jpg")
    #expect(r.maxDiff <= 3, "max |Δ| = \(r.maxDiff) over \(r.differing) of \(r.count) samples")
  }

  @Test("the decoder picks the format from the signature, not the extension")
  func signatureNotExtension() throws {
    let dir = try TemporaryFolder()
    let misnamed = dir.path + "/really-a-png.jpg"
    try FileManager.default.copyItem(atPath: Self.image("rgb8.png"), toPath: misnamed)
    #expect(try ImageDecoder.decode(path: misnamed) == ImageDecoder.decode(path: Self.image("rgb8.png")))
  }

  // MARK: - Bad input

  /// Runs `body`, requires an `ImageError` whose description names `path`,
  /// and returns it.
  static func refusal(_ path: String, limits: ImageLimits = ImageLimits()) throws -> ImageError {
    do {
      let image = try ImageDecoder.decode(path: path, limits: limits)
      Issue.record("\(path) decoded to \(image.width)×\(image.height) instead of throwing")
      throw CancellationError()
    } catch let error as ImageError {
      #expect(error.path == path)
      #expect(error.description.contains(path), "\(error.description)")
      return error
    }
  }

  @Test("a 0-byte file is .empty")
  func empty() throws {
    let dir = try TemporaryFolder()
    let p = try dir.write("empty.png", [])
    #expect(try Self.refusal(p) == .empty(path: p))
  }

  @Test("garbage bytes are .unknownFormat")
  func garbage() throws {
    let dir = try TemporaryFolder()
    let p = try dir.write("garbage.png", Array("this is not an image at all\n".utf8))
    #expect(try Self.refusal(p) == .unknownFormat(path: p))
    // A lone PNG signature prefix or a JPEG SOI alone are not enough either.
    let q = try dir.write("soi.jpg", [0xFF, 0xD8])
    #expect(try Self.refusal(q) == .unknownFormat(path: q))
  }

  @Test("a truncated PNG is .truncated", arguments: ["rgb8.png", "adam7_rgb8.png"])
  func truncatedPNG(name: String) throws {
    let dir = try TemporaryFolder()
    let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Self.image(name))))
    // In the IDAT data, in the last IDAT's CRC, right after the signature,
    // inside IHDR.
    for cut in [bytes.count / 2, bytes.count - 13, 8, 20] {
      let p = try dir.write("cut\(cut)-" + name, Array(bytes.prefix(cut)))
      let error = try Self.refusal(p)
      guard case .truncated(_, "PNG", let reason) = error else {
        Issue.record("\(name) cut at \(cut): \(error)")
        continue
      }
      #expect(reason.contains("data ended after \(cut) bytes"), "\(reason)")
    }
  }

  @Test("a PNG that ends right after its last IDAT (no IEND) decodes, as in Pillow")
  func pngWithoutIEND() throws {
    // All the pixels and the last IDAT's CRC are there; chunks after the image
    // data cannot change a pixel, and Pillow accepts such files too.
    let dir = try TemporaryFolder()
    let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Self.image("rgb8.png"))))
    #expect(Array(bytes.suffix(8).prefix(4)) == Array("IEND".utf8))
    let p = try dir.write("no-iend.png", Array(bytes.dropLast(12)))
    #expect(try ImageDecoder.decode(path: p) == ImageDecoder.decode(path: Self.image("rgb8.png")))
  }

  /// Byte offset of the first chunk of type `kind` (its length field) in a PNG.
  static func chunkOffset(_ bytes: [UInt8], _ kind: String) -> (offset: Int, length: Int)? {
    var at = 8
    while at + 8 <= bytes.count {
      let length = bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
      if Array(bytes[(at + 4)..<(at + 8)]) == Array(kind.utf8) { return (at, length) }
      at += 12 + length
    }
    return nil
  }

  @Test(
    "a PNG with a bad CRC is .corrupt, naming the file",
    arguments: [("rgb8.png", "IHDR"), ("rgb8.png", "IDAT"), ("gamma_1_0.png", "gAMA"), ("palette.png", "PLTE")])
  func badCRC(name: String, kind: String) throws {
    let dir = try TemporaryFolder()
    var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Self.image(name))))
    let chunk = try #require(Self.chunkOffset(bytes, kind), "\(name) has no \(kind)")
    bytes[chunk.offset + 8 + chunk.length] ^= 0x5A  // first byte of the CRC
    let p = try dir.write("bad-\(kind)-crc-" + name, bytes)
    let error = try Self.refusal(p)
    guard case .corrupt(_, "PNG", let reason) = error else {
      Issue.record("\(kind) CRC: \(error)")
      return
    }
    #expect(reason.contains("CRC"), "\(reason)")
  }

  @Test("a PNG whose image data is not a zlib stream is .corrupt")
  func badZlib() throws {
    let dir = try TemporaryFolder()
    var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Self.image("rgb8.png"))))
    let chunk = try #require(Self.chunkOffset(bytes, "IDAT"))
    // Scramble the zlib header and recompute the CRC, so only the data is bad.
    bytes[chunk.offset + 8] = 0xFF
    bytes[chunk.offset + 9] = 0xFF
    let crcStart = chunk.offset + 4
    let crcEnd = chunk.offset + 8 + chunk.length
    let crc = Self.crc32(Array(bytes[crcStart..<crcEnd]))
    for k in 0..<4 { bytes[crcEnd + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * k)) }
    let p = try dir.write("bad-zlib.png", bytes)
    guard case .corrupt(_, "PNG", _) = try Self.refusal(p) else {
      Issue.record("expected .corrupt")
      return
    }
  }

  static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
      crc ^= UInt32(b)
      for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
  }

  @Test("a JPEG cut in its scan data is .truncated, one cut in its header is refused")
  func truncatedJPEG() throws {
    let dir = try TemporaryFolder()
    for name in ["jpeg_baseline.jpg", "jpeg_progressive.jpg"] {
      let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Self.image(name))))
      // The first half: the headers end well before it (SOS is at byte ~600
      // of ~1900 for the baseline file, ~230 of ~1700 for the progressive).
      let half = try dir.write("half-" + name, Array(bytes.prefix(bytes.count / 2)))
      let error = try Self.refusal(half)
      guard case .truncated(_, "JPEG", _) = error else {
        Issue.record("\(name) cut in half: \(error)")
        continue
      }
      // Cut inside the headers.
      let head = try dir.write("head-" + name, Array(bytes.prefix(100)))
      switch try Self.refusal(head) {
      case .truncated(_, "JPEG", _), .corrupt(_, "JPEG", _): break
      case let other: Issue.record("\(name) cut at 100 bytes: \(other)")
      }
    }
  }

  @Test("a PNG whose IHDR claims 100000×100000 is refused as too large before decoding")
  func hugePNGHeader() throws {
    let p = Self.image("huge_ihdr.png")
    let error = try Self.refusal(p)
    #expect(error == .tooManyPixels(path: p, width: 100_000, height: 100_000, limit: ImageLimits.defaultMaxPixels))
  }

  @Test("a JPEG whose SOF claims 65000×65000 is refused as too large")
  func hugeJPEGHeader() throws {
    let p = Self.image("huge_sof.jpg")
    let error = try Self.refusal(p)
    #expect(error == .tooManyPixels(path: p, width: 65_000, height: 65_000, limit: ImageLimits.defaultMaxPixels))
  }

  @Test("a small image over a small pixel budget is refused", arguments: ["rgb8.png", "jpeg_baseline.jpg"])
  func smallBudget(name: String) throws {
    let p = Self.image(name)
    let error = try Self.refusal(p, limits: ImageLimits(maxPixels: 10))
    guard case .tooManyPixels(_, let w, let h, 10) = error else {
      Issue.record("\(error)")
      return
    }
    #expect(w * h > 10)
    #expect(error.description.contains("10"))
    // Exactly at the budget passes.
    let image = try ImageDecoder.decode(path: p, limits: ImageLimits(maxPixels: w * h))
    #expect(image.width == w && image.height == h)
  }

  @Test("a nonexistent path is .cannotRead")
  func missing() throws {
    let dir = try TemporaryFolder()
    let p = dir.path + "/no-such-image.png"
    guard case .cannotRead = try Self.refusal(p) else {
      Issue.record("expected .cannotRead")
      return
    }
  }

  @Test("a directory is .cannotRead")
  func directory() throws {
    let dir = try TemporaryFolder()
    let p = dir.path + "/folder.png"
    try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: false)
    let error = try Self.refusal(p)
    guard case .cannotRead(_, let reason) = error else {
      Issue.record("expected .cannotRead, got \(error)")
      return
    }
    #expect(reason.contains("directory"))
  }

  @Test("PNG encode → decode round trip")
  func pngRoundTrip() throws {
    let dir = try TemporaryFolder()
    let source = try ImageDecoder.decode(path: Self.image("jpeg_baseline.jpg"))
    let p = dir.path + "/round.png"
    try ImageEncoder.writePNG(source, to: p)
    #expect(try ImageDecoder.decode(path: p) == source)
    // Writing into a missing folder names the path.
    let bad = dir.path + "/missing/out.png"
    #expect {
      try ImageEncoder.writePNG(source, to: bad)
    } throws: { error in
      guard let e = error as? ImageError, case .cannotWrite = e else { return false }
      return e.description.contains(bad)
    }
  }
}

/// A fresh folder under the system temp directory, removed on deinit.
final class TemporaryFolder {
  let path: String

  init() throws {
    path = FileManager.default.temporaryDirectory.appendingPathComponent("anomalykit-fe-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// Writes `bytes` to `name` inside the folder and returns the full path.
  @discardableResult
  func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    let p = path + "/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: p))
    return p
  }
}
