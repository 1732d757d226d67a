import AnomalyKit
import ArgumentParser
import FeatureExtraction

extension ResizePolicy: ExpressibleByArgument {}
extension ComputePrecision: ExpressibleByArgument {}
extension PatchFeatureBuilder.Grid: ExpressibleByArgument {}

/// `--precision` and `--allow-mixed-precision`: the arithmetic of the
/// backbone's or sentence encoder's matrix products (`ComputePrecision`).
struct PrecisionOptions: ParsableArguments {
  @Option(name: .customLong("precision"), help: "Arithmetic of the backbone's and text encoder's matrix products: fp32; bf16 (AVX-512 BF16: weights and activations rounded to bfloat16, float32 sums); or int8 (AVX-512 VNNI: the stem, 1×1 convolutions and linear layers on 8-bit integers with per-channel weight scales; image activation ranges calibrated on up to 64 of the images fitted or embedded, text activations coded per token). Banks and detectors record it (and int8's ranges); commands that load one follow it unless this is given.")
  var precisionChoice: ComputePrecision?

  @Flag(name: .customLong("allow-mixed-precision"), help: "Use a --precision other than the one the bank or detector was made in (its threshold was calibrated on features of the other arithmetic).")
  var allowMixedPrecision = false

  /// The precision asked for, or `fp32` for new banks and detectors.
  var precision: ComputePrecision { precisionChoice ?? .fp32 }
}

/// Options every image command shares.
struct ImageOptions: ParsableArguments {
  @Option(name: .long, help: "EfficientNet-Lite weights (.safetensors). Default: the bundled Weights/efficientnet-lite0.safetensors.")
  var weights: String?

  @Option(name: .customLong("resize"), help: "How images become 224×224: crop (shorter side 256, central crop; photos), stretch (small images such as CIFAR) or native (central crop at the image's own resolution, no resampling; forensic features).")
  var resizeChoice: ResizePolicy?

  /// The resize policy asked for, or `crop` (photos) by default.
  var resize: ResizePolicy { resizeChoice ?? .crop }

  @Option(name: .customLong("input-size"), help: "Network input side in pixels (default: the weights' native size, 224). Larger inputs give finer patch maps.")
  var inputSize: Int?

  @OptionGroup var arithmetic: PrecisionOptions

  /// The precision asked for (`--precision`), nil when not given.
  var precisionChoice: ComputePrecision? { arithmetic.precisionChoice }
  /// `--allow-mixed-precision`.
  var allowMixedPrecision: Bool { arithmetic.allowMixedPrecision }
  /// The precision asked for, or `fp32` when a new bank is fitted.
  var precision: ComputePrecision { arithmetic.precision }

  @Flag(name: .customLong("flip-average"), help: "Average each image's pooled feature with its mirror image's (test-time augmentation).")
  var flipAverage = false

  @Option(name: .long, help: "Refuse images with more pixels than this, before decoding.")
  var maxPixels: Int = ImageLimits.defaultMaxPixels

  @Flag(name: .customLong("keep-stored-orientation"), help: "Read pixels as stored, ignoring a photo's EXIF orientation (as Pillow's Image.open does; for parity work). By default the orientation is applied, as viewers do.")
  var keepStoredOrientation = false

  /// The decoding limits and orientation these options ask for.
  var limits: ImageLimits {
    ImageLimits(maxPixels: maxPixels, orientation: keepStoredOrientation ? .asStored : .applyEXIF)
  }

  @Option(name: .long, help: "Images per forward pass.")
  var batchSize: Int = 32

  @Option(name: .long, help: "Refuse runs with more input files than this.")
  var maxFiles: Int = 1_000_000

  func validate() throws {
    guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive") }
    guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    guard maxFiles > 0 else { throw ValidationError("--max-files must be positive") }
    if let inputSize, !(32...2048).contains(inputSize) { throw ValidationError("--input-size must be in 32…2048") }
  }

  func weightsPath() throws -> String {
    try weights ?? BundledWeights.path("efficientnet-lite0.safetensors")
  }

  /// The extractor for `paths`; in `int8` the network is calibrated on
  /// (a sample of) those images.
  func extractor(for paths: [String]) throws -> ImageFeatureExtractor {
    func make(_ model: EfficientNetLite) -> ImageFeatureExtractor {
      var extractor = ImageFeatureExtractor(model: model, policy: resize, limits: limits, batchSize: batchSize)
      extractor.flipAverage = flipAverage
      return extractor
    }
    guard precision == .int8 else {
      return make(try EfficientNetLite(path: try weightsPath(), inputSize: inputSize, precision: precision))
    }
    let reference = try EfficientNetLite(path: try weightsPath(), inputSize: inputSize)
    return make(try reference.calibratedInt8(onImages: paths, preparedBy: make(reference)))
  }


}
