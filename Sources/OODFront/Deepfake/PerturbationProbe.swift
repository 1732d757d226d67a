import FeatureExtraction
import ParallelCompute
import TensorFiles

/// Training-free perturbation cues from a frozen backbone (EfficientNet-Lite0),
/// after RIGID (He et al., 2024: real images' representations are more
/// stable under small noise than generated ones') and MINDER-style blur.
///
/// With `f₃(x)` the stage-3 feature map (40 channels on the 1/8 grid) and
/// `f(x)` the pooled 1280-d feature of the crop `x`, normalised as the
/// backbone expects (`(x − 127) / 128`):
///
///     rigid_s3    = mean over grid cells p of 1 − cos(f₃(x)_p, f₃(x + σ n)_p)
///     minder_s3   = mean over p of 1 − cos(f₃(x)_p, f₃(b(x))_p)
///     rigid_pool  = 1 − cos(f(x), f(x + σ n))
///     minder_pool = 1 − cos(f(x), f(b(x)))
///
/// where `n` holds standard normals from `CounterNormals` (seed 0, HWC
/// order, so a crop is perturbed identically on every run), `σ = 0.05`, and
/// `b` is one pass of the separable binomial `[1 4 6 4 1]/16` blur with
/// mirror padding. The network runs at the crop's own size (no resampling):
/// one folded model per crop side, built on first use.
public final class PerturbationProbe: @unchecked Sendable {
  /// `σ` of the Gaussian noise of the `rigid_*` cues, in units of the
  /// normalised input `(x − 127) / 128` (0.05).
  public static let noiseSigma: Float = 0.05

  private let weights: SafeTensorsFile
  private let lock = Mutex()
  private var models: [Int: EfficientNetLite] = [:]

  /// The backbone's architecture name, provenance for the detector file.
  public let architecture: String
  /// SHA-256 of the backbone's weights file, provenance for the detector file.
  public let weightsSHA256: String

  /// Loads the backbone's weights at `path` and builds the model
  /// for `ForensicCrop.maxSide` crops (other sides are built on first use).
  public init(weights path: String) throws {
    weights = try SafeTensorsFile(path: path)
    let probe = try EfficientNetLite(weights: weights, inputSize: ForensicCrop.maxSide)
    architecture = probe.architecture
    weightsSHA256 = weights.sha256()
    models[ForensicCrop.maxSide] = probe
  }

  func model(side: Int) throws -> EfficientNetLite {
    if let m = lock.withLock({ models[side] }) { return m }
    let m = try EfficientNetLite(weights: weights, inputSize: side)
    lock.withLock { models[side] = m }
    return m
  }

  /// The four cues of one crop, and the per-cell stage-3 maps of the two
  /// stage-3 cues (row-major `grid × grid`) for heatmaps.
  public struct Output: Sendable {
    /// `rigid_s3`: the mean of `rigidMap`.
    public var rigidS3: Double
    /// `minder_s3`: the mean of `minderMap`.
    public var minderS3: Double
    /// `rigid_pool`, `1 − cos(f(x), f(x + σ n))` (nil unless asked for).
    public var rigidPooled: Double?
    /// `minder_pool`, `1 − cos(f(x), f(b(x)))` (nil unless asked for).
    public var minderPooled: Double?
    /// Per stage-3 cell, `1 − cos(f₃(x)_p, f₃(x + σ n)_p)`.
    public var rigidMap: [Float]
    /// Per stage-3 cell, `1 − cos(f₃(x)_p, f₃(b(x))_p)`.
    public var minderMap: [Float]
    /// Side of the stage-3 grid (rows of the feature map).
    public var grid: Int
  }

  /// Runs the network on the crop, its noisy and its blurred copy, one
  /// thread (callers parallelise over images).
  public func measure(crop: RGBImage, pooled: Bool) throws -> Output {
    let s = crop.width
    let model = try model(side: s)
    let n = s * s * 3
    var input = [Float](repeating: 0, count: 3 * n)
    for i in 0..<n { input[i] = (Float(crop.pixels[i]) - 127) / 128 }
    let normals = CounterNormals.draw(count: n)
    for i in 0..<n { input[n + i] = input[i] + Self.noiseSigma * normals[i] }
    let blurred = Self.blurHWC(Array(input[0..<n]), side: s)
    for i in 0..<n { input[2 * n + i] = blurred[i] }
    var layers: Set<FeatureLayer> = [.stage(3)]
    if pooled { layers.insert(.pooled) }
    let out = model.forward(input, count: 3, layers: layers, workers: 1)
    guard let maps = out.stages[3] else { throw DeepfakeError.invalidArgument("the backbone has no stage 3") }
    let cells = maps.height * maps.width, c = maps.channels
    func cosineDistances(_ other: Int) -> [Float] {
      (0..<cells).map { p in
        let a = p * c, b = other * cells * c + p * c
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for k in 0..<c {
          let x = maps.values[a + k], y = maps.values[b + k]
          dot += x * y
          na += x * x
          nb += y * y
        }
        return 1 - dot / max((na * nb).squareRoot(), 1e-12)
      }
    }
    let rigidMap = cosineDistances(1), minderMap = cosineDistances(2)
    func mean(_ v: [Float]) -> Double { v.reduce(0.0) { $0 + Double($1) } / Double(max(v.count, 1)) }
    var result = Output(
      rigidS3: mean(rigidMap), minderS3: mean(minderMap), rigidPooled: nil, minderPooled: nil,
      rigidMap: rigidMap, minderMap: minderMap, grid: maps.height)
    if pooled, let p = out.pooled {
      let d = model.featureDimension
      func cosineDistance(_ i: Int) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for k in 0..<d {
          let x = Double(p[k]), y = Double(p[i * d + k])
          dot += x * y
          na += x * x
          nb += y * y
        }
        return 1 - dot / max((na * nb).squareRoot(), 1e-12)
      }
      result.rigidPooled = cosineDistance(1)
      result.minderPooled = cosineDistance(2)
    }
    return result
  }

  /// The binomial blur of each channel of an HWC `side × side × 3` image.
  static func blurHWC(_ x: [Float], side s: Int) -> [Float] {
    var out = [Float](repeating: 0, count: x.count)
    for ch in 0..<3 {
      var plane = [Float](repeating: 0, count: s * s)
      for i in 0..<(s * s) { plane[i] = x[3 * i + ch] }
      let b = ForensicStatistics.blur(plane, height: s, width: s, dilation: 1)
      for i in 0..<(s * s) { out[3 * i + ch] = b[i] }
    }
    return out
  }
}
