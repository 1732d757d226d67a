import FeatureExtraction
import TensorFiles
import Testing

/// Stage maps joined at the coarsest grid (forensic patch banks) against
/// PyTorch. Fixture: `Tests/Fixtures/patch-grid/make_fixtures.py`.
@Suite("Patch features on the coarsest grid")
struct PatchGridTests {
  @Test("Stages 1-3 pooled to the /8 grid and 3×3-averaged match torch")
  func matchesTorch() throws {
    let model = try EfficientNetLite(path: TestPaths.weights, inputSize: 64)
    let image = try ImageDecoder.decode(path: TestPaths.fixture("patch-grid/coffee64.png"))
    let input = Preprocessor(inputSize: 64, policy: .native).tensor(image)
    let output = model.forward(input, count: 1, layers: [.stage(1), .stage(2), .stage(3)], workers: 1)
    let builder = PatchFeatureBuilder(stages: [1, 2, 3], grid: .coarsest)
    let layout = try #require(builder.layout(for: model))
    #expect(layout.height == 8 && layout.width == 8 && layout.dimension == 80)
    let maps = try #require(builder.build(output))
    let want = try SafeTensorsFile(path: TestPaths.fixture("patch-grid/expected.safetensors")).floats("features")
    try #require(maps.values.count == want.count)
    let worst = zip(maps.values, want).map { abs($0 - $1) }.max() ?? 0
    let scale = want.map(abs).max() ?? 1
    #expect(worst <= 1e-4 * scale, "max |Δ| = \(worst) (max |x| = \(scale))")
  }

  @Test("Adaptive pooling with sizes that do not divide")
  func unevenBins() throws {
    // A 1-channel 5×5 map pooled to 2×2: bins rows/cols 0..<3 and 2..<5 (torch's adaptive bins).
    let values = (0..<25).map(Float.init)
    let builder = PatchFeatureBuilder(stages: [1, 2], neighbourhood: 1, grid: .coarsest)
    let fine = FeatureMaps(count: 1, height: 5, width: 5, channels: 1, values: values)
    let coarse = FeatureMaps(count: 1, height: 2, width: 2, channels: 1, values: [0, 0, 0, 0])
    let output = BackboneOutput(pooled: nil, logits: nil, stages: [1: fine, 2: coarse])
    let maps = try #require(builder.build(output))
    // Bin (0,0) = rows 0-2 × cols 0-2 → mean of {0,1,2,5,6,7,10,11,12} = 6.
    #expect(maps.values[0] == 6)
    // Bin (1,1) = rows 2-4 × cols 2-4 → mean 18.
    #expect(maps.values[6] == 18)
  }
}
