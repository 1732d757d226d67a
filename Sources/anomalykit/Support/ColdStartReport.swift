import AnomalyKit
import Density
import FeatureExtraction
import Foundation
import TensorFiles

/// `coldstart eval` over one or more datasets: a row per dataset, then the
/// mean over datasets with its 95% interval and the worst dataset
/// (`SpreadAcrossDatasets`), as a table, JSON, CSV curves or a plot.
struct ColdStartReport {
  struct Dataset {
    let name: String
    let path: String
    let prototypes: Int
    let streamNormals: Int
    let runs: ColdStartRuns
  }

  let datasets: [Dataset]
  let methods: [ColdStartMethod]
  let settings: ColdStartConfiguration
  let contamination: Double
  let seeds: [UInt64]
  let guidance: String

  /// The summary values shown per method: AUC@10%, AUC@100% and the final AUROC.
  static let columns: [(key: String, title: String, index: Int)] = [("auc@10", "AUC@10%", 0), ("auc@100", "AUC@100%", 3), ("final", "final", 4)]

  /// Folder names, or the whole paths where two folders share a name.
  static func displayNames(_ paths: [String]) -> [String] {
    let names = paths.map { (($0 as NSString).standardizingPath as NSString).lastPathComponent }
    return Set(names).count == names.count ? names : paths
  }

  /// Every summary value (AUC@10/25/50/100 then final) of `m`, mean over seeds, per dataset.
  func values(_ m: ColdStartMethod, index: Int) -> [(dataset: String, value: Double)] {
    datasets.map { ($0.name, $0.runs.statistics(m).mean[index]) }
  }

  var heading: String {
    let seedRange = "\(seeds.first ?? 0)…\(seeds.last ?? 0)"
    return "cold start: \(datasets.count) dataset(s), guidance \(guidance), contamination \(contamination), metric \(settings.metric.rawValue), "
      + "trim \(settings.trim), κ \(settings.kappa), seeds \(seedRange)"
  }

  func table() -> String {
    let nameWidth = max(12, (datasets.map(\.name.count).max() ?? 0) + 2)
    let cell = 12
    func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count + 1), withPad: " ", startingAt: 0) }
    var lines = [heading, ""]
    lines.append(pad("", nameWidth) + methods.map { pad($0.rawValue, cell * Self.columns.count) }.joined())
    lines.append(pad("dataset", nameWidth) + methods.map { _ in Self.columns.map { pad($0.title, cell) }.joined() }.joined())
    for d in datasets {
      let cells = methods.flatMap { m in
        let (mean, std) = d.runs.statistics(m)
        return Self.columns.map { c in
          seeds.count > 1 ? String(format: "%.1f±%.1f", 100 * mean[c.index], 100 * std[c.index]) : String(format: "%.1f", 100 * mean[c.index])
        }
      }
      lines.append(pad(d.name, nameWidth) + cells.map { pad($0, cell) }.joined())
    }
    guard datasets.count > 1 else { return lines.joined(separator: "\n") }
    let spreads = methods.map { m in Self.columns.map { SpreadAcrossDatasets(values(m, index: $0.index)) } }
    lines.append(
      pad("mean ± 95% CI", nameWidth)
        + spreads.flatMap { $0 }.map { pad($0.map { String(format: "%.1f±%.1f", 100 * $0.mean, 100 * $0.halfWidth) } ?? "-", cell) }.joined())
    lines.append(pad("worst", nameWidth) + spreads.flatMap { $0 }.map { pad($0.map { String(format: "%.1f", 100 * $0.worst) } ?? "-", cell) }.joined())
    lines.append("")
    lines.append("worst dataset per column:")
    for (m, row) in zip(methods, spreads) {
      let parts = zip(Self.columns, row).map { c, s in "\(c.title) \(s?.worstDataset ?? "-")" }
      lines.append("  " + pad(m.rawValue, 12) + parts.joined(separator: ", "))
    }
    return lines.joined(separator: "\n")
  }

  func json() -> JSONValue {
    let configuration = JSONValue.object([
      ("metric", .string(settings.metric.rawValue)), ("trim", .number(settings.trim)), ("kappa", .number(Double(settings.kappa))),
      ("contamination", .number(contamination)), ("guidance", .string(guidance)),
    ])
    let perDataset = JSONValue.array(
      datasets.map { d in
        guard case .object(let fields) = d.runs.json(methods: methods) else { return .null }
        return .object(
          [("dataset", .string(d.name)), ("path", .string(d.path)), ("prototypes", .number(Double(d.prototypes))),
           ("stream_normals", .number(Double(d.streamNormals)))] + fields)
      })
    let keys = StreamCurveSummary.keys + ["final"]
    let summary = JSONValue.object(
      methods.map { m in
        (m.rawValue, .object(keys.enumerated().compactMap { index, key in
          SpreadAcrossDatasets(values(m, index: index)).map { s in
            (key, .object([
              ("mean", .number(s.mean)), ("ci95", s.halfWidth.isFinite ? .number(s.halfWidth) : .null), ("worst", .number(s.worst)),
              ("worst_dataset", .string(s.worstDataset)),
            ]))
          }
        }))
      })
    return .object([
      ("configuration", configuration), ("seeds", .array(seeds.map { .number(Double($0)) })), ("datasets", perDataset),
      ("summary", summary),
    ])
  }

  /// `dataset,step,<method>…` rows: the AUROC after each step, averaged over seeds.
  func writeMeanCurves(to path: String) throws {
    var text = "dataset,step," + methods.map(\.rawValue).joined(separator: ",") + "\n"
    for d in datasets {
      let means = methods.map(d.runs.meanCurve)
      let quoted = d.name.contains(",") || d.name.contains("\"") ? "\"" + d.name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : d.name
      for t in 0..<(means.first?.count ?? 0) {
        text += "\(quoted),\(t + 1)," + means.map { String(format: "%.6f", $0[t]) }.joined(separator: ",") + "\n"
      }
    }
    try AtomicFile.write(Array(text.utf8), to: path)
  }

  /// One panel per dataset: each method's mean AUROC after every step.
  func plot() -> RGBImage {
    let panels = datasets.map { d in
      LinePlot(
        series: methods.map { LinePlot.Series(label: $0.rawValue, values: d.runs.meanCurve($0)) }, xLabel: "stream step", yLabel: "auroc",
        title: "\(d.name): contamination \(contamination), \(seeds.count) seed(s)")
    }
    if panels.count == 1, let only = panels.first { return only.render() }
    return SmallMultiples.render(panels, columns: 3)
  }
}
