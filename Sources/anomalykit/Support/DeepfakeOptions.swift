import AnomalyKit
import ArgumentParser
import FeatureExtraction
import OODFront
import TensorFiles

/// Options `deepfake fit` and `deepfake score` share: the backbone, image
/// limits and the input-file budget.
struct DeepfakeImageOptions: ParsableArguments {
  @Option(name: .long, help: "EfficientNet-Lite0 weights for the network cues. Default: the bundled Weights/efficientnet-lite0.safetensors.")
  var weights: String?

  @Option(name: .customLong("tiny-ladeda"), help: "Tiny-LaDeDa weights (converted by Weights/convert.py tiny-ladeda; research licence, never bundled) for the cue tiny_ladeda.")
  var tinyLaDeDa: String?

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

  /// The cue extractor for `readings`; the backbone and Tiny-LaDeDa are
  /// loaded only when a reading needs them.
  func extractor(readings: [CueReading], harmonizeJPEG: Int?) throws -> CueExtractor {
    let probe = try readings.contains(where: \.needsNetwork)
      ? PerturbationProbe(weights: weights ?? BundledWeights.path("efficientnet-lite0.safetensors")) : nil
    let tiny = try readings.contains(where: \.needsTinyLaDeDa) ? tinyLaDeDa.map { try TinyLaDeDa(path: $0) } : nil
    return try CueExtractor(
      readings: readings, harmonizer: try harmonizeJPEG.map { try CompressionHarmonizer(quality: $0) }, probe: probe,
      tinyLaDeDa: tiny, limits: limits)
  }

  /// Provenance of the weights the extractor uses, for the detector file.
  func provenance(_ extractor: CueExtractor) throws -> [String: String] {
    var m: [String: String] = [:]
    if let probe = extractor.probe {
      m["backbone"] = probe.architecture
      m["weights_sha256"] = probe.weightsSHA256
    }
    if extractor.tinyLaDeDa != nil, let tinyLaDeDa { m["tiny_ladeda_sha256"] = try SafeTensorsFile(path: tinyLaDeDa).sha256() }
    return m
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
