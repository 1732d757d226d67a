import AnomalyKit
import Density
import FeatureExtraction

/// The command line's view of `ObservationEncoder`: weights from the
/// options, inputs from files and folders, progress on standard error.
extension ObservationEncoder {
  /// `ObservationEncoder.forDetector` with `--text-weights`, `--weights`,
  /// `--precision` and the image limits of the command line.
  static func forDetector(_ detector: ColdStartDetector, path: String, text: TextOptions, image: ImageOptions) throws -> ObservationEncoder {
    try forDetector(
      detector, path: path, textWeights: text.textWeights, imageWeights: image.weights, limits: image.limits, batchSize: image.batchSize,
      precision: image.precisionChoice, allowMixedPrecision: image.allowMixedPrecision)
  }

  /// Embeddings of observation inputs: lines of text files, or images and
  /// folders of images. Blank text lines are skipped with a warning.
  func embed(_ inputs: [String], maxFiles: Int) throws -> (rows: FeatureMatrix, labels: [String]) {
    switch self {
    case .text(let e):
      var records: [TextRecord] = []
      for path in inputs {
        records += try TextLines.read(path, warn: { warn("warning: " + $0) })
      }
      guard !records.isEmpty else { throw CLIError("\(inputs.joined(separator: ", ")): no texts (every line is blank)") }
      return (e.embedReporting(records, label: "embed"), records.map(\.text))
    case .image(let p):
      let paths = try InputFiles.images(inputs, maxFiles: maxFiles)
      let progress = Progress("embed", total: paths.count)
      return (try p.features(paths) { done, _ in progress.update(done) }, paths)
    }
  }

  /// Embeddings of texts given directly (text detectors only).
  func embed(texts: [TextRecord]) throws -> FeatureMatrix {
    guard case .text(let e) = self else { throw CLIError("this is an image detector: give images, not texts") }
    return e.embedReporting(texts, label: "embed")
  }
}
