import AnomalyKit
import Density
import TensorFiles

/// Detection (and, with masks, segmentation) metrics of one evaluation
/// (stable JSON keys; `pixel_auroc` and `aupro` are null without masks).
struct EvalReport {
  let auroc: Double?
  let ap: Double?
  let f1: Double?
  let fprAt95: Double?
  let normal: Int
  let anomalous: Int
  let pixelAUROC: Double?
  let aupro: Double?

  init(normal: [ImageScore], anomalous: [ImageScore], threshold: Float?, pixel: PixelEvaluation.Result?) {
    let scores = normal.map(\.score) + anomalous.map(\.score)
    let labels = [Bool](repeating: false, count: normal.count) + [Bool](repeating: true, count: anomalous.count)
    auroc = Metrics.auroc(scores: scores, labels: labels)
    ap = Metrics.averagePrecision(scores: scores, labels: labels)
    f1 = threshold.map { Metrics.f1(scores: scores, labels: labels, threshold: $0) }
    fprAt95 = Metrics.fprAtTPR(scores: scores, labels: labels)
    self.normal = normal.count
    self.anomalous = anomalous.count
    pixelAUROC = pixel?.pixelAUROC
    aupro = pixel?.aupro
  }

  static func number(_ v: Double?) -> JSONValue { v.map { .number($0) } ?? .null }

  var members: [(String, JSONValue)] {
    [
      ("auroc", Self.number(auroc)), ("ap", Self.number(ap)), ("f1", Self.number(f1)), ("fpr_at_95_tpr", Self.number(fprAt95)),
      ("n_normal", .number(Double(normal))), ("n_anomalous", .number(Double(anomalous))),
      ("pixel_auroc", Self.number(pixelAUROC)), ("aupro", Self.number(aupro)),
    ]
  }

  var json: JSONValue { .object(members) }

  var text: String {
    func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "n/a" }
    var lines = """
      AUROC          \(f(auroc))
      AP             \(f(ap))
      F1@threshold   \(f(f1))
      FPR@95%TPR     \(f(fprAt95))
      normal         \(normal)
      anomalous      \(anomalous)
      """
    if pixelAUROC != nil || aupro != nil {
      lines += "\npixel AUROC    \(f(pixelAUROC))\nAUPRO@30%FPR   \(f(aupro))"
    }
    return lines
  }
}
