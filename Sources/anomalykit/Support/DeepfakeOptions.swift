import ArgumentParser
import FeatureExtraction
import OODFront

/// Options `deepfake fit` and `deepfake score` share: the backbone, image
/// limits and the input-file budget.
struct DeepfakeImageOptions: ParsableArguments {
  @Option(name: .long, help: "EfficientNet-Lite0 weights for the network cues. Default: the bundled Weights/efficientnet-lite0.safetensors.")
  var weights: String?

  @Option(name: .long, help: "Refuse images with more pixels than this, before decoding.")
  var maxPixels: Int = ImageLimits.defaultMaxPixels

  @Option(name: .long, help: "Refuse runs with more input files than this.")
  var maxFiles: Int = 1_000_000

  @Flag(name: .customLong("keep-stored-orientation"), help: "Read pixels as stored, ignoring a photo's EXIF orientation.")
  var keepStoredOrientation = false

  var limits: ImageLimits { ImageLimits(maxPixels: maxPixels, orientation: keepStoredOrientation ? .asStored : .applyEXIF) }

  func validate() throws {
    guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive") }
    guard maxFiles > 0 else { throw ValidationError("--max-files must be positive") }
  }

  /// The cue extractor for `readings`; the backbone is loaded only when a
  /// reading needs it.
  func extractor(readings: [CueReading], harmonizeJPEG: Int?) throws -> CueExtractor {
    let probe = try readings.contains(where: \.needsNetwork)
      ? PerturbationProbe(weights: weights ?? WeightsLocator.locate("efficientnet-lite0.safetensors")) : nil
    return try CueExtractor(
      readings: readings, harmonizer: try harmonizeJPEG.map { try CompressionHarmonizer(quality: $0) }, probe: probe, limits: limits)
  }

  /// Measures `paths` in batches, reporting progress on standard error.
  func measure(_ extractor: CueExtractor, paths: [String], label: String) throws -> [CueExtractor.Measurement] {
    let progress = Progress(label, total: paths.count)
    var out: [CueExtractor.Measurement] = []
    var start = 0
    while start < paths.count {
      let end = min(paths.count, start + 16)
      out += try extractor.measure(paths: Array(paths[start..<end]))
      progress.update(end)
      start = end
    }
    return out
  }
}
