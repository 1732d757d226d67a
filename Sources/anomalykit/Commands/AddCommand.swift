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
    let features: FeatureMatrix
    var added = 0
    if let npy = fromNPY {
      features = try readFeatureMatrix(npy)
      added = features.rows
    } else if let pipeline = loaded.pipeline {
      let paths = try InputFiles.images(inputs, maxFiles: image.maxFiles)
      try OutputPath.check(bank, inputs: paths)
      let progress = Progress("add: features", total: paths.count)
      features = try pipeline.features(paths) { done, _ in progress.update(done) }
      added = paths.count
    } else {
      return
    }
    var grown = try loaded.bank.adding(features, source: fromNPY ?? "new images")
    grown.metadata["fit_images"] = String((Int(grown.metadata["fit_images"] ?? "") ?? 0) + added)
    let isPatchBank = grown.metadata["patches"] == "true"
    if !isPatchBank, grown.threshold != nil,
      let fpr = Double(grown.metadata["threshold_fpr"] ?? ""), let holdout = Double(grown.metadata["threshold_holdout"] ?? "")
    {
      let calibration = ThresholdCalibration(holdout: holdout, fpr: fpr, seed: UInt64(grown.metadata["threshold_seed"] ?? "") ?? 0)
      // The bank holds base-space features; the scorer re-normalises idempotently.
      let all = grown.features
      let (t, scores) = try ImageBankPipeline.calibrate(
        all, images: all.rows, scorer: grown.scorer, k: grown.k, coreset: nil, calibration: calibration, pooling: nil)
      grown.setThreshold(t, calibration: calibration, scores: scores.count)
    }
    try BankFile.write(grown, to: bank, toolkitVersion: AnomalyKitCommand.version)
    warn("added \(added) normal(s) to \(bank): now \(grown.count) features, threshold \(grown.threshold.map { "\($0)" } ?? "none")")
  }
}
