import TensorFiles

/// Tiny-LaDeDa, the distilled patch-level deepfake detector of Cavia,
/// Horwitz, Reiss & Hoshen, "Real-Time Deepfake Detection in the Real-World"
/// (arXiv 2406.09398): a supervised real-vs-generated classifier whose
/// image score pools the scores of small overlapping patches.
///
/// The network (the authors' `networks/Tiny_LaDeDa.py` @ e734562bbb67, with
/// the shapes of their released checkpoints), on a normalised 256×256 RGB
/// input `x`:
///
/// ```
/// g  = P(x)                      per channel: by default x ⋆ K, K = [[-2,-1,0],[-1,0,1],[0,1,2]]
///                                (right diagonal gradient, zero "same" padding); see TinyLaDeDaPreprocess
/// a  = conv1(g)                  1×1, 3 → 8, no bias
/// b  = relu(bn1(conv2(a)))       3×3, 8 → 8, unpadded
/// c  = relu(bn(conv(b)))         layer1.0.conv1 1×1 8 → 8, layer1.0.bn1
/// d  = relu(bn(conv(c)))         layer1.0.conv2 3×3 stride 2 8 → 8, unpadded, layer1.0.bn2
/// ℓ[i,j] = fc·d[i,j] + b_fc      fc 8 → 1 at every location (the authors' pool=False)
/// score  = σ(mean_{i,j} ℓ[i,j])
/// ```
///
/// `⋆` is cross-correlation (PyTorch's conv2d); BN is inference-mode,
/// `y = (x − μ)·γ/√(σ² + ε) + β` with ε = 1e-5. There is no residual: the
/// tiny block is two convolutions in sequence. Because fc is linear, the
/// mean of the patch logits equals the authors' pooled output `fc(avgpool(d))`.
///
/// **Receptive field** (computed from the layers above): with the gradient
/// filter each grid cell sees a 7×7 window of input pixels, and neighbouring
/// cells are 2 pixels apart. The 3×3 filter sees 3 pixels; the 1×1 convs add
/// nothing; conv2 (3×3, stride 1) adds 2, giving 5; layer1.0.conv2 (3×3)
/// adds another (3 − 1)·1 = 2, giving 7, and sets the stride to 2. The
/// filter's "same" padding shifts the first window one pixel out of the
/// image: cell `i` covers input pixels `2i − 1 ..< 2i + 6`, the missing
/// pixels being zeros of the normalised input. With NPR the window is 5×5,
/// `2i ..< 2i + 5` (`receptiveField`). A 256×256 input gives a 126×126 grid
/// (`(n − 5) / 2 + 1` per axis, rounded down) either way.
///
/// **Where this differs from the authors' code**:
/// - Their factory `tiny_ladeda()` builds `layer1.0.conv2` as 1×1 and `fc` as
///   32 → 1 (Bottleneck expansion 4), which the released checkpoints do not
///   load into; the checkpoints hold a 3×3 `layer1.0.conv2` and an 8 → 1 fc,
///   and their `test.py` replaces fc with `Linear(8, 1)`. We follow the
///   checkpoints: 1,297 learned parameters (not the 785 of the factory).
/// - Their `test.py` at that commit builds `LaDeDa9` for every model; we run
///   the Tiny network as defined in `Tiny_LaDeDa.py`.
/// - The image score is the mean of the patch logits (in `Double`) rather
///   than fc of the mean feature: equal up to float rounding, and closer to
///   the exact value with the official weights, whose patch logits reach the
///   thousands (`Notebooks-export/tiny-ladeda.md`).
/// - The input representation is read from the weights file (`preprocess`).
///   The authors' default is the right-diagonal gradient, but the released
///   ForenSynth checkpoint was evidently trained on NPR input (its batch-norm
///   statistics say so), and the converter records NPR for it.
///
/// The weights (the authors' research licence) are never bundled; convert
/// their `.pth` with `python3 Weights/convert.py tiny-ladeda --pth … --out …`.
/// The converted file keeps batch norm unfolded (see `Weights/FORMAT.md`);
/// it is applied here as `y = x·α + β'` with `α = γ/√(σ² + ε)`,
/// `β' = β − μ·α`, the affine form PyTorch's CPU inference batch norm uses.
public struct TinyLaDeDa: Sendable {
  /// The weights file this model was loaded from.
  public let path: String
  /// The file's `__metadata__`.
  public let metadata: [String: String]
  /// Square side every image is resized to (the file's `input_size`, 256).
  public let inputSize: Int
  /// The input representation (the file's `preprocess`).
  public let preprocess: TinyLaDeDaPreprocess

