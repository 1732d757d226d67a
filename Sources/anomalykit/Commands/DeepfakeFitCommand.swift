import ArgumentParser
import Foundation
import OODFront

/// `anomalykit deepfake fit REAL_IMAGES_OR_DIRS... --out DETECTOR.safetensors`.
struct DeepfakeFitCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "fit", abstract: "Fit a real-only deepfake detector on real photos (no generated images needed).",
    discussion: """
      Every image is re-encoded as JPEG (--harmonize-jpeg, default 90), cropped to its central square \
      (at most 256 px, no resampling), and measured by a few cues: sensor noise relative to structure, \
      the period-2 trace of upsampling, and how much a frozen EfficientNet-Lite0's stage-3 features move \
      under slight noise (RIGID) and slight blur. The detector keeps each cue's median and spread over \
      the reals; 'deepfake score' fuses a new image's tail probabilities by Fisher's method and flags it \
      above a threshold set on the reals alone (--fpr, cross-fitted). Default cues: \
      \(DeepfakeDetector.defaultReadings.map(\.description).joined(separator: ",")) (chosen by \
      leave-one-generator-out and leave-one-real-source-out; see the README for what this can and cannot do). \
      With --tiny-ladeda WEIGHTS (the LaDeDa authors' checkpoint, which you convert) the default is \
      \(DeepfakeDetector.defaultReadingsWithTinyLaDeDa.map(\.description).joined(separator: ",")): its mean patch \
      logit, calibrated on your reals, which held out better on the same protocol.
      """)

  @Argument(help: "Real images, or folders of them.")
  var inputs: [String] = []

  @Option(name: .long, help: "Where to write the detector (.safetensors).")
  var out: String

  @Option(name: .long, help: "Cue readings, comma-separated cue:tail (tail upper, lower or two). Cues: \(DeepfakeCue.allCases.map(\.rawValue).joined(separator: ", ")).")
  var cues: String?

  @Option(name: .customLong("harmonize-jpeg"), help: "JPEG quality every image is re-encoded at before the cues, at fit and score time alike (1-100, or none). Default 90.")
  var harmonizeJPEG: String = String(DeepfakeDetector.defaultHarmonizeJPEG)

  @Option(name: .long, help: "False-positive rate on reals for the verdict threshold (default 0.05).")
  var fpr: Double = DeepfakeDetector.defaultFPR

  @OptionGroup var image: DeepfakeImageOptions
  @OptionGroup var limits: LimitOptions

  func validate() throws {
    guard !inputs.isEmpty else { throw ValidationError("give real images or folders of them") }
    guard fpr > 0, fpr < 1 else { throw ValidationError("--fpr must be in (0, 1)") }
    _ = try parsedQuality()
    if let cues { _ = try CueReading.list(cues) }
  }

  func parsedQuality() throws -> Int? {
    if harmonizeJPEG == "none" { return nil }
    guard let q = Int(harmonizeJPEG), (1...100).contains(q) else { throw ValidationError("--harmonize-jpeg must be a JPEG quality in 1…100, or none") }
    return q
  }

  func run() throws {
    let configuration = DeepfakeScreener.Configuration(
      readings: try cues.map(CueReading.list), harmonizeJPEG: try parsedQuality(), fpr: fpr,
      backboneWeights: image.weights.map { URL(fileURLWithPath: $0) }, tinyLaDeDaWeights: image.tinyLaDeDa.map { URL(fileURLWithPath: $0) },
      limits: image.limits)
    let paths = try InputFiles.images(inputs, maxFiles: image.maxFiles)
    try OutputPath.check(out, inputs: paths)
    let progress = Progress("deepfake fit", total: paths.count)
    let screener = try DeepfakeScreener.fit(realPaths: paths, configuration: configuration) { done, _ in progress.update(done) }
    try screener.save(to: URL(fileURLWithPath: out))
    let detector = screener.detector
    warn(
      "wrote \(out): \(paths.count) real images, cues \(detector.readings.map(\.description).joined(separator: ",")), "
        + "threshold \(String(format: "%.3f", detector.threshold)) at \(detector.fpr) false positives on reals (cross-fitted)")
  }
}
