import AnomalyKit
import ArgumentParser
import Density
import FeatureExtraction
import Foundation

extension ColdStartRule: ExpressibleByArgument {}

/// `anomalykit adapt`: build a cold-start detector from descriptions of the
/// normal classes, and adapt it to unlabelled (possibly contaminated)
/// observations as they arrive.
struct AdaptCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "adapt", abstract: "Build or update a cold-start detector (zero-shot descriptions + ColdFusion adaptation).",
    discussion: """
      New text detector:  anomalykit adapt --descriptions D.json [--observations OBS.txt] --out DET.safetensors
                          anomalykit adapt --class-names "card_activation,exchange_rate" [--observations OBS.txt] --out DET.safetensors
      New image detector: anomalykit adapt --imagenet-classes "espresso,cup" [--observations DIR] --out DET.safetensors
      Update in place:    anomalykit adapt --detector DET.safetensors --observations NEW.txt

      Descriptions are a JSON object (class → example query, or → array of queries) or a text file with \
      one description per line. Observations are text files (one text per line) for text detectors, and \
      images or folders for image detectors. Each update embeds only the new observations; the detector \
      file keeps the embeddings of everything seen and is replaced atomically.
      """)

  @Option(help: "Class descriptions: JSON {class: text | [texts]} or one description per line.")
  var descriptions: String?

  @Option(name: .customLong("imagenet-classes"), help: "Normal ImageNet classes for an image detector: names or indices, comma-separated, or a file with one per line.")
  var imagenetClasses: String?

  @Option(help: "An existing detector to update (in place unless --out is given).")
  var detector: String?

  @Option(parsing: .upToNextOption, help: "Observation text files, or images / folders of images.")
  var observations: [String] = []

  @Option(help: "Where to write the detector.")
  var out: String?

  @Option(name: .customLong("class-names"), help: "Build a text detector from the normal class names alone: comma-separated (underscores read as spaces), or a file (names.json {class: name}, or one name per line).")
  var classNames: String?

  @Option(help: "Fraction q of observations kept by trimming (the rest are presumed anomalies). Default 0.95 for text (chosen by leave-one-domain-out), 0.9 for images. New detectors only.")
  var trim: Double?

  @Option(help: "Scoring rule: predictive (shrunk medians with predictive calibration; the text default, chosen by leave-one-domain-out), fused (zero-shot and predictive scores standardised on the kept observations and summed; the image default) or coldfusion (the paper's medians). New detectors only.")
  var rule: ColdStartRule?

  @Option(help: "Distance: l2 (squared L2 on raw embeddings, the official code) or cosine. Default cosine for text (chosen by leave-one-domain-out) and images. New detectors only.")
  var metric: PrototypeMetric?

  @Option(help: "The description's prior weight κ of the predictive rule, in observations (default 1.5). New detectors only.")
  var kappa: Float?

  @OptionGroup var text: TextOptions
  @OptionGroup var image: ImageOptions

  @OptionGroup var limits: LimitOptions

  func validate() throws {
    let sources = [descriptions, classNames, imagenetClasses, detector].compactMap { $0 }
    guard sources.count == 1 else {
      throw ValidationError(
        "give exactly one of --descriptions or --class-names (new text detector), --imagenet-classes (new image detector) or --detector (update)")
    }
    guard detector != nil || out != nil else { throw ValidationError("a new detector needs --out") }
    guard detector == nil || !observations.isEmpty else { throw ValidationError("updating a detector needs --observations") }
    if let trim, !(trim > 0 && trim <= 1) { throw ValidationError("--trim must be in (0, 1]") }
    if let kappa, !(kappa > 0 && kappa.isFinite) { throw ValidationError("--kappa must be positive") }
    if detector != nil && (trim != nil || rule != nil || metric != nil || kappa != nil) {
      throw ValidationError("--trim, --rule, --metric and --kappa set up a new detector; an existing one keeps its own")
    }
  }

  /// The configuration of a new detector: `base` with the options given.
  func configuration(_ base: ColdStartConfiguration) -> ColdStartConfiguration {
    base.overriding(metric: metric, rule: rule, trim: trim, kappa: kappa)
  }

  func run() throws {
    let target = out ?? detector ?? ""
    try OutputPath.check(target, inputs: observations + [descriptions, classNames, imagenetClasses].compactMap { $0 })
    var current: ColdStartDetector
    let encoder: ObservationEncoder
    if let path = detector {
      current = try DetectorFile.read(path: path)
      encoder = try ObservationEncoder.forDetector(current, path: path, text: text, image: image)
    } else if descriptions != nil || classNames != nil {
      let guidance: ClassDescriptions
      let meta: [String: String]
      if let path = descriptions {
        guidance = try ClassDescriptions.read(path)
        meta = ["descriptions": (TextLines.displayName(path) as NSString).lastPathComponent]
      } else {
        guidance = try ClassDescriptions.names(classNames ?? "")
        meta = ["guidance": "class names"]
      }
      let textDetector = try ColdStartTextDetector(
        descriptions: guidance, embedder: try text.embedder(precision: image.precision), configuration: configuration(.text), metadata: meta,
        warning: { warn("warning: " + $0) })
      encoder = .text(textDetector.embedder)
      current = textDetector.detector
    } else {
      guard image.precision != .int8 else {
        throw PrecisionError.unavailable(precision: .int8, what: "cold-start image detectors, which fit no images to calibrate on")
      }
      let imageDetector = try ColdStartImageDetector(
        classes: try ImageNetClasses.items(imagenetClasses ?? ""),
        backbone: try EfficientNetLite(path: try image.weightsPath(), inputSize: image.inputSize, precision: image.precision), resize: image.resize,
        flipAverage: image.flipAverage, configuration: configuration(.image), limits: image.limits, batchSize: image.batchSize)
      encoder = .image(imageDetector.pipeline)
      current = imageDetector.detector
    }
    if !observations.isEmpty {
      let (rows, _) = try encoder.embed(observations, maxFiles: image.maxFiles)
      let before = current.observations.rows
      current = try current.adapting(rows, source: observations.joined(separator: ", "))
      let kept = current.adaptation.isKept.filter { $0 }.count
      warn("adapted to \(rows.rows) new observation(s): \(before + rows.rows) in all, \(kept) kept after trimming")
    }
    try DetectorFile.write(current, to: target, toolkitVersion: AnomalyKitCommand.version)
    let threshold = current.threshold.map { String(format: "%.6g", $0) } ?? "none (fewer than \(ColdStartDetector.minimumObservationsForThreshold) observations)"
    print("\(target): \(encoder.modality) detector, \(current.classNames.count) prototypes, \(current.observations.rows) observations, rule \(current.rule.rawValue), metric \(current.metric.rawValue), threshold \(threshold)")
  }
}

/// Reading `--imagenet-classes`.
enum ImageNetClasses {
  /// The class names or indices of a comma-separated list, or of a file
  /// with one per line (`ColdStartImageDetector.resolve` looks them up).
  static func items(_ spec: String) throws -> [String] {
    if FileManager.default.fileExists(atPath: spec) { return try TextLines.read(spec).records.map(\.text) }
    return spec.split(separator: ",").map(String.init)
  }
}
