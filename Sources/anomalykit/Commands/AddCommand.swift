import AnomalyKit
import ArgumentParser
import Density
import FeatureExtraction
import Foundation

/// `anomalykit add --bank BANK IMAGES_OR_DIRS...`: grow a bank with new
/// normals, without a refit, atomically in place.
struct AddCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "add", abstract: "Add new normal images to a bank (atomic, in place).",
    discussion: """
      The new features are appended and the derived state (center, Gaussian) is recomputed; the bank file \
      is replaced by rename, so a crash leaves the old bank intact. Image banks with a calibrated threshold \
      are recalibrated over all their normals with the same settings. Patch banks keep their threshold \
      (their per-image grouping is not stored); refit to recalibrate.
      """)

  @Option(name: .long, help: "The bank to grow.")
  var bank: String

  @Argument(help: "New normal images or folders.")
  var inputs: [String] = []

  @Option(name: .customLong("from-npy"), help: "Add the rows of an N×D .npy instead of images.")
  var fromNPY: String?

  @OptionGroup var image: ImageOptions

  @OptionGroup var limits: LimitOptions

  func validate() throws {
    guard fromNPY != nil || !inputs.isEmpty else { throw ValidationError("give images or folders, or --from-npy") }
  }

  func run() throws {
    let loaded = try LoadedBank(path: bank, image: image, needsImages: fromNPY == nil)
    let grown: ImageAnomalyDetector
    let added: Int
    if let npy = fromNPY {
      let features = try readFeatureMatrix(npy)
      var d = loaded.detector
      try d.add(features: features, source: npy)
      grown = d
      added = features.rows
    } else {
      let paths = try InputFiles.images(inputs, maxFiles: image.maxFiles)
      try OutputPath.check(bank, inputs: paths)
      let progress = Progress("add: features", total: paths.count)
      grown = try loaded.detector.adding(paths: paths) { done, _ in progress.update(done) }
      added = paths.count
    }
    try grown.save(to: URL(fileURLWithPath: bank))
    warn("added \(added) normal(s) to \(bank): now \(grown.bank.count) features, threshold \(grown.threshold.map { "\($0)" } ?? "none")")
  }
}