  /// The window and spacing of the patch grid in input pixels.
  public var receptiveField: ReceptiveField { preprocess.receptiveField }
  /// Smallest input side the network can run on (one grid cell).
  public static let minimumInputSize = 5
  /// The authors' decision threshold on the probability (`validate.py`).
  public static let threshold: Float = 0.5
  /// Channels of every hidden layer.
  static let width = 8

  /// Every tensor of a converted file, with its shape (PyTorch layouts:
  /// conv `[out, in, kh, kw]`, linear `[out, in]`).
  public static let tensorShapes: [(name: String, shape: [Int])] = [
    ("conv1.weight", [8, 3, 1, 1]),
    ("conv2.weight", [8, 8, 3, 3]),
    ("bn1.weight", [8]), ("bn1.bias", [8]), ("bn1.running_mean", [8]), ("bn1.running_var", [8]),
    ("layer1.0.conv1.weight", [8, 8, 1, 1]),
    ("layer1.0.bn1.weight", [8]), ("layer1.0.bn1.bias", [8]),
    ("layer1.0.bn1.running_mean", [8]), ("layer1.0.bn1.running_var", [8]),
    ("layer1.0.conv2.weight", [8, 8, 3, 3]),
    ("layer1.0.bn2.weight", [8]), ("layer1.0.bn2.bias", [8]),
    ("layer1.0.bn2.running_mean", [8]), ("layer1.0.bn2.running_var", [8]),
    ("fc.weight", [1, 8]),
    ("fc.bias", [1]),
  ]

  /// `conv1` as 3 columns (one per input channel) over the 8 outputs.
  let stem: [SIMD8<Float>]
  /// `conv2` as `[ky][kx][in]` columns over the 8 outputs.
  let conv2: [SIMD8<Float>]
  let bn1: BatchNorm
  /// `layer1.0.conv1` as 8 columns (one per input channel).
  let blockConv1: [SIMD8<Float>]
  let blockBN1: BatchNorm
  /// `layer1.0.conv2` as `[ky][kx][in]` columns.
  let blockConv2: [SIMD8<Float>]
  let blockBN2: BatchNorm
  let fcWeights: SIMD8<Float>
  let fcBias: Float

  /// Inference-mode batch norm as a per-channel affine map `x·scale + shift`
  /// (8 channels each).
  struct BatchNorm: Sendable {
    let scale: [Float]
    let shift: [Float]
  }

  /// Loads a weights file written by `Weights/convert.py tiny-ladeda`.
  public init(path: String) throws {
    let mapped = try MappedFile(path: path)
    // A .pth given by mistake: zip (torch ≥ 1.6) or a legacy pickle.
    let looksLikeTorch = mapped.withBytes { bytes in
      bytes.count >= 4 && ((bytes[0] == 0x50 && bytes[1] == 0x4B && bytes[2] == 0x03 && bytes[3] == 0x04) || bytes[0] == 0x80)
    }
    if looksLikeTorch { throw TinyLaDeDaError.unconvertedCheckpoint(path: path) }
    try self.init(weights: SafeTensorsFile(mapped: mapped))
  }

