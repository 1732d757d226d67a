import FeatureExtraction
import Testing

/// `Resampler` and `Preprocessor` against Pillow's `Image.resize(…, BILINEAR)`
/// and torchvision's `Resize` + `CenterCrop` recipe.
/// Fixtures: `Tests/Fixtures/resize/make_resize.py`.
@Suite("Resampling parity with Pillow")
struct ResamplerTests {
  static func load(_ name: String) throws -> RGBImage {
    try ImageDecoder.decode(path: TestPaths.fixture("resize/" + name))
  }

  /// Requires equal sizes and returns (max |Δ|, number of differing samples).
  static func difference(_ a: RGBImage, _ b: RGBImage, _ label: String) throws -> (maxDiff: Int, differing: Int) {
    #expect(a.width == b.width && a.height == b.height, "\(label): \(a.width)×\(a.height) vs \(b.width)×\(b.height)")
    try #require(a.pixels.count == b.pixels.count)
    var worst = 0
    var differing = 0
    for (x, y) in zip(a.pixels, b.pixels) where x != y {
      worst = max(worst, abs(Int(x) - Int(y)))
      differing += 1
    }
    return (worst, differing)
  }

  @Test(
    "Resampler.resize of 37×23 noise matches Pillow bit for bit",
    arguments: [(14, 9), (100, 61), (37, 10), (60, 23), (1, 1), (5, 40)])
  func resizeNoise(size: (Int, Int)) throws {
    let (w, h) = size
    let input = try Self.load("input_37x23.png")
    let expected = try Self.load("resize_37x23_to_\(w)x\(h).png")
    let out = Resampler.resize(input, width: w, height: h)
    let d = try Self.difference(out, expected, "\(w)×\(h)")
    #expect(d.differing == 0, "\(w)×\(h): \(d.differing) samples differ, max |Δ| = \(d.maxDiff)")
  }

  @Test("Resampler.resize of the 300×200 pattern to 97×41 matches Pillow bit for bit")
  func resizePattern() throws {
    let out = Resampler.resize(try Self.load("input_300x200.png"), width: 97, height: 41)
    let d = try Self.difference(out, try Self.load("resize_300x200_to_97x41.png"), "97×41")
    #expect(d.differing == 0, "\(d.differing) samples differ, max |Δ| = \(d.maxDiff)")
  }

  @Test("resizing to the same size returns the input unchanged")
  func identity() throws {
    let input = try Self.load("input_37x23.png")
    #expect(Resampler.resize(input, width: 37, height: 23) == input)
  }

  @Test("a 1×1 image of one colour scales up to that colour everywhere")
  func constantUpscale() {
    let dot = RGBImage(width: 1, height: 1, pixels: [7, 128, 250])
    let big = Resampler.resize(dot, width: 5, height: 3)
    #expect(big.pixels == Array([[UInt8]](repeating: [7, 128, 250], count: 15).joined()))
  }

  @Test("crop takes the requested window")
  func crop() throws {
    let input = try Self.load("input_37x23.png")
    let window = Resampler.crop(input, left: 3, top: 2, width: 4, height: 5)
    #expect(window.width == 4 && window.height == 5)
    for y in 0..<5 {
      for x in 0..<4 {
        for c in 0..<3 {
          #expect(window.pixels[(y * 4 + x) * 3 + c] == input.pixels[((y + 2) * 37 + x + 3) * 3 + c])
        }
      }
    }
  }

  // MARK: - Preprocessor

  @Test(
    "crop policy = torchvision Resize(256) + CenterCrop(224) on PIL images",
    arguments: ["300x200", "301x199"])
  func cropPolicy224(size: String) throws {
    let input = try Self.load("input_\(size).png")
    let pre = Preprocessor(inputSize: 224)
    #expect(pre.resizeShorter == 256)
    #expect(pre.policy == .crop)
    let out = pre.resized(input)
    #expect(out.width == 224 && out.height == 224)
    let d = try Self.difference(out, try Self.load("crop224_\(size).png"), size)
    #expect(d.differing == 0, "\(size): \(d.differing) samples differ, max |Δ| = \(d.maxDiff)")
  }

  @Test("crop policy with inputSize 32 (resizeShorter 37, offsets rounded half to even)")
  func cropPolicy32() throws {
    let pre = Preprocessor(inputSize: 32)
    #expect(pre.resizeShorter == 37)
    let out = pre.resized(try Self.load("input_37x23.png"))
    let d = try Self.difference(out, try Self.load("crop32_37x23.png"), "crop32")
    #expect(d.differing == 0, "\(d.differing) samples differ, max |Δ| = \(d.maxDiff)")
  }

  @Test("stretch policy resizes both sides straight to the input size")
  func stretchPolicy() throws {
    let small = Preprocessor(inputSize: 32, policy: .stretch).resized(try Self.load("input_37x23.png"))
    let d1 = try Self.difference(small, try Self.load("stretch32_37x23.png"), "stretch32")
    #expect(d1.differing == 0, "stretch32: \(d1.differing) samples differ, max |Δ| = \(d1.maxDiff)")
    let big = Preprocessor(inputSize: 224, policy: .stretch).resized(try Self.load("input_300x200.png"))
    let d2 = try Self.difference(big, try Self.load("stretch224_300x200.png"), "stretch224")
    #expect(d2.differing == 0, "stretch224: \(d2.differing) samples differ, max |Δ| = \(d2.maxDiff)")
  }

  @Test("an image already inputSize × inputSize passes through unchanged", arguments: ResizePolicy.allCases)
  func passThrough(policy: ResizePolicy) throws {
    // A 224×224 crop of the fixture: not resampled (torchvision's Resize(256)
    // would upscale it; AnomalyKit deliberately does not).
    let square = try Self.load("crop224_300x200.png")
    let pre = Preprocessor(inputSize: 224, policy: policy)
    #expect(pre.resized(square) == square)
    let tensor = pre.tensor(square)
    #expect(tensor.count == 224 * 224 * 3)
    for i in stride(from: 0, to: tensor.count, by: 997) {
      #expect(tensor[i] == (Float(square.pixels[i]) - 127) / 128)
    }
  }

  @Test("tensor() and write(into:) give the same normalised HWC floats")
  func normalisation() throws {
    let pre = Preprocessor(inputSize: 32)
    let input = try Self.load("input_37x23.png")
    let expected = try Self.load("crop32_37x23.png")
    let tensor = pre.tensor(input)
    #expect(tensor.count == 32 * 32 * 3)
    let want = expected.pixels.map { (Float($0) - 127) / 128 }
    #expect(zip(tensor, want).filter { $0 != $1 }.count == 0, "tensor() differs from (crop − 127) / 128")
    var buffer = [Float](repeating: .nan, count: tensor.count)
    buffer.withUnsafeMutableBufferPointer { pre.write(input, into: $0) }
    #expect(zip(buffer, tensor).filter { $0 != $1 }.count == 0, "write(into:) differs from tensor()")
  }
}
