import ParallelCompute
import TensorFiles

/// Errors loading a backbone from a weight file.
public enum BackboneError: Error, CustomStringConvertible, Sendable {
  /// The file at `path` is not a backbone weight file (e.g. its metadata has
  /// no `architecture`).
  case notAWeightsFile(path: String, reason: String)
  /// The file's `architecture` is not an `efficientnet-lite` variant.
  case unsupportedArchitecture(path: String, architecture: String)
  /// The tensors do not form an EfficientNet-Lite (no blocks, unexpected
  /// shapes, more than 7 stages) or the input size is outside 32…2048.
  case malformedWeights(path: String, reason: String)

  public var description: String {
    switch self {
    case .notAWeightsFile(let p, let reason): return "\(p): not an AnomalyKit weights file: \(reason)"
    case .unsupportedArchitecture(let p, let a):
      return "\(p): architecture '\(a)' is not supported (expected efficientnet-lite0…4)"
    case .malformedWeights(let p, let reason): return "\(p): malformed weights: \(reason)"
    }
  }
}

/// EfficientNet-Lite (Tan & Le 2019; the "lite" variant of the TF release):
/// MBConv blocks without squeeze-excitation, ReLU6, fixed stem (32) and head
/// (1280), TF "SAME" padding.
///
/// ```
/// stem   conv3×3/2 → BN → ReLU6
/// block  [conv1×1 expand → BN → ReLU6] → dwconv k×k/s → BN → ReLU6
///        → conv1×1 project → BN  (+ input when s = 1 and Cin = Cout)
/// head   conv1×1 → BN → ReLU6 → global average pool (pooled) → fc (logits)
/// ```
///
/// Batch norm is folded into each convolution at load time:
/// `W' = W·γ/√(σ²+ε)`, `b' = β − μ·γ/√(σ²+ε)` with ε = 1e-3.
/// The architecture (block count, kernels, widths) is read from the tensor
/// shapes, so lite0…lite4 files all load; strides follow the stage layout
/// `1, 2, 2, 2, 1, 2, 1`.
///
/// Inference runs one image per worker (see `ParallelFor`), channels-last,
/// with dense and 1×1 convolutions as OpenBLAS GEMMs and depthwise
/// convolutions as a SIMD loop.
public final class EfficientNetLite: ImageClassifierBackbone {
  struct Block: Sendable {
    let expand: PointwiseConvolution?
    let depthwise: DepthwiseConvolution
    let project: PointwiseConvolution
    let residual: Bool
    let stage: Int
  }

  /// Path of the weight file the network was loaded from.
  public let path: String
  public let architecture: String
  public let inputSize: Int
  public let featureDimension: Int
  /// Number of classifier outputs (1000 for the ImageNet weights).
  public let classCount: Int
  public let stageCount: Int
  /// ImageNet class names from the file's metadata, if present.
  public let classNames: [String]
  /// The arithmetic of the stem and the 1×1 convolutions (`ComputePrecision`).
  public let precision: ComputePrecision
  /// The activation ranges an `int8` network quantises with; nil otherwise.
  public let int8Calibration: Int8Calibration?
  /// The weight file's string metadata (`architecture`, `input_size`,
  /// `input_mean`, `input_std`, `bn_eps`, …).
  public let metadata: [String: String]
  let stem: DenseConvolution
  let blocks: [Block]
  let head: PointwiseConvolution
  /// `featureDimension × classCount`.
  let classifierWeights: [Float]
  let classifierBias: [Float]
  private let file: SafeTensorsFile

