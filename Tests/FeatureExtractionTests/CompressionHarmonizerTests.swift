import FeatureExtraction
import Testing

/// JPEG re-encoding (`--harmonize-jpeg`) against Pillow's JPEG writer.
/// Fixtures: `Tests/Fixtures/harmonize/make_fixtures.py`.
@Suite("Compression harmonizer")
struct CompressionHarmonizerTests {
  static func fixture(_ name: String) -> String { TestPaths.fixture("harmonize/" + name) }

  @Test("A JPEG round trip matches Pillow's encode + decode", arguments: [90, 75])
  func matchesPillow(quality: Int) throws {
    let source = try ImageDecoder.decode(path: Self.fixture("source.png"))
    let pillow = try ImageDecoder.decode(path: Self.fixture("pillow_q\(quality).png"))
    let ours = try CompressionHarmonizer(quality: quality).apply(source, path: "source.png")
    #expect(ours.width == source.width && ours.height == source.height)
    var worst = 0
    var changed = 0
    for i in 0..<source.pixels.count {
      worst = max(worst, abs(Int(ours.pixels[i]) - Int(pillow.pixels[i])))
      if ours.pixels[i] != source.pixels[i] { changed += 1 }
    }
    // Same library family, same settings: identical up to libjpeg-turbo's
    // version-dependent rounding in upsampling (at most one level).
    #expect(worst <= 1, "max |Δ| vs Pillow = \(worst)")
    // And the round trip really is lossy.
    #expect(changed > source.pixels.count / 2)
  }

  @Test("Lower quality loses more")
  func qualityOrders() throws {
    let source = try ImageDecoder.decode(path: Self.fixture("source.png"))
    func error(_ q: Int) throws -> Int {
      let out = try CompressionHarmonizer(quality: q).apply(source, path: "source.png")
      return zip(out.pixels, source.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
    }
    #expect(try error(95) < error(75))
    #expect(try error(75) < error(20))
  }

  @Test("Quality outside 1…100 is refused")
  func badQuality() {
    #expect(throws: ImageError.self) { try CompressionHarmonizer(quality: 0) }
    #expect(throws: ImageError.self) { try CompressionHarmonizer(quality: 101) }
  }

  @Test("JPEG bytes decode to the encoded size")
  func jpegBytes() throws {
    let image = RGBImage(width: 3, height: 2, pixels: [UInt8](repeating: 200, count: 18))
    let bytes = try ImageEncoder.jpegBytes(image, quality: 90)
    #expect(bytes.starts(with: [0xFF, 0xD8, 0xFF]))
    let back = try ImageDecoder.decode(bytes: bytes, path: "(memory)")
    #expect(back.width == 3 && back.height == 2)
    #expect(back.pixels.allSatisfy { abs(Int($0) - 200) <= 1 })
  }
}
