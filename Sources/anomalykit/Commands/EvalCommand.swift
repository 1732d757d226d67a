import AnomalyKit
import ArgumentParser
import Density
import Foundation
import TensorFiles

/// `anomalykit eval --bank BANK --normal DIR... --anomalous DIR... [--masks DIR...] [--json]`, or
/// `anomalykit eval --mvtec DIR [--shots N [--draws 5]] [recipe options] [--json]`.
struct EvalCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval", abstract: "Measure a bank on labelled normal and anomalous images, or fit and measure on an MVTec AD folder.",
    discussion: """
      Prints AUROC (ties count ½), average precision (sklearn's step-wise definition), F1 of the bank's \
      threshold (null without one) and the FPR at 95% TPR. Anomalies are the positive class. With --masks \
      (or --mvtec and its ground_truth/), also pixel AUROC and AUPRO (per-region overlap up to 30% FPR, \
      normalised, as the MVTec AD paper and anomalib), on dense maps: the patch scores resized to each \
      image and smoothed by a Gaussian of σ = 4 at input resolution (PatchCore). --mvtec fits a patch bank \
      on train/good (default recipe: stages 3 5, --resize stretch, greedy 1% coreset, k = 1) and tests on \
      test/*; --shots N fits on N random train/good images instead, --draws times, and reports the mean.
      """)

  @Option(name: .long, help: "A bank written by 'anomalykit fit'.")
  var bank: String?

  @Option(name: .long, parsing: .upToNextOption, help: "Normal images or folders.")
  var normal: [String] = []

  @Option(name: .long, parsing: .upToNextOption, help: "Anomalous images or folders.")
  var anomalous: [String] = []

  @Option(name: .customLong("normal-npy"), help: "Normal features as an N×D .npy (instead of --normal).")
  var normalNPY: String?

  @Option(name: .customLong("anomalous-npy"), help: "Anomalous features as an N×D .npy (instead of --anomalous).")
  var anomalousNPY: String?

  @Option(name: .long, parsing: .upToNextOption, help: "Ground-truth mask folders (NAME_mask.png or NAME.png, directly or under the defect type's folder): adds pixel AUROC and AUPRO. Needs a patch bank whose maps cover the image (--resize stretch).")
  var masks: [String] = []

  @Option(name: .long, help: "An MVTec AD-style folder (train/good, test/good, test/<type>, optional ground_truth/<type>): fit on train/good, evaluate on test/.")
  var mvtec: String?

  @Option(name: .long, help: "With --mvtec: fit on this many random train/good images (few-shot).")
  var shots: Int?

  @Option(name: .long, help: "With --shots: how many random draws of the shots (seeds 0, 1, …).")
  var draws: Int = 5

  @Flag(name: .customLong("augment-dihedral"), help: "With --mvtec: also fit on each training image's 7 other rotations by 90° and mirror images (the dihedral group), as AnomalyDINO augments its few shots.")
  var augmentDihedral = false

  @Option(name: .long, parsing: .upToNextOption, help: "With --mvtec: stages of the patch features (default 3 5).")
  var stage: [Int] = []

  @Option(name: .long, help: "With --mvtec: coreset fraction (default 0.01).")
  var coreset: Double?

  @Option(name: .customLong("coreset-method"), help: "With --mvtec: greedy (default) or random.")
  var coresetMethod: String?

  @Option(name: .customLong("coreset-projection"), help: "With --mvtec: the greedy coreset's projection width (default 128).")
  var coresetProjection: Int?

  @Option(name: .long, help: "With --mvtec: feature transform, none (default for patch banks here) or sqrt.")
  var transform: String?

  @Option(name: .long, help: "With --mvtec: neighbours of the kNN (default 1).")
  var k: Int?

  @Option(name: .long, help: "With --mvtec: patch pooling into the image score (max, mean or topQ; default max).")
  var pooling: String?

  @Option(name: .customLong("bank-out"), help: "With --mvtec (no --shots): keep the fitted bank here.")
  var bankOut: String?

  @Option(name: .customLong("scores-out"), help: "Also write path,label,score CSV here.")
  var scoresOut: String?

  @Flag(help: "Print JSON.")
  var json = false

  @OptionGroup var image: ImageOptions

  @OptionGroup var limits: LimitOptions

  func validate() throws {
    if mvtec != nil {
      guard bank == nil, normal.isEmpty, anomalous.isEmpty, normalNPY == nil, anomalousNPY == nil, masks.isEmpty else {
        throw ValidationError("--mvtec fits its own bank from train/ and reads test/ and ground_truth/: drop --bank, --normal, --anomalous, --*-npy and --masks")
      }
      if let shots, shots < 1 { throw ValidationError("--shots must be at least 1") }
      guard draws >= 1 else { throw ValidationError("--draws must be at least 1") }
      if shots != nil && bankOut != nil { throw ValidationError("--bank-out keeps one bank; --shots fits one per draw") }
      return
    }
    guard bank != nil else { throw ValidationError("give --bank (or --mvtec DIR)") }
    if shots != nil || bankOut != nil || augmentDihedral || !stage.isEmpty || coreset != nil || coresetMethod != nil || coresetProjection != nil || transform != nil || k != nil || pooling != nil {
      throw ValidationError("--shots, --bank-out, --augment-dihedral and the recipe options (--stage, --coreset, …) go with --mvtec")
    }
    guard (normalNPY != nil) != !normal.isEmpty else { throw ValidationError("give --normal or --normal-npy (one of them)") }
    guard (anomalousNPY != nil) != !anomalous.isEmpty else { throw ValidationError("give --anomalous or --anomalous-npy (one of them)") }
    guard (normalNPY == nil) == (anomalousNPY == nil) else { throw ValidationError("use .npy inputs for both classes or for neither") }
    if !masks.isEmpty && normalNPY != nil { throw ValidationError("--masks needs images, not .npy features") }
  }

  func run() throws {
    if let mvtec { return try runMVTec(mvtec) }
    guard let bank else { return }
    let fromNPY = normalNPY != nil
    let loaded = try LoadedBank(path: bank, image: image, needsImages: !fromNPY)
    var normalScores: [ImageScore] = []
    var anomalousScores: [ImageScore] = []
    var pixel: PixelEvaluation.Result?
    if let n = normalNPY, let a = anomalousNPY {
      if let out = scoresOut { try OutputPath.check(out, inputs: [n, a, bank]) }
      normalScores = try loaded.scoreRows(of: n)
      anomalousScores = try loaded.scoreRows(of: a)
    } else if let pipeline = loaded.pipeline {
      let normalPaths = try InputFiles.images(normal, maxFiles: image.maxFiles)
      let anomalousPaths = try InputFiles.images(anomalous, maxFiles: image.maxFiles)
      if let out = scoresOut { try OutputPath.check(out, inputs: normalPaths + anomalousPaths + [bank]) }
      let evaluation = try masks.isEmpty ? nil : pixelEvaluation(loaded, masks: masks)
      (normalScores, anomalousScores) = try score(pipeline, bank: loaded.bank, normal: normalPaths, anomalous: anomalousPaths, maps: evaluation != nil)
      pixel = try evaluation?.evaluate(normal: normalScores, anomalous: anomalousScores)
    }
    try writeScores(normalScores, anomalousScores)
    let report = EvalReport(normal: normalScores, anomalous: anomalousScores, threshold: loaded.bank.threshold, pixel: pixel)
    print(json ? report.json.serialized : report.text)
  }

  func score(
    _ pipeline: ImageBankPipeline, bank: ReferenceBank, normal: [String], anomalous: [String], maps: Bool, label: String = "eval"
  ) throws -> ([ImageScore], [ImageScore]) {
    let progress = Progress(label, total: normal.count + anomalous.count)
    let n = try pipeline.score(normal, bank: bank, keepMaps: maps) { done, _ in progress.update(done) }
    let a = try pipeline.score(anomalous, bank: bank, keepMaps: maps) { done, _ in progress.update(normal.count + done) }
    return (n, a)
  }

  private func pixelEvaluation(_ loaded: LoadedBank, masks: [String]) throws -> PixelEvaluation {
    PixelEvaluation(
      masks: GroundTruthMasks(folders: masks), inputSize: try loaded.denseMapInputSize(for: "pixel metrics"), limits: image.limits)
  }

  func writeScores(_ normal: [ImageScore], _ anomalous: [ImageScore]) throws {
    guard let out = scoresOut else { return }
    var text = "path,label,score\n"
    for s in normal { text += "\(s.path),0,\(s.score)\n" }
    for s in anomalous { text += "\(s.path),1,\(s.score)\n" }
    try AtomicFile.write(Array(text.utf8), to: out)
  }
}