  /// Loads and folds the weights of `file`.
  ///
  /// - Parameters:
  ///   - file: an opened weight file of an `efficientnet-lite` network.
  ///   - inputSize: square input side; default the file's
  ///     `input_size` (224 for lite0). The network is fully convolutional up to
  ///     the pooling, so larger inputs give finer stage maps (e.g. 448 → a
  ///     56×56 stage-3 map), at a quadratic cost.
  ///   - precision: the arithmetic of the stem and the 1×1 convolutions
  ///     (the depthwise convolutions and the classifier stay float32).
  ///   - calibration: for `int8`, the input range of the stem and of every
  ///     1×1 convolution, in forward order (`calibratedInt8(on:count:workers:)` measures it;
  ///     banks record it); ignored otherwise.
  /// - Throws: `BackboneError` when the metadata names no or another
  ///   architecture, the tensors' shapes do not form an EfficientNet-Lite, or
  ///   `inputSize` is outside 32…2048; `TensorFileError` when a tensor is
  ///   missing or cannot be read; `PrecisionError.unsupported` for a
  ///   precision this CPU cannot run, `.needsCalibration` for `int8` without
  ///   a calibration and `.badCalibration` for one with the wrong number of
  ///   ranges.
  public init(
    weights file: SafeTensorsFile, inputSize: Int? = nil, precision: ComputePrecision = .fp32,
    calibration: Int8Calibration? = nil
  ) throws {
    try precision.checkSupported()
    self.precision = precision
    self.file = file
    let path = file.path
    self.path = path
    metadata = file.metadata
    guard let arch = file.metadata["architecture"] else {
      throw BackboneError.notAWeightsFile(path: path, reason: "no 'architecture' in metadata")
    }
    guard arch.hasPrefix("efficientnet-lite") else {
      throw BackboneError.unsupportedArchitecture(path: path, architecture: arch)
    }
    architecture = arch
    let native = Int(file.metadata["input_size"] ?? "") ?? 224
    self.inputSize = inputSize ?? native
    guard self.inputSize >= 32, self.inputSize <= 2048 else {
      throw BackboneError.malformedWeights(path: path, reason: "input size \(self.inputSize) outside 32…2048")
    }
    let eps = Float(file.metadata["bn_eps"] ?? "") ?? 1e-3
    if let json = file.metadata["imagenet_classes"], case .array(let names)? = try? JSONValue.parse(json) {
      classNames = names.compactMap(\.stringValue)
    } else {
      classNames = []
    }

    func folded(_ conv: String, _ bn: String) throws -> (weights: [Float], bias: [Float], shape: [Int]) {
      let info = try file.info("\(conv).weight")
      var w = try file.floats("\(conv).weight")
      let out = info.shape.first ?? 0
      let gamma = try file.floats("\(bn).weight", shape: [out])
      let beta = try file.floats("\(bn).bias", shape: [out])
      let mean = try file.floats("\(bn).running_mean", shape: [out])
      let variance = try file.floats("\(bn).running_var", shape: [out])
      let per = out > 0 ? w.count / out : 0
      var bias = [Float](repeating: 0, count: out)
      for o in 0..<out {
        let scale = gamma[o] / (variance[o] + eps).squareRoot()
        for i in 0..<per { w[o * per + i] *= scale }
        bias[o] = beta[o] - mean[o] * scale
      }
      return (w, bias, info.shape)
    }

    func requireShape(_ shape: [Int], rank: Int, _ name: String) throws {
      guard shape.count == rank, shape.allSatisfy({ $0 > 0 }) else {
        throw BackboneError.malformedWeights(path: path, reason: "\(name) has shape \(shape), expected rank \(rank)")
      }
    }

    // int8: one calibrated input range per convolution run as a matrix
    // product, in forward order (the stem, each block's expansion and
    // projection, the head).
    var blockCount = 0
    while file.tensors["_blocks.\(blockCount)._depthwise_conv.weight"] != nil { blockCount += 1 }
    var ranges: [ClosedRange<Float>] = []
    if precision == .int8 {
      guard let calibration else { throw PrecisionError.needsCalibration(source: "EfficientNetLite(precision: .int8)") }
      let expansions = (0..<blockCount).filter { file.tensors["_blocks.\($0)._expand_conv.weight"] != nil }.count
      let products = Self.quantizedProducts(blocks: blockCount, expansions: expansions)
      guard calibration.ranges.count == products else {
        throw PrecisionError.badCalibration(
          path: path, reason: "\(calibration.ranges.count) activation ranges, but this network runs \(products) convolutions as matrix products")
      }
      ranges = calibration.ranges
      int8Calibration = calibration
    } else {
      int8Calibration = nil
    }
    var nextRange = 0
    func range() -> ClosedRange<Float>? {
      guard nextRange < ranges.count else { return nil }
      defer { nextRange += 1 }
      return ranges[nextRange]
    }

    let s = try folded("_conv_stem", "_bn0")
    try requireShape(s.shape, rank: 4, "_conv_stem.weight")
    guard s.shape[1] == 3, s.shape[2] == s.shape[3] else {
      throw BackboneError.malformedWeights(path: path, reason: "_conv_stem.weight has shape \(s.shape), expected [C, 3, k, k]")
    }
    stem = DenseConvolution(
      torchWeights: s.weights, outputChannels: s.shape[0], inputChannels: 3, kernel: s.shape[2], stride: 2, bias: s.bias,
      activation: .relu6, precision: precision, activationRange: range())

    guard blockCount > 0 else { throw BackboneError.malformedWeights(path: path, reason: "no _blocks.N tensors") }

    // Stages are runs of blocks with the same output width.
    let stageStrides = [1, 2, 2, 2, 1, 2, 1]
    var blocks: [Block] = []
    var channels = s.shape[0]
    var stage = 0
    var previousOut = -1
    for i in 0..<blockCount {
      let prefix = "_blocks.\(i)"
      var expand: PointwiseConvolution?
      var hidden = channels
      if file.tensors["\(prefix)._expand_conv.weight"] != nil {
        let e = try folded("\(prefix)._expand_conv", "\(prefix)._bn0")
        try requireShape(e.shape, rank: 4, "\(prefix)._expand_conv.weight")
        guard e.shape[1] == channels, e.shape[2] == 1, e.shape[3] == 1 else {
          throw BackboneError.malformedWeights(path: path, reason: "\(prefix)._expand_conv.weight has shape \(e.shape), expected [C, \(channels), 1, 1]")
        }
        hidden = e.shape[0]
        expand = PointwiseConvolution(torchWeights: e.weights, outputChannels: hidden, inputChannels: channels, bias: e.bias, activation: .relu6,
          precision: precision, activationRange: range())
      }
      let d = try folded("\(prefix)._depthwise_conv", "\(prefix)._bn1")
      try requireShape(d.shape, rank: 4, "\(prefix)._depthwise_conv.weight")
      guard d.shape[0] == hidden, d.shape[1] == 1, d.shape[2] == d.shape[3] else {
        throw BackboneError.malformedWeights(path: path, reason: "\(prefix)._depthwise_conv.weight has shape \(d.shape), expected [\(hidden), 1, k, k]")
      }
      let p = try folded("\(prefix)._project_conv", "\(prefix)._bn2")
      try requireShape(p.shape, rank: 4, "\(prefix)._project_conv.weight")
      guard p.shape[1] == hidden, p.shape[2] == 1, p.shape[3] == 1 else {
        throw BackboneError.malformedWeights(path: path, reason: "\(prefix)._project_conv.weight has shape \(p.shape), expected [C, \(hidden), 1, 1]")
      }
      let out = p.shape[0]
      var stride = 1
      if out != previousOut {
        stage += 1
        guard stage <= stageStrides.count else {
          throw BackboneError.malformedWeights(path: path, reason: "more than \(stageStrides.count) stages")
        }
        stride = stageStrides[stage - 1]
        previousOut = out
      }
      blocks.append(
        Block(
          expand: expand,
          depthwise: DepthwiseConvolution(torchWeights: d.weights, channels: hidden, kernel: d.shape[2], stride: stride, bias: d.bias, activation: .relu6),
          project: PointwiseConvolution(torchWeights: p.weights, outputChannels: out, inputChannels: hidden, bias: p.bias, activation: .none,
            precision: precision, activationRange: range()),
          residual: stride == 1 && channels == out,
          stage: stage))
      channels = out
    }
    self.blocks = blocks
    stageCount = stage

    let h = try folded("_conv_head", "_bn1")
    try requireShape(h.shape, rank: 4, "_conv_head.weight")
    guard h.shape[1] == channels, h.shape[2] == 1 else {
      throw BackboneError.malformedWeights(path: path, reason: "_conv_head.weight has shape \(h.shape), expected [C, \(channels), 1, 1]")
    }
    head = PointwiseConvolution(torchWeights: h.weights, outputChannels: h.shape[0], inputChannels: channels, bias: h.bias, activation: .relu6,
      precision: precision, activationRange: range())
    featureDimension = h.shape[0]

    let fcInfo = try file.info("_fc.weight")
    guard fcInfo.shape.count == 2, fcInfo.shape[1] == featureDimension else {
      throw BackboneError.malformedWeights(path: path, reason: "_fc.weight has shape \(fcInfo.shape), expected [classes, \(featureDimension)]")
    }
    classCount = fcInfo.shape[0]
    let fc = try file.floats("_fc.weight")
    var fcT = [Float](repeating: 0, count: fc.count)
    for o in 0..<classCount {
      for i in 0..<featureDimension { fcT[i * classCount + o] = fc[o * featureDimension + i] }
    }
    classifierWeights = fcT
    classifierBias = try file.floats("_fc.bias", shape: [classCount])
  }

