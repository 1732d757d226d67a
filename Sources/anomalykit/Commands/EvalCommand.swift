import AnomalyKit
import ArgumentParser
import Density
import Foundation
import TensorFiles

/// `anomalykit eval --bank BANK --normal DIR... --anomalous DIR... [--json]`.
struct EvalCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval", abstract: "Measure a bank on labelled normal and anomalous images.",
    discussion: """
      Prints AUROC (ties count ½), average precision (sklearn's step-wise definition), F1 of the bank's \
      threshold (null without one) and the FPR at 95% TPR. Anomalies are the positive class.
      """)

  @Option(name: .long, help: "A bank written by 'anomalykit fit'.")
  var bank: String

  @Option(name: .long, parsing: .upToNextOption, help: "Normal images or folders.")
  var normal: [String] = []

  @Option(name: .long, parsing: .upToNextOption, help: "Anomalous images or folders.")
  var anomalous: [String] = []

  @Option(name: .customLong("normal-npy"), help: "Normal features as an N×D .npy (instead of --normal).")
  var normalNPY: String?

  @Option(name: .customLong("anomalous-npy"), help: "Anomalous features as an N×D .npy (instead of --anomalous).")
  var anomalousNPY: String?

  @Option(name: .customLong("scores-out"), help: "Also write path,label,score CSV here.")
  var scoresOut: String?

  @Flag(help: "Print JSON.")
  var json = false

  @OptionGroup var image: ImageOptions

  @OptionGroup var limits: LimitOptions

  func validate() throws {
    guard (normalNPY != nil) != !normal.isEmpty else { throw ValidationError("give --normal or --normal-npy (one of them)") }
    guard (anomalousNPY != nil) != !anomalous.isEmpty else { throw ValidationError("give --anomalous or --anomalous-npy (one of them)") }
    guard (normalNPY == nil) == (anomalousNPY == nil) else { throw ValidationError("use .npy inputs for both classes or for neither") }
  }

  func run() throws {
    let fromNPY = normalNPY != nil
    let loaded = try LoadedBank(path: bank, image: image, needsImages: !fromNPY)
    var normalScores: [ImageScore] = []
    var anomalousScores: [ImageScore] = []
    if let n = normalNPY, let a = anomalousNPY {
      if let out = scoresOut { try OutputPath.check(out, inputs: [n, a, bank]) }
      normalScores = try loaded.scoreRows(of: n)
      anomalousScores = try loaded.scoreRows(of: a)
    } else if let pipeline = loaded.pipeline {
      let normalPaths = try InputFiles.images(normal, maxFiles: image.maxFiles)
      let anomalousPaths = try InputFiles.images(anomalous, maxFiles: image.maxFiles)
      if let out = scoresOut { try OutputPath.check(out, inputs: normalPaths + anomalousPaths + [bank]) }
      let progress = Progress("eval", total: normalPaths.count + anomalousPaths.count)
      normalScores = try pipeline.score(normalPaths, bank: loaded.bank, keepMaps: false) { done, _ in progress.update(done) }
      anomalousScores = try pipeline.score(anomalousPaths, bank: loaded.bank, keepMaps: false) { done, _ in
        progress.update(normalPaths.count + done)
      }
    }
    let scores = normalScores.map(\.score) + anomalousScores.map(\.score)
    let labels = [Bool](repeating: false, count: normalScores.count) + [Bool](repeating: true, count: anomalousScores.count)
    let report = EvalReport(
      auroc: Metrics.auroc(scores: scores, labels: labels), ap: Metrics.averagePrecision(scores: scores, labels: labels),
      f1: loaded.bank.threshold.map { Metrics.f1(scores: scores, labels: labels, threshold: $0) },
      fprAt95: Metrics.fprAtTPR(scores: scores, labels: labels), normal: normalScores.count, anomalous: anomalousScores.count)
    if let out = scoresOut {
      var text = "path,label,score\n"
      for s in normalScores { text += "\(s.path),0,\(s.score)\n" }
      for s in anomalousScores { text += "\(s.path),1,\(s.score)\n" }
      try AtomicFile.write(Array(text.utf8), to: out)
    }
    print(json ? report.json : report.text)
  }
}

/// Detection metrics of one evaluation (stable JSON keys).
struct EvalReport {
  let auroc: Double?
  let ap: Double?
  let f1: Double?
  let fprAt95: Double?
  let normal: Int
  let anomalous: Int

  var json: String {
    func n(_ v: Double?) -> JSONValue { v.map { .number($0) } ?? .null }
    return JSONValue.object([
      ("auroc", n(auroc)), ("ap", n(ap)), ("f1", n(f1)), ("fpr_at_95_tpr", n(fprAt95)),
      ("n_normal", .number(Double(normal))), ("n_anomalous", .number(Double(anomalous))),
    ]).serialized
  }

  var text: String {
    func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "n/a" }
    return """
      AUROC          \(f(auroc))
      AP             \(f(ap))
      F1@threshold   \(f(f1))
      FPR@95%TPR     \(f(fprAt95))
      normal         \(normal)
      anomalous      \(anomalous)
      """
  }
}
