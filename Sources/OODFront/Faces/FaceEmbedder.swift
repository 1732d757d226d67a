import FeatureExtraction
import ParallelCompute
import TensorFiles

/// dlib's 128-d face descriptor network (`dlib_face_recognition_resnet_model_v1`,
/// `dlib.face_recognition_model_v1`), loaded from
/// `Weights/dlib-face-resnet-v1.safetensors`.
///
/// The network (dlib's `dnn_face_recognition_ex.cpp`) is a ResNet-34-like
/// stack on a 150×150 RGB face chip:
///
/// ```
/// stem    conv7×7/2 (32) → affine → relu → max-pool 3×3/2         150 → 72 → 35
/// stage   blocks of  x → conv3×3/s → affine → relu → conv3×3 → affine
///                    → relu(add_prev(·, shortcut))
///         stage 0: 3 × 32;  1: 4 × 64;  2: 3 × 128;  3: 3 × 256;  4: 1 × 256
///         the first block of stages 1–4 has s = 2 and the shortcut
///         avg-pool 2×2/2(x), zero-padded to the wider channel count
/// head    mean over positions → fc 256 → 128 (no bias)
/// ```
///
/// The input is `(x − mean[c]) / 256` per 0–255 channel with the means
/// (122.782, 117.001, 104.298) stored in the file. Two chips show the same
/// person when the Euclidean distance of their descriptors is below
/// `distanceThreshold` (0.6). Descriptors are not normalised.
///
/// `embed` gives what dlib's `compute_face_descriptor(chip)` gives with
/// `num_jitters = 0`, to float rounding (the affine layers are folded into
/// the convolutions, see `DlibConvolution`).
public final class FaceEmbedder: Sendable {
  struct Block: Sendable {
    let first: DlibConvolution
    let second: DlibConvolution
    let downsamples: Bool
  }

  /// The `architecture` metadata this loader accepts (`dlib-face-resnet-v1`).
  public static let architecture = "dlib-face-resnet-v1"
  /// The weights file, as given.
  public let path: String
  /// Side of the square face chip (150).
  public let chipSize: Int
  /// Length of a descriptor (128).
  public let descriptorSize: Int
  /// dlib's same-identity threshold on the Euclidean distance (0.6).
  public let distanceThreshold: Float
  /// Per-channel means subtracted from 0–255 RGB before scaling by 1/256.
  public let inputMean: [Float]
  /// The weights file's metadata.
  public let metadata: [String: String]
  let stem: DlibConvolution
  let blocks: [Block]
  /// `descriptorSize × 256`, row-major.
  let projection: [Float]
  private let file: SafeTensorsFile

  /// Loads the network from the weights file at `path` (see `init(weights:)`).
  public convenience init(path: String) throws {
    try self.init(weights: SafeTensorsFile(path: path))
  }