  /// Opens the weight file at `path` and loads it as
  /// `init(weights:inputSize:precision:calibration:)` does.
  ///
  /// - Parameters:
  ///   - path: a safetensors weight file.
  ///   - inputSize: square input side; default the file's `input_size`.
  ///   - precision: the arithmetic of the stem and the 1×1 convolutions.
  ///   - calibration: for `int8`, the activation ranges to quantise with.
  /// - Throws: `TensorFileError` when the file cannot be opened, and the
  ///   errors of `init(weights:inputSize:precision:calibration:)`.
  public convenience init(
    path: String, inputSize: Int? = nil, precision: ComputePrecision = .fp32, calibration: Int8Calibration? = nil
  ) throws {
    try self.init(weights: SafeTensorsFile(path: path), inputSize: inputSize, precision: precision, calibration: calibration)
  }

  /// Convolutions an `int8` network runs on 8-bit integers, each with its
  /// own calibrated input range: the stem, every block's expansion (when it
  /// has one) and projection, and the head.
  static func quantizedProducts(blocks: Int, expansions: Int) -> Int { 1 + expansions + blocks + 1 }

  /// This network in `int8`, calibrated on `count` normalised HWC images
  /// (`count × inputSize² × 3` floats, as `forward` takes them): a float32
  /// forward pass records the input range of the stem and of every 1×1
  /// convolution
  /// (`Int8Calibration`), and the int8 network quantises with those ranges.
  ///
  /// - Throws: `PrecisionError.unsupported` when this CPU lacks AVX-512 VNNI.
  public func calibratedInt8(on input: [Float], count: Int, workers: Int = ParallelFor.defaultWorkers) throws -> EfficientNetLite {
    try ComputePrecision.int8.checkSupported()
    let reference = precision == .fp32 ? self : try EfficientNetLite(weights: file, inputSize: inputSize)
    let recorder = ActivationRangeRecorder(
      count: Self.quantizedProducts(blocks: reference.blocks.count, expansions: reference.blocks.filter { $0.expand != nil }.count))
    _ = reference.runForward(input, count: count, layers: [.pooled], workers: workers, recorder: recorder)
    return try EfficientNetLite(weights: file, inputSize: inputSize, precision: .int8, calibration: recorder.calibration)
  }

