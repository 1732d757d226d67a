import FeatureExtraction
import Foundation
import TensorFiles
import Testing

/// EXIF orientation against Pillow's `ImageOps.exif_transpose`, and the
/// as-stored reading against Pillow's `Image.open`.
/// Fixtures and expectations: `Tests/Fixtures/orientation/make_orientation.py`.
@Suite("EXIF orientation")
struct EXIFOrientationTests {
  static func fixture(_ name: String) -> String { TestPaths.fixture("orientation/" + name) }

  /// Pillow's pixels for `name`, upright or as stored (a U8 [h, w, 3] tensor).
  static func expected(_ name: String, upright: Bool) throws -> RGBImage {
    let file = try SafeTensorsFile(path: fixture("expected.safetensors"))
    let key = (upright ? "upright." : "stored.") + name
    let info = try file.info(key)
    return RGBImage(width: info.shape[1], height: info.shape[0], pixels: try file.integers(key).map { UInt8($0) })
  }

  /// Largest per-sample difference; sizes must match.
  static func maxDifference(_ a: RGBImage, _ b: RGBImage) throws -> Int {
    try #require(a.width == b.width && a.height == b.height, "\(a.width)×\(a.height) vs \(b.width)×\(b.height)")
    return zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
  }

  static let files = (1...8).map { "jpeg_orientation_\($0).jpg" } + ["png_orientation_6.png", "png_orientation_bad.png"]

  @Test("by default each orientation is applied as Pillow's exif_transpose applies it", arguments: files)
  func upright(name: String) throws {
    let decoded = try ImageDecoder.decode(path: Self.fixture(name))
    // JPEGs decode within ±1 of Pillow/libjpeg-turbo (ImageDecodingTests); PNGs exactly.
    let tolerance = name.hasSuffix(".jpg") ? 1 : 0
    #expect(try Self.maxDifference(decoded, try Self.expected(name, upright: true)) <= tolerance, "\(name)")
  }

  @Test("asStored keeps the pixels as Pillow's Image.open reads them", arguments: files)
  func asStored(name: String) throws {
    let decoded = try ImageDecoder.decode(path: Self.fixture(name), limits: ImageLimits(orientation: .asStored))
    let tolerance = name.hasSuffix(".jpg") ? 1 : 0
    #expect(try Self.maxDifference(decoded, try Self.expected(name, upright: false)) <= tolerance, "\(name)")
  }

  @Test("the tag is read from JPEG APP1 and PNG eXIf, and anything unreadable is no orientation")
  func tagReading() throws {
    for n in 1...8 {
      let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fixture("jpeg_orientation_\(n).jpg"))))
      #expect(bytes.withUnsafeBytes { EXIFOrientation.read($0) } == (n == 1 ? nil : n))
      // Every truncation of the file reads safely (nil, or the tag once the segment is whole).
      for cut in stride(from: 0, through: min(bytes.count, 200), by: 1) {
        let value = Array(bytes.prefix(cut)).withUnsafeBytes { EXIFOrientation.read($0) }
        #expect(value == nil || value == n)
      }
    }
    let png = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fixture("png_orientation_6.png"))))
    #expect(png.withUnsafeBytes { EXIFOrientation.read($0) } == 6)
    let bad = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fixture("png_orientation_bad.png"))))
    #expect(bad.withUnsafeBytes { EXIFOrientation.read($0) } == nil)
  }

  @Test("the eight transforms are the dihedral group: each inverse undoes it")
  func inverses() {
    let image = RGBImage(width: 3, height: 2, pixels: (0..<18).map { UInt8($0) })
    // 6 (90° clockwise) and 8 (90° counter-clockwise) undo each other; the rest are their own inverse.
    let inverse = [1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6]
    for (o, back) in inverse {
      let turned = EXIFOrientation.apply(o, to: image)
      #expect(EXIFOrientation.apply(back, to: turned) == image, "orientation \(o)")
    }
    // 90° clockwise of [[0 1 2] [3 4 5]] (pixel indices) is [[3 0] [4 1] [5 2]].
    let cw = EXIFOrientation.apply(6, to: image)
    #expect(cw.width == 2 && cw.height == 3)
    #expect(stride(from: 0, to: 18, by: 3).map { cw.pixels[$0] / 3 } == [3, 0, 4, 1, 5, 2])
  }
}
