import AnomalyKit
import ArgumentParser
import Density
import FeatureExtraction
import Foundation

/// `anomalykit demo`: the main job on the bundled example images.
struct DemoCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Fit a patch bank on the bundled normal images, score the test images, write heatmaps.",
    discussion: """
      Uses Examples/demo (CC0 brick-wall crops from scikit-image; the test set holds unseen wall crops and \
      crops with pasted gravel) and the bundled EfficientNet-Lite0 weights. Equivalent to:
        anomalykit fit --patches Examples/demo/normal --resize stretch --coreset 0.25 --holdout 0.2 --out BANK
        anomalykit score --bank BANK Examples/demo/test --heatmaps DIR
      """)

  @Option(name: .long, help: "Folder with normal/ and test/ (default: the bundled Examples/demo).")
  var examples: String?

  @Option(name: .long, help: "Where to write the bank and heatmaps (default: a fresh temporary folder).")
  var out: String?

  @OptionGroup var limits: LimitOptions

  func run() throws {
    let root = try examples ?? WeightsLocator.demoFolder()
    let outDir = out ?? (NSTemporaryDirectory() + "anomalykit-demo-\(ProcessInfo.processInfo.processIdentifier)")
    try HeatmapWriter.prepare(folder: outDir)
    let model = try EfficientNetLite(path: try WeightsLocator.locate("efficientnet-lite0.safetensors"))
    let recipe = BankRecipe(features: .patches(stages: [3, 5], pooling: .max), resize: .stretch)
    let pipeline = try ImageBankPipeline(model: model, recipe: recipe)
    let normal = try InputFiles.images([root + "/normal"])
    let test = try InputFiles.images([root + "/test"])

    let features = try pipeline.features(normal)
    var bank = try ImageBankPipeline.fitBank(
      features, scorer: .knn, k: 1, coreset: 0.25, transform: .sqrt, metadata: pipeline.provenance)
    let calibration = ThresholdCalibration(holdout: 0.2, fpr: 0.01)
    let (threshold, scores) = try ImageBankPipeline.calibrate(
      features, images: normal.count, scorer: .knn, k: 1, coreset: 0.25, calibration: calibration, pooling: .max, transform: .sqrt)
    bank.setThreshold(threshold, calibration: calibration, scores: scores.count)
    let bankPath = outDir + "/demo-bank.safetensors"
    try BankFile.write(bank, to: bankPath, toolkitVersion: AnomalyKitCommand.version)

    let results = try pipeline.score(test, bank: bank)
    let heatmaps = outDir + "/heatmaps"
    try HeatmapWriter.prepare(folder: heatmaps)
    try HeatmapWriter.write(results, folder: heatmaps, threshold: threshold, limits: ImageLimits())

    print("AnomalyKit demo: patch bank of \(bank.count) features from \(normal.count) normal images (\(root)/normal)")
    print(String(format: "threshold %.4g (99th percentile of held-out normal scores)\n", threshold))
    print("score       verdict    image")
    for r in results {
      let verdict = (r.anomalous ?? false) ? "ANOMALOUS" : "normal"
      let padded = verdict.padding(toLength: 9, withPad: " ", startingAt: 0)
      print(String(format: "%-10.4g", r.score) + "  " + padded + "  " + (r.path as NSString).lastPathComponent)
    }
    print("\nbank:     \(bankPath)")
    print("heatmaps: \(heatmaps)/  (e.g. \(heatmaps)/defect_0.heatmap.png)")
  }
}