  /// Loads the network from an opened weights file, checking its
  /// architecture, metadata and every tensor.
  ///
  /// - Throws: `FaceNetworkError.wrongArchitecture` for another network's
  ///   file, `FaceNetworkError.malformedWeights` for bad metadata or
  ///   non-finite weights, and the file's errors for a missing or misshapen
  ///   tensor.
  public init(weights file: SafeTensorsFile) throws {
    self.file = file
    let path = file.path
    self.path = path
    metadata = file.metadata
    let found = file.metadata["architecture"] ?? "(none)"
    guard found == Self.architecture else {
      throw FaceNetworkError.wrongArchitecture(path: path, found: found, expected: Self.architecture)
    }
    func bad(_ reason: String) -> FaceNetworkError { .malformedWeights(path: path, reason: reason) }
    guard let size = Int(file.metadata["input_size"] ?? ""), size == 150 else {
      throw bad("input_size must be 150")
    }
    chipSize = size
    inputMean = try Self.means(file, path: path)
    guard let threshold = Float(file.metadata["distance_threshold"] ?? ""), threshold.isFinite, threshold > 0 else {
      throw bad("distance_threshold missing or not a positive number")
    }
    distanceThreshold = threshold

    func convolution(_ prefix: String, affine: String?, out: Int, in input: Int, kernel: Int, stride: Int, relu: Bool)
      throws -> DlibConvolution
    {
      let w = try file.floats("\(prefix).weight", shape: [out, input, kernel, kernel])
      let b = try file.floats("\(prefix).bias", shape: [out])
      let gamma = try affine.map { try file.floats("\($0).gamma", shape: [out]) }
      let beta = try affine.map { try file.floats("\($0).beta", shape: [out]) }
      for (name, v) in [("weight", w), ("bias", b), ("gamma", gamma ?? []), ("beta", beta ?? [])]
      where !v.allSatisfy(\.isFinite) {
        throw bad("\(prefix) \(name) has non-finite values")
      }
      return DlibConvolution(
        weights: w, bias: b, gamma: gamma, beta: beta, outputChannels: out, inputChannels: input, kernel: kernel,
        stride: stride, relu: relu)
    }

    stem = try convolution("stem.conv", affine: "stem.affine", out: 32, in: 3, kernel: 7, stride: 2, relu: true)
    let stageChannels = [32, 64, 128, 256, 256]
    let stageBlocks = [3, 4, 3, 3, 1]
    guard file.metadata["stage_channels"] == "32,64,128,256,256", file.metadata["stage_blocks"] == "3,4,3,3,1",
      file.metadata["stage_downsample"] == "0,1,1,1,1"
    else {
      throw bad("stage_channels / stage_blocks / stage_downsample differ from dlib_face_recognition_resnet_model_v1")
    }
    var blocks: [Block] = []
    var channels = 32
    for (stage, (width, count)) in zip(stageChannels, stageBlocks).enumerated() {
      for j in 0..<count {
        let prefix = "stages.\(stage).blocks.\(j)"
        let down = stage > 0 && j == 0
        blocks.append(
          Block(
            first: try convolution(
              "\(prefix).conv1", affine: "\(prefix).affine1", out: width, in: channels, kernel: 3, stride: down ? 2 : 1,
              relu: true),
            second: try convolution(
              "\(prefix).conv2", affine: "\(prefix).affine2", out: width, in: width, kernel: 3, stride: 1, relu: false),
            downsamples: down))
        channels = width
      }
    }
    self.blocks = blocks
    descriptorSize = 128
    projection = try file.floats("fc.weight", shape: [128, channels])
    guard projection.allSatisfy(\.isFinite) else { throw bad("fc.weight has non-finite values") }
  }

  /// SHA-256 of the weight file (recorded in identity banks).
  public var weightsSHA256: String { file.sha256() }

  /// The 128-d descriptor of each 150×150 face chip, in order.
  ///
  /// Chips are spread over `workers` threads, one chip per worker at a time;
  /// a chip's descriptor does not depend on the batch or the worker count.
  public func embed(_ chips: [RGBImage], workers: Int = ParallelFor.defaultWorkers) throws -> [[Float]] {
    for (index, chip) in chips.enumerated() where chip.width != chipSize || chip.height != chipSize {
      throw FaceNetworkError.wrongChipSize(index: index, width: chip.width, height: chip.height, expected: chipSize)
    }
    let d = descriptorSize
    var flat = [Float](repeating: 0, count: chips.count * d)
    flat.withUnsafeMutableBufferPointer { buffer in
      let out = SharedBuffer(buffer)
      ParallelFor.chunks(count: chips.count, workers: workers) { range in
        for i in range {
          let descriptor = self.descriptor(of: chips[i])
          for j in 0..<d { out[i * d + j] = descriptor[j] }
        }
      }
    }
    return (0..<chips.count).map { Array(flat[($0 * d)..<(($0 + 1) * d)]) }
  }

  /// Euclidean distance between two descriptors.
  public static func distance(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "descriptors must have the same length")
    var sum: Float = 0
    for i in 0..<a.count {
      let d = a[i] - b[i]
      sum += d * d
    }
    return sum.squareRoot()
  }

  /// The three `input_mean` values of a dlib face network file.
  static func means(_ file: SafeTensorsFile, path: String) throws -> [Float] {
    guard let text = file.metadata["input_mean"], case .array(let items)? = try? JSONValue.parse(text),
      items.count == 3
    else {
      throw FaceNetworkError.malformedWeights(path: path, reason: "input_mean must be a JSON list of 3 numbers")
    }
    let values = items.compactMap { item -> Float? in
      if case .number(let v) = item { return Float(v) }
      return nil
    }
    guard values.count == 3, values.allSatisfy({ $0.isFinite }) else {
      throw FaceNetworkError.malformedWeights(path: path, reason: "input_mean must be a JSON list of 3 numbers")
    }
    return values
  }
}