  /// Checks the metadata and every tensor's name and shape, then loads.
  public init(weights file: SafeTensorsFile) throws {
    let path = file.path
    self.path = path
    metadata = file.metadata

    func require(_ key: String, _ expected: String) throws {
      guard let value = file.metadata[key] else {
        throw TinyLaDeDaError.notTinyLaDeDa(path: path, reason: "no '\(key)' in metadata (expected '\(expected)')")
      }
      guard value == expected else {
        throw TinyLaDeDaError.notTinyLaDeDa(path: path, reason: "metadata '\(key)' is '\(value)', expected '\(expected)'")
      }
    }
    try require("format", "weights")
    try require("architecture", "tiny-ladeda")
    try require("format_version", "1")
    guard let preprocessName = file.metadata["preprocess"] else {
      throw TinyLaDeDaError.notTinyLaDeDa(path: path, reason: "no 'preprocess' in metadata (expected one of \(TinyLaDeDaPreprocess.names.joined(separator: ", ")))")
    }
    guard let preprocess = TinyLaDeDaPreprocess(name: preprocessName) else {
      throw TinyLaDeDaError.notTinyLaDeDa(
        path: path, reason: "metadata 'preprocess' is '\(preprocessName)', expected one of \(TinyLaDeDaPreprocess.names.joined(separator: ", "))")
    }
    // A recorded kernel must be the named one (a hand-edited file would
    // otherwise run a kernel other than the one it claims).
    if case .gradient(_, let kernel) = preprocess, let recorded = file.metadata["gradient_kernel"] {
      let numbers = (try? JSONValue.parse(recorded)).map(Self.flattenNumbers) ?? []
      guard numbers == kernel.map(Double.init) else {
        throw TinyLaDeDaError.notTinyLaDeDa(
          path: path, reason: "metadata 'gradient_kernel' is \(recorded), but '\(preprocessName)' is \(kernel.map { Int($0) })")
      }
    }
    self.preprocess = preprocess
    let size = file.metadata["input_size"].map { Int($0) } ?? 256
    guard let size, size >= Self.minimumInputSize, size <= 4096 else {
      throw TinyLaDeDaError.notTinyLaDeDa(path: path, reason: "metadata 'input_size' is '\(file.metadata["input_size"] ?? "")', expected an integer in 5…4096")
    }
    inputSize = size
    let epsText = file.metadata["bn_eps"] ?? "1e-05"
    guard let eps = Float(epsText), eps > 0, eps.isFinite else {
      throw TinyLaDeDaError.notTinyLaDeDa(path: path, reason: "metadata 'bn_eps' is '\(epsText)', expected a positive number")
    }

    // Names and shapes first, all of them, so the error names the first
    // offending tensor in a stable order.
    let expected = Dictionary(uniqueKeysWithValues: Self.tensorShapes.map { ($0.name, $0.shape) })
    for name in file.tensors.keys.sorted() where expected[name] == nil {
      throw TinyLaDeDaError.unexpectedTensor(path: path, tensor: name, shape: file.tensors[name]?.shape ?? [])
    }
    for (name, shape) in Self.tensorShapes {
      guard let info = file.tensors[name] else { throw TinyLaDeDaError.missingTensor(path: path, tensor: name) }
      guard info.shape == shape else {
        throw TinyLaDeDaError.wrongShape(path: path, tensor: name, expected: shape, found: info.shape)
      }
    }

    func values(_ name: String) throws -> [Float] {
      let v = try file.floats(name)
      if let bad = v.firstIndex(where: { !$0.isFinite }) {
        throw TinyLaDeDaError.invalidValue(path: path, tensor: name, reason: "non-finite value at element \(bad)")
      }
      return v
    }
    func batchNorm(_ prefix: String) throws -> BatchNorm {
      let gamma = try values(prefix + ".weight")
      let beta = try values(prefix + ".bias")
      let mean = try values(prefix + ".running_mean")
      let variance = try values(prefix + ".running_var")
      if let bad = variance.firstIndex(where: { $0 < 0 }) {
        throw TinyLaDeDaError.invalidValue(path: path, tensor: prefix + ".running_var", reason: "negative variance at element \(bad)")
      }
      var scale = [Float](repeating: 0, count: Self.width)
      var shift = [Float](repeating: 0, count: Self.width)
      for o in 0..<Self.width {
        scale[o] = gamma[o] * (1 / (variance[o] + eps).squareRoot())
        shift[o] = beta[o] - mean[o] * scale[o]
      }
      return BatchNorm(scale: scale, shift: shift)
    }
    /// `[out, in, kh, kw]` → one SIMD8 over `out` per `(ky, kx, in)`.
    func columns(_ name: String, inputs: Int, kernel: Int) throws -> [SIMD8<Float>] {
      let w = try values(name)
      var out = [SIMD8<Float>](repeating: .zero, count: kernel * kernel * inputs)
      for o in 0..<Self.width {
        for i in 0..<inputs {
          for ky in 0..<kernel {
            for kx in 0..<kernel {
              out[(ky * kernel + kx) * inputs + i][o] = w[((o * inputs + i) * kernel + ky) * kernel + kx]
            }
          }
        }
      }
      return out
    }

    stem = try columns("conv1.weight", inputs: 3, kernel: 1)
    conv2 = try columns("conv2.weight", inputs: 8, kernel: 3)
    bn1 = try batchNorm("bn1")
    blockConv1 = try columns("layer1.0.conv1.weight", inputs: 8, kernel: 1)
    blockBN1 = try batchNorm("layer1.0.bn1")
    blockConv2 = try columns("layer1.0.conv2.weight", inputs: 8, kernel: 3)
    blockBN2 = try batchNorm("layer1.0.bn2")
    let fc = try values("fc.weight")
    var fcWeights = SIMD8<Float>()
    for i in 0..<Self.width { fcWeights[i] = fc[i] }
    self.fcWeights = fcWeights
    fcBias = try values("fc.bias")[0]
  }

  /// The numbers of a (nested) JSON array, in order.
  static func flattenNumbers(_ value: JSONValue) -> [Double] {
    switch value {
    case .number(let d): return [d]
    case .array(let items): return items.flatMap(flattenNumbers)
    default: return [.nan]
    }
  }

  /// Grid side for an input side of `n` pixels: `(n − 5) / 2 + 1`.
  public static func gridSize(forInput n: Int) -> Int {
    n < minimumInputSize ? 0 : (n - minimumInputSize) / 2 + 1
  }
}
