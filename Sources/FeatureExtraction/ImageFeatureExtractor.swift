import ParallelCompute

/// Files → decoded images → network input → features, in batches.
///
/// Decoding and resizing run on the same worker pool as the network, one
/// image per worker. A file that cannot be decoded stops the run with an
/// `ImageError` naming it (callers that prefer to skip can pre-check with
/// `ImageDecoder`); nothing is returned for a partial batch.
public struct ImageFeatureExtractor: Sendable {
  /// The network features come from.
  public let model: any ImageBackbone
  /// Resizes decoded images to the model's square input and normalises them
  /// with its `inputMean` and `inputStd`.
  public var preprocessor: Preprocessor
  /// Size limits every file is checked against before it is decoded.
  public var limits: ImageLimits
  /// Images per forward call (default 32): large enough to amortise the
  /// per-call setup, small enough that a batch of 224² inputs is ~19 MB.
  public var batchSize: Int
  /// Threads used for decoding, preprocessing and the network (at least 1).
  public var workers: Int
  /// Test-time augmentation: average the pooled feature of each image with
  /// that of its mirror image (left–right). Applies to `pooled` (and hence
  /// `logits`); stage maps are always those of the unflipped image.
  public var flipAverage = false
  /// Re-encode every decoded image as JPEG at one quality before anything
  /// else (see `CompressionHarmonizer`); nil leaves images as decoded.
  public var harmonizer: CompressionHarmonizer?

  /// Creates an extractor for `model` with a preprocessor matched to its
  /// input size and normalisation.
  ///
  /// - Parameters:
  ///   - model: the backbone to run.
  ///   - policy: how images are brought to the square input (default `.crop`).
  ///   - limits: size limits for decoding.
  ///   - batchSize: images per forward call (default 32; at least 1).
  ///   - workers: threads to use (default `ParallelFor.defaultWorkers`; at least 1).
  public init(
    model: any ImageBackbone, policy: ResizePolicy = .crop, limits: ImageLimits = ImageLimits(), batchSize: Int = 32,
    workers: Int = ParallelFor.defaultWorkers
  ) {
    self.model = model
    self.preprocessor = Preprocessor(inputSize: model.inputSize, policy: policy, mean: model.inputMean, std: model.inputStd)
    self.limits = limits
    self.batchSize = max(1, batchSize)
    self.workers = max(1, workers)
  }

  /// Decodes and preprocesses `paths` into one `count × inputSize² × 3`
  /// buffer, in parallel.
  public func inputs(for paths: [String]) throws -> [Float] {
    let per = preprocessor.inputSize * preprocessor.inputSize * 3
    var input = [Float](repeating: 0, count: paths.count * per)
    let slots = ResultSlots<Void>(count: paths.count)
    let pre = preprocessor
    let limits = limits
    let harmonizer = harmonizer
    input.withUnsafeMutableBufferPointer { buffer in
      let shared = SharedBuffer(buffer)
      ParallelFor.chunks(count: paths.count, workers: workers) { range in
        for i in range {
          slots.set(
            i,
            Result {
              var image = try ImageDecoder.decode(path: paths[i], limits: limits)
              if let harmonizer { image = try harmonizer.apply(image, path: paths[i]) }
              pre.write(image, into: UnsafeMutableBufferPointer(start: shared.base + i * per, count: per))
            })
        }
      }
    }
    _ = try slots.values()
    return input
  }

  /// Runs `paths` through the network batch by batch, calling `body` with
  /// each batch's index range and output, in order.
  public func forEachBatch(
    _ paths: [String], layers: Set<FeatureLayer>, progress: ((Int, Int) -> Void)? = nil,
    _ body: (Range<Int>, BackboneOutput) throws -> Void
  ) throws {
    var start = 0
    while start < paths.count {
      let end = min(paths.count, start + batchSize)
      let batch = Array(paths[start..<end])
      let input = try inputs(for: batch)
      let wantsPooled = layers.contains(.pooled) || layers.contains(.logits)
      let runLayers = flipAverage && wantsPooled ? layers.union([.pooled]) : layers
      var output = model.forward(input, count: batch.count, layers: runLayers, workers: workers)
      if flipAverage && wantsPooled, var pooled = output.pooled {
        let mirrored = model.forward(Self.mirrored(input, size: preprocessor.inputSize), count: batch.count, layers: [.pooled], workers: workers)
        for i in 0..<pooled.count { pooled[i] = (pooled[i] + (mirrored.pooled?[i] ?? pooled[i])) * 0.5 }
        output.pooled = layers.contains(.pooled) ? pooled : nil
        if layers.contains(.logits) { output.logits = (model as? any ImageClassifierBackbone)?.classify(pooled: pooled, count: batch.count) }
      }
      try body(start..<end, output)
      progress?(end, paths.count)
      start = end
    }
  }

  /// Each `size × size × 3` HWC image of `input` mirrored left–right.
  static func mirrored(_ input: [Float], size: Int) -> [Float] {
    var out = input
    let row = size * 3
    for start in stride(from: 0, to: input.count, by: row) {
      for x in 0..<size {
        let src = start + (size - 1 - x) * 3
        let dst = start + x * 3
        out[dst] = input[src]
        out[dst + 1] = input[src + 1]
        out[dst + 2] = input[src + 2]
      }
    }
    return out
  }

  /// One feature vector per path for `layer`, as a row-major
  /// `paths.count × dimension` matrix. Stage maps are flattened in PyTorch's
  /// C×H×W order.
  public func vectors(
    _ paths: [String], layer: FeatureLayer, progress: ((Int, Int) -> Void)? = nil
  ) throws -> (dimension: Int, values: [Float]) {
    var values: [Float] = []
    var dimension = 0
    try forEachBatch(paths, layers: [layer], progress: progress) { range, output in
      switch layer {
      case .pooled:
        dimension = model.featureDimension
        values += output.pooled ?? []
      case .logits:
        dimension = (model as? any ImageClassifierBackbone)?.classNames.count ?? 0
        values += output.logits ?? []
      case .stage(let n):
        guard let maps = output.stages[n] else { return }
        dimension = maps.elementsPerImage
        for i in 0..<maps.count { values += maps.chwFlattened(image: i) }
      }
    }
    return (dimension, values)
  }
}
