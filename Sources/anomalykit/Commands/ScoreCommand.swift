import AnomalyKit
import ArgumentParser
import Density
import FeatureExtraction
import Foundation
import TensorFiles

/// `anomalykit score --bank BANK IMAGES_OR_DIRS... [--json|--csv] [--heatmaps DIR]`, or
/// `anomalykit score --detector DETECTOR (TEXTS... | --text-file F | IMAGES_OR_DIRS...) [--json|--csv]`.
struct ScoreCommand: ReadLimitedCommand, ThreadedCommand {
  static let configuration = CommandConfiguration(
    commandName: "score", abstract: "Score images against a reference bank, or texts / images against a cold-start detector.",
    discussion: """
      Prints one row per input, in input order: the score (higher = more anomalous) and, when the bank \
      or detector has a threshold, the verdict. --json prints [{"path", "score", "anomalous"}] (for a \
      detector also "class", the nearest normal class; text inputs are reported under "text"); \
      anomalous is null without a threshold.
      """)

  @Option(name: .long, help: "A bank written by 'anomalykit fit'.")
  var bank: String?

  @Option(name: .long, help: "A cold-start detector written by 'anomalykit adapt'.")
  var detector: String?

  @Option(name: .customLong("text-file"), help: "Score each line of this file (text detectors).")
  var textFile: String?

  @Flag(name: .customLong("zero-shot"), help: "Score against the detector's original description prototypes, ignoring its adaptation.")
  var zeroShot = false

  @Argument(help: "Images or folders of images; texts for a text detector.")
  var inputs: [String] = []

  @Flag(help: "Print a JSON array.")
  var json = false

  @Flag(help: "Print CSV (path,score,anomalous).")
  var csv = false

  @Option(name: .long, help: "Write a heatmap PNG per image into this folder (patch banks).")
  var heatmaps: String?

  @Option(name: .customLong("maps-out"), help: "Write the per-location score grids of a patch bank as an N×(H·W) .npy (row-major grid).")
  var mapsOut: String?

  @Option(name: .customLong("masks-out"), help: "Write a binary defect mask per image into this folder (<name>.mask.png, 255 = defect, at the image's size): the dense anomaly map above the bank's pixel threshold (fit --pixel-fpr; patch banks fitted with --resize stretch and --holdout).")
  var masksOut: String?

  @Option(name: .customLong("from-npy"), help: "Score the rows of an N×D .npy instead of images.")
  var fromNPY: String?

  @Option(name: .customLong("features-out"), help: "Instead of scores, write the inputs' features as this bank's recipe extracts them (a .safetensors feature file), for several shards to answer with --from-features: the features are extracted once, not once per shard.")
  var featuresOut: String?

  @Option(name: .customLong("from-features"), help: "With --neighbours-out: answer for the inputs of a feature file written by --features-out (whose recipe must be this bank's) instead of extracting images.")
  var fromFeatures: String?

  @Option(name: .customLong("neighbours-out"), help: "Instead of scores, write each input's (each location's, for patch banks) k nearest bank rows: distances to this .npy (float32 Q×k), global row ids to NAME.rows.npy (int64) and what answered to NAME.json. Merge one file per shard with 'anomalykit merge-scores' (knn and cosine-knn banks).")
  var neighboursOut: String?

  @OptionGroup var image: ImageOptions
  @OptionGroup var text: TextOptions

  @OptionGroup var limits: LimitOptions
  @OptionGroup var threading: ThreadOptions
  @OptionGroup var inputList: InputListOptions

  func validate() throws {
    guard !(json && csv) else { throw ValidationError("--json and --csv are exclusive") }
    guard (bank == nil) != (detector == nil) else { throw ValidationError("give exactly one of --bank or --detector") }
    if detector != nil {
      guard textFile != nil || !inputs.isEmpty else { throw ValidationError("give texts, --text-file, or images") }
      guard inputList.inputsFrom == nil else { throw ValidationError("--inputs-from needs --bank (a detector reads texts with --text-file)") }
      guard heatmaps == nil, mapsOut == nil, masksOut == nil, fromNPY == nil else {
        throw ValidationError("--heatmaps, --maps-out, --masks-out and --from-npy need --bank")
      }
    } else {
      guard fromNPY != nil || fromFeatures != nil || !inputs.isEmpty || inputList.inputsFrom != nil else {
        throw ValidationError("give images or folders, --inputs-from, or --from-npy")
      }
      guard masksOut == nil || fromNPY == nil else { throw ValidationError("--masks-out needs images, not --from-npy") }
      guard textFile == nil, !zeroShot else { throw ValidationError("--text-file and --zero-shot need --detector") }
    }
    if let featuresOut {
      guard detector == nil, neighboursOut == nil, fromNPY == nil, fromFeatures == nil else {
        throw ValidationError("--features-out needs --bank and images; it excludes --neighbours-out, --from-npy and --from-features")
      }
      guard featuresOut.hasSuffix(".safetensors") else { throw ValidationError("--features-out must end in .safetensors") }
      guard heatmaps == nil, mapsOut == nil, masksOut == nil, !json, !csv else {
        throw ValidationError("--features-out writes features, not scores: it excludes --heatmaps, --maps-out, --masks-out, --json and --csv")
      }
    }
    if fromFeatures != nil {
      guard neighboursOut != nil, fromNPY == nil, inputs.isEmpty, inputList.inputsFrom == nil else {
        throw ValidationError("--from-features needs --neighbours-out, and no images, --inputs-from or --from-npy (the feature file names its inputs)")
      }
    }
    if let neighboursOut {
      guard detector == nil else { throw ValidationError("--neighbours-out needs --bank") }
      guard neighboursOut.hasSuffix(".npy") else { throw ValidationError("--neighbours-out must end in .npy") }
      guard heatmaps == nil, mapsOut == nil, masksOut == nil, !json, !csv else {
        throw ValidationError("--neighbours-out writes neighbours, not scores: it excludes --heatmaps, --maps-out, --masks-out, --json and --csv")
      }
    }
  }

