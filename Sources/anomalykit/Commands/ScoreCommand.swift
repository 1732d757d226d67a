import AnomalyKit
import ArgumentParser
import Density
import FeatureExtraction
import Foundation
import TensorFiles

/// `anomalykit score --bank BANK IMAGES_OR_DIRS... [--json|--csv] [--heatmaps DIR]`.
struct ScoreCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "score", abstract: "Score images against a reference bank.",
    discussion: """
      Prints one row per image, in input order: the score (higher = more anomalous) and, when the bank \
      has a calibrated threshold, the verdict. --json prints [{"path", "score", "anomalous"}]; anomalous \
      is null without a threshold.
      """)

  @Option(name: .long, help: "A bank written by 'anomalykit fit'.")
  var bank: String

  @Argument(help: "Images or folders of images.")
  var inputs: [String] = []

  @Flag(help: "Print a JSON array.")
  var json = false

  @Flag(help: "Print CSV (path,score,anomalous).")
  var csv = false

  @Option(name: .long, help: "Write a heatmap PNG per image into this folder (patch banks).")
  var heatmaps: String?

  @Option(name: .customLong("maps-out"), help: "Write the per-location score grids of a patch bank as an N×(H·W) .npy (row-major grid).")
  var mapsOut: String?

  @Option(name: .customLong("from-npy"), help: "Score the rows of an N×D .npy instead of images.")
  var fromNPY: String?

  @OptionGroup var image: ImageOptions

  func validate() throws {
    guard !(json && csv) else { throw ValidationError("--json and --csv are exclusive") }
    guard fromNPY != nil || !inputs.isEmpty else { throw ValidationError("give images or folders, or --from-npy") }
  }

  func run() throws {
    let loaded = try LoadedBank(path: bank, image: image, needsImages: fromNPY == nil)
    var results: [ImageScore] = []
    if let npy = fromNPY {
      results = try loaded.scoreRows(of: npy)
    } else if let pipeline = loaded.pipeline {
      let paths = try InputFiles.images(inputs, maxFiles: image.maxFiles)
      if let dir = heatmaps {
        guard pipeline.recipe.isPatchBank else {
          throw CLIError("\(bank): --heatmaps needs a patch bank (fit with --patches); image banks have one score per image")
        }
        try HeatmapWriter.prepare(folder: dir)
      }
      let progress = Progress("score", total: paths.count)
      results = try pipeline.score(paths, bank: loaded.bank) { done, _ in progress.update(done) }
      if let mapsOut {
        guard let first = results.first, first.map != nil else {
          throw CLIError("\(bank): --maps-out needs a patch bank (fit with --patches)")
        }
        try NPYFile.write(rows: results.count, columns: first.gridHeight * first.gridWidth, values: results.flatMap { $0.map ?? [] }, to: mapsOut)
      }
      if let dir = heatmaps {
        let written = try HeatmapWriter.write(results, folder: dir, threshold: loaded.bank.threshold, limits: ImageLimits(maxPixels: image.maxPixels))
        warn("wrote \(written) heatmaps to \(dir)")
      }
    }
    ScoreOutput.print(results, json: json, csv: csv)
  }
}

/// The three output formats of `score` (stable: scripts parse them).
enum ScoreOutput {
  static func print(_ results: [ImageScore], json: Bool, csv: Bool) {
    func verdict(_ a: Bool?) -> String { a.map { $0 ? "true" : "false" } ?? "null" }
    if json {
      let doc = JSONValue.array(
        results.map {
          .object([
            ("path", .string($0.path)), ("score", .number(Double($0.score))),
            ("anomalous", $0.anomalous.map { .bool($0) } ?? .null),
          ])
        })
      Swift.print(doc.serialized)
    } else if csv {
      Swift.print("path,score,anomalous")
      for r in results {
        let quoted = r.path.contains(",") || r.path.contains("\"") ? "\"" + r.path.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : r.path
        Swift.print("\(quoted),\(r.score),\(verdict(r.anomalous))")
      }
    } else {
      for r in results {
        let verdict = (r.anomalous.map { $0 ? "ANOMALOUS" : "normal" } ?? "-").padding(toLength: 9, withPad: " ", startingAt: 0)
        Swift.print(String(format: "%12.6g", r.score) + "  " + verdict + "  " + r.path)
      }
    }
  }
}
