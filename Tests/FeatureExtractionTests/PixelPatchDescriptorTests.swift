import FeatureExtraction
import TensorFiles
import Testing

/// Residual pixel patches against PyTorch (nearest down/up-sampling, grouped
/// conv2d, unfold). Fixture: `Tests/Fixtures/pixel-patches/make_fixtures.py`.
@Suite("Pixel patch descriptor")
struct PixelPatchDescriptorTests {
  static let cases: [(String, PixelPatchDescriptor)] = [
    ("npr_8_8", PixelPatchDescriptor(residual: .npr, patch: 8, stride: 8)),
    ("diagonal_9_8", PixelPatchDescriptor(residual: .diagonal, patch: 9, stride: 8)),
    ("diagonal_5_3", PixelPatchDescriptor(residual: .diagonal, patch: 5, stride: 3)),
    ("none_4_4", PixelPatchDescriptor(residual: .none, patch: 4, stride: 4)),
  ]

  @Test("Patches match PyTorch", arguments: 0..<4)
  func matchesTorch(index: Int) throws {
    let (name, descriptor) = Self.cases[index]
    let file = try SafeTensorsFile(path: TestPaths.fixture("pixel-patches/expected.safetensors"))
    let image = try file.integers("image").map { (Float($0) - 127) / 128 }
    let want = try file.floats(name)
    let shape = try file.info(name).shape
    let side = descriptor.gridSide(20)
    #expect(side * side == shape[0])
    #expect(descriptor.dimension == shape[1])
    var got: [Float] = []
    image.withUnsafeBufferPointer { descriptor.describe($0, size: 20, into: &got) }
    try #require(got.count == want.count)
    let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
    #expect(worst <= 1e-6, "\(name): max |Δ| = \(worst)")
  }

  @Test("A patch larger than the image gives no patches")
  func tooLarge() {
    #expect(PixelPatchDescriptor(residual: .npr, patch: 9, stride: 8).gridSide(8) == 0)
    #expect(PixelPatchDescriptor(residual: .npr, patch: 8, stride: 8).gridSide(256) == 32)
    #expect(PixelPatchDescriptor(residual: .diagonal, patch: 9, stride: 8).gridSide(256) == 31)
  }
}