  /// The classifier's weight rows `W[c, :]` for `classes` (each in
  /// `0..<classCount`), one `featureDimension`-wide row per class. They live
  /// in the pooled feature's space (`logit_c = W[c,:]·pooled + b_c`), which
  /// makes them zero-shot prototypes for "normal = these ImageNet classes".
  public func classifierRows(_ classes: [Int]) -> [Float] {
    var out: [Float] = []
    out.reserveCapacity(classes.count * featureDimension)
    for c in classes where c >= 0 && c < classCount {
      for i in 0..<featureDimension { out.append(classifierWeights[i * classCount + c]) }
    }
    return out
  }

  /// Runs the network on `count` normalised HWC images stored back to back
  /// in `input` (`count × inputSize² × 3`).
  ///
  /// Images are spread over `workers` threads, one image per worker at a
  /// time; each image's result does not depend on the batch or the worker
  /// count.
  ///
  /// - Parameters:
  ///   - input: the images, normalised as `(x − inputMean) / inputStd`.
  ///   - count: how many images `input` holds.
  ///   - layers: the outputs to return.
  ///   - workers: threads to spread images over.
  /// - Returns: the pooled features, logits and stage maps asked for.
  public func forward(
    _ input: [Float], count: Int, layers: Set<FeatureLayer>, workers: Int = ParallelFor.defaultWorkers
  ) -> BackboneOutput {
    runForward(input, count: count, layers: layers, workers: workers)
  }

