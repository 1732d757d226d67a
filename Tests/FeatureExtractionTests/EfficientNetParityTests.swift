import FeatureExtraction
import TensorFiles
import Testing

/// The Swift forward pass against PyTorch running the package's own model
/// code (`Tests/Fixtures/efficientnet/make_fixtures.py`).
@Suite("EfficientNet-Lite0 parity with PyTorch")
struct EfficientNetParityTests {
  static let photos = ["coffee", "chelsea", "astronaut", "rocket"]

  static let model: EfficientNetLite? = try? EfficientNetLite(path: TestPaths.weights)

  @Test("pooled features within 1e-4 and logits within 1e-3 of PyTorch; stage maps match")
  func parity() throws {
    let model = try #require(Self.model)
    let reference = try SafeTensorsFile(path: TestPaths.fixture("efficientnet/reference.safetensors"))
    let pre = Preprocessor(inputSize: 224)
    var input: [Float] = []
    for name in Self.photos {
      let image = try ImageDecoder.decode(path: TestPaths.fixture("efficientnet/\(name).png"))
      #expect(image.width == 224 && image.height == 224)
      input += pre.tensor(image)
    }
    let layers: Set<FeatureLayer> = Set([.pooled, .logits] + (1...7).map { FeatureLayer.stage($0) })
    let out = model.forward(input, count: Self.photos.count, layers: layers)
    let pooled = try #require(out.pooled)
    let logits = try #require(out.logits)
    var worstPooled: Float = 0
    var worstLogit: Float = 0
    for (i, name) in Self.photos.enumerated() {
      let refPooled = try reference.floats("\(name).pooled", shape: [1280])
      let refLogits = try reference.floats("\(name).logits", shape: [1000])
      for j in 0..<1280 { worstPooled = max(worstPooled, abs(pooled[i * 1280 + j] - refPooled[j])) }
      for j in 0..<1000 { worstLogit = max(worstLogit, abs(logits[i * 1000 + j] - refLogits[j])) }
      for stage in 1...7 {
        let maps = try #require(out.stages[stage])
        let ref = try reference.floats("\(name).stage\(stage).mean")
        #expect(ref.count == maps.channels)
        let hw = maps.height * maps.width
        for c in 0..<maps.channels {
          var sum: Float = 0
          for p in 0..<hw { sum += maps.values[i * maps.elementsPerImage + p * maps.channels + c] }
          #expect(abs(sum / Float(hw) - ref[c]) <= 1e-4, "\(name) stage\(stage) channel \(c)")
        }
      }
    }
    #expect(worstPooled <= 1e-4, "max |Δ pooled| = \(worstPooled)")
    #expect(worstLogit <= 1e-3, "max |Δ logit| = \(worstLogit)")

    // The full stage-3 map of coffee, element by element (CHW in the
    // fixture). Its values reach ±43, so the bound is relative: float32
    // accumulation in a different order differs by a few 1e-6 of the scale.
    let map = try #require(out.stages[3])
    let refMap = try reference.floats("coffee.stage3.map", shape: [40, 28, 28])
    let chw = map.chwFlattened(image: 0)
    var worstMap: Float = 0
    var scale: Float = 0
    for j in 0..<refMap.count {
      worstMap = max(worstMap, abs(chw[j] - refMap[j]))
      scale = max(scale, abs(refMap[j]))
    }
    #expect(worstMap <= 1e-5 * scale, "max |Δ stage3| = \(worstMap) at scale \(scale)")
  }

  @Test("coffee is an espresso")
  func coffeeIsEspresso() throws {
    let model = try #require(Self.model)
    let image = try ImageDecoder.decode(path: TestPaths.fixture("efficientnet/coffee.png"))
    let out = model.forward(Preprocessor().tensor(image), count: 1, layers: [.logits])
    let logits = try #require(out.logits)
    let top = logits.indices.max { logits[$0] < logits[$1] }
    #expect(top == 967)
    #expect(model.classNames[967] == "espresso")
  }

  @Test("a batch gives the same features as images one at a time")
  func batchInvariance() throws {
    let model = try #require(Self.model)
    let pre = Preprocessor()
    let images = try Self.photos.map { try ImageDecoder.decode(path: TestPaths.fixture("efficientnet/\($0).png")) }
    let batch = model.forward(images.flatMap { pre.tensor($0) }, count: images.count, layers: [.pooled], workers: 2)
    for (i, image) in images.enumerated() {
      let single = model.forward(pre.tensor(image), count: 1, layers: [.pooled], workers: 1)
      #expect(Array(batch.pooled![(i * 1280)..<((i + 1) * 1280)]) == single.pooled!)
    }
  }
}
