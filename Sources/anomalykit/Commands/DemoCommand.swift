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
    let root = try examples ?? BundledWeights.demoFolder()
    let outDir = out ?? (NSTemporaryDirectory() + "anomalykit-demo-\(ProcessInfo.processInfo.processIdentifier)")
    try HeatmapWriter.prepare(folder: outDir)
    let normal = try InputFiles.images([root + "/normal"])
    let test = try InputFiles.images([root + "/test"])
    // The demo's 24 small normals: the patch recipe at the weights' own
    // 224 px, a 25% coreset and a 20% hold-out per calibration fold.
    var configuration = BankConfiguration.patchDefault
    configuration.inputSize = nil
    configuration.transform = .sqrt
    configuration.coreset = 0.25
    configuration.holdout = 0.2
    let model = try EfficientNetLite(path: try BundledWeights.path("efficientnet-lite0.safetensors"))
    let detector = try ImageAnomalyDetector.fit(
      normalPaths: normal, backbone: model, configuration: configuration, options: FitOptions(scratchFolder: outDir))
    let bank = detector.bank
    let threshold = bank.threshold ?? .nan
    let bankPath = outDir + "/demo-bank.safetensors"
    try detector.save(to: URL(fileURLWithPath: bankPath))

    let results = try detector.score(paths: test, keepMaps: true, progress: nil)
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