  /// Logits for `count` pooled features: `pooled · Wᵀ + b`, as
  /// `count × classCount` values.
  public func classify(pooled: [Float], count: Int) -> [Float] { logits(pooled: pooled, count: count) }

  /// SHA-256 of the weight file (recorded in banks and detectors).
  public var weightsSHA256: String { file.sha256() }

  /// The file's `input_mean` (127 for the TF-ported lite0 weights).
  public var inputMean: Float { Float(metadata["input_mean"] ?? "") ?? 127 }

  /// The file's `input_std` (128 for the TF-ported lite0 weights).
  public var inputStd: Float { Float(metadata["input_std"] ?? "") ?? 128 }

  /// Spatial size and channel count of stage `n`'s output at the input size.
  public func stageShape(_ n: Int) -> (height: Int, width: Int, channels: Int)? {
    guard n >= 1, n <= stageCount else { return nil }
    var (h, w) = stem.outputSize(height: inputSize, width: inputSize)
    for (index, b) in blocks.enumerated() {
      (h, w) = b.depthwise.outputSize(height: h, width: w)
      let endsStage = index + 1 == blocks.count || blocks[index + 1].stage != b.stage
      if b.stage == n && endsStage { return (h, w, b.project.outputChannels) }
    }
    return nil
  }

  /// Multiply-accumulate count of one forward pass to the pooled feature
  /// (plus the classifier), for roofline reporting. FLOPs = 2 × MACs.
  public var multiplyAccumulates: Int {
    var (h, w) = stem.outputSize(height: inputSize, width: inputSize)
    var macs = h * w * stem.kernel * stem.kernel * 3 * stem.outputChannels
    for b in blocks {
      if let e = b.expand { macs += h * w * e.inputChannels * e.outputChannels }
      let (oh, ow) = b.depthwise.outputSize(height: h, width: w)
      macs += oh * ow * b.depthwise.kernel * b.depthwise.kernel * b.depthwise.channels
      macs += oh * ow * b.project.inputChannels * b.project.outputChannels
      (h, w) = (oh, ow)
    }
    macs += h * w * head.inputChannels * head.outputChannels
    macs += featureDimension * classCount
    return macs
  }
}

extension EfficientNetLite {
  /// Images an int8 calibration pass reads at most: a float32 forward pass
  /// over this many costs about as much as a fit of the same number, and the
  /// min/max ranges of the larger activation maps settle well before it.
  /// Not tuned on any benchmark.
  public static let int8CalibrationImages = 64

  /// `calibratedInt8(on:count:workers:)` on at most `int8CalibrationImages`
  /// of `paths`, evenly spaced (the first, then every ⌈n/64⌉-th in order),
  /// decoded and prepared as `extractor` prepares them.
  ///
  /// - Throws: the decoders' `ImageError` naming an image that cannot be
  ///   read; `PrecisionError.unsupported` without AVX-512 VNNI.
  public func calibratedInt8(onImages paths: [String], preparedBy extractor: ImageFeatureExtractor) throws -> EfficientNetLite {
    try ComputePrecision.int8.checkSupported()
    let count = min(paths.count, Self.int8CalibrationImages)
    let sample = (0..<count).map { paths[$0 * paths.count / count] }
    return try calibratedInt8(on: try extractor.inputs(for: sample), count: sample.count, workers: extractor.workers)
  }
}