  func run() throws {
    if let detector {
      return try DetectorScoring(path: detector, inputs: inputs, textFile: textFile, zeroShot: zeroShot, image: image, text: text)
        .run(json: json, csv: csv)
    }
    guard let bank else { return }
    if let fromFeatures, let neighboursOut {
      let features = try ShardFeatures.read(path: fromFeatures)
      try OutputPath.check(neighboursOut, inputs: [fromFeatures, bank])
      let answer = try features.answer(bank: try BankFile.read(path: bank), bankPath: bank, featuresPath: fromFeatures)
      try answer.write(to: neighboursOut)
      warn("wrote \(neighboursOut): \(answer.neighbours.queries) × k = \(answer.neighbours.k) neighbours from shard \(answer.shard.index) of \(answer.shard.count)")
      return
    }
    let loaded = try LoadedBank(path: bank, image: image, needsImages: fromNPY == nil)
    if let featuresOut {
      let paths = try InputFiles.images(try inputList.inputs(inputs), maxFiles: image.maxFiles)
      try OutputPath.check(featuresOut, inputs: paths + [bank])
      let progress = Progress("score: features", total: paths.count)
      let features = try ShardFeatures(paths: paths, detector: loaded.detector) { done, _ in progress.update(done) }
      try features.write(to: featuresOut)
      warn("wrote \(featuresOut): \(features.features.rows)×\(features.features.columns) features of \(paths.count) inputs")
      return
    }
    if let neighboursOut { return try writeNeighbours(loaded, to: neighboursOut) }
    var results: [ImageScore] = []
    if let npy = fromNPY {
      results = try loaded.scoreRows(of: npy)
    } else if let pipeline = loaded.pipeline {
      let paths = try InputFiles.images(try inputList.inputs(inputs), maxFiles: image.maxFiles)
      if let mapsOut { try OutputPath.check(mapsOut, inputs: paths + [bank]) }
      if let dir = heatmaps {
        guard pipeline.recipe.isPatchBank else {
          throw CLIError("\(bank): --heatmaps needs a patch bank (fit with --patches); image banks have one score per image")
        }
        try HeatmapWriter.prepare(folder: dir, images: paths)
      }
      let masks = try masksOut.map { try DefectMaskWriter(bank: loaded, folder: $0, images: paths, limits: image.limits) }
      let progress = Progress("score", total: paths.count)
      results = try loaded.detector.score(paths: paths, keepMaps: heatmaps != nil || mapsOut != nil || masks != nil) { done, _ in
        progress.update(done)
      }
      if let masks { try masks.write(results) }
      if let mapsOut {
        guard let first = results.first, first.map != nil else {
          throw CLIError("\(bank): --maps-out needs a patch bank (fit with --patches)")
        }
        try NPYFile.write(rows: results.count, columns: first.gridHeight * first.gridWidth, values: results.flatMap { $0.map ?? [] }, to: mapsOut)
      }
      if let dir = heatmaps {
        let written = try HeatmapWriter.write(results, folder: dir, threshold: loaded.bank.threshold, limits: image.limits)
        warn("wrote \(written) heatmaps to \(dir)")
      }
    }
    ScoreOutput.print(results, json: json, csv: csv)
  }
}

extension ScoreCommand {
  /// `--neighbours-out`: this bank's (shard's) k nearest rows of every
  /// input, for `merge-scores`.
  func writeNeighbours(_ loaded: LoadedBank, to out: String) throws {
    let bank = loaded.bank
    if let refusal = bank.scorer.shardingRefusal { throw CLIError("\(loaded.path): \(refusal)") }
    let result: NeighbourFile
    if let npy = fromNPY {
      try OutputPath.check(out, inputs: [npy, loaded.path])
      let features = try readFeatureMatrix(npy)
      result = NeighbourFile(
        bank: loaded.path, shard: try NeighbourFile.shardIdentity(of: bank, path: loaded.path), scorer: bank.scorer,
        inputs: (0..<features.rows).map { "\(npy)#\($0)" }, rowsPerInput: 1,
        neighbours: try bank.neighbours(features, source: npy))
    } else {
      let paths = try InputFiles.images(try inputList.inputs(inputs), maxFiles: image.maxFiles)
      try OutputPath.check(out, inputs: paths + [loaded.path])
      let progress = Progress("score: neighbours", total: paths.count)
      result = try NeighbourFile(paths: paths, bank: loaded.path, detector: loaded.detector) { done, _ in progress.update(done) }
    }
    try result.write(to: out)
    warn("wrote \(out): \(result.neighbours.queries) × k = \(result.neighbours.k) neighbours from shard \(result.shard.index) of \(result.shard.count)")
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
