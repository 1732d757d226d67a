import AnomalyKit
import ArgumentParser
import Density
import FeatureExtraction
import Foundation
import ParallelCompute
import TensorFiles

/// `anomalykit coldstart eval DATASET_DIR …`: the cold-start evaluation suite.
struct ColdStartCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "coldstart", abstract: "Cold-start anomaly detection: evaluation suite.",
    subcommands: [ColdStartEvalCommand.self])
}

extension ColdStartMethod: ExpressibleByArgument {}

/// The two kinds of cold-start detector, each with its own defaults.
enum DetectorKind: String, ExpressibleByArgument, CaseIterable {
  case text, image
}

/// Runs the ColdFusion paper's protocol on one or more dataset folders.
struct ColdStartEvalCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval", abstract: "Run the cold-start protocol (ColdFusion's) on one or more dataset folders.",
    discussion: """
      Each DATASET_DIR holds train/seq.in, test/seq.in, id-oos/valid/seq.in, id-oos/test/seq.in and the \
      zero-shot guidance (descriptions.json by default; --descriptions-file names.json for class names \
      alone): the layout of the official banking77-oos split. The stream is every train query plus \
      round(c·N) anomalies drawn from id-oos/valid, shuffled; after each step every method's AUROC is \
      measured on test (normal) versus id-oos/test (anomalous). Prints one row per dataset with each \
      method's AUC@10% and AUC@100% (the mean AUROC over that share of the steps) and final AUROC, as \
      means over the seeds; below them the mean over datasets with its 95% interval, and the worst \
      dataset. The metric, trim and κ default to the text detector's defaults (ColdStartConfiguration.text).
      """)

  @Argument(help: "Dataset folders (texts in the official layout; with --from-npy, .npy features).")
  var datasets: [String] = []

  @Flag(name: .customLong("from-npy"), help: "DATASET_DIR holds features instead of texts: prototypes.npy, stream-normal.npy, anomaly-pool.npy, test-normal.npy, test-anomaly.npy (N×D float32/float64), e.g. image features from 'anomalykit embed' and classifier rows.")
  var fromNPY = false

  @Option(name: .customLong("descriptions-file"), help: "The guidance file inside each dataset folder: descriptions.json (one example query per class; default) or names.json (class names alone).")
  var descriptionsFile = "descriptions.json"

  @Option(help: "Anomalies added to the stream, as a fraction of the normal observations.")
  var contamination: Double = 0.05

  @Option(help: "Fraction q of observations kept by trimming (closest to the descriptions). Default: the text detector's, 0.95.")
  var trim: Double?

  @Option(help: "The description's prior weight κ of the predictive rule. Default: the text detector's, 1.5.")
  var kappa: Float?

  @Option(help: "First seed of the stream order.")
  var seed: UInt64 = 0

  @Option(help: "Number of seeds (seed … seed+N−1); means and standard deviations are reported.")
  var seeds: Int = 1

  @Option(help: "zs, dn2, coldfusion, predictive, fused, a comma-separated list, or all.")
  var method: String = "all"

  @Option(help: "Distance: l2 (squared L2 on raw embeddings, the official code) or cosine. Default: the text detector's, cosine.")
  var metric: PrototypeMetric?

  @Option(help: "Whose defaults --metric, --trim and --kappa take when not given: text (ColdStartConfiguration.text) or image (.image, for image features with --from-npy).")
  var defaults: DetectorKind = .text

  @Flag(help: "Print JSON.")
  var json = false

  @Option(help: "Draw the mean AUROC-versus-step curves to this PNG (one panel per dataset).")
  var plot: String?

  @Option(name: .customLong("curves"), help: "Write the mean AUROC after every step, one row per dataset and step, one column per method, as CSV.")
  var curvesOut: String?

  @Option(help: "Embedding cache: a .safetensors file (one dataset) or a folder (one file per dataset and guidance file). Reused when it holds these texts embedded with these weights, written otherwise.")
  var cache: String?

  @OptionGroup var text: TextOptions

  @OptionGroup var arithmetic: PrecisionOptions

  @OptionGroup var limits: LimitOptions

  func validate() throws {
    guard !datasets.isEmpty else { throw ValidationError("give one or more dataset folders") }
    guard seeds >= 1, seeds <= 1000 else { throw ValidationError("--seeds must be in 1…1000") }
    guard contamination >= 0, contamination <= 1 else { throw ValidationError("--contamination must be in [0, 1]") }
    if let trim, !(trim > 0 && trim <= 1) { throw ValidationError("--trim must be in (0, 1]") }
    if let kappa, !(kappa > 0 && kappa.isFinite) { throw ValidationError("--kappa must be positive") }
    if let cache, cache.hasSuffix(".safetensors"), datasets.count > 1 {
      throw ValidationError("--cache FILE.safetensors holds one dataset; give a folder for \(datasets.count) datasets")
    }
    _ = try methods()
  }

  func methods() throws -> [ColdStartMethod] {
    if method == "all" { return ColdStartMethod.allCases }
    return try method.split(separator: ",").map { name in
      guard let m = ColdStartMethod(rawValue: String(name)) else {
        throw ValidationError("unknown --method '\(name)'; use \(ColdStartMethod.allCases.map(\.rawValue).joined(separator: ", ")) or all")
      }
      return m
    }
  }

  /// The settings evaluated: the text (or image) detector's defaults, with the options given.
  var settings: ColdStartConfiguration {
    (defaults == .text ? ColdStartConfiguration.text : ColdStartConfiguration.image).overriding(metric: metric, trim: trim, kappa: kappa)
  }

  func run() throws {
    let methods = try methods()
    if let curvesOut { try OutputPath.check(curvesOut) }
    if let plot { try OutputPath.check(plot) }
    let settings = self.settings
    let seedList = (0..<seeds).map { seed &+ UInt64($0) }
    let names = ColdStartReport.displayNames(datasets)
    var results: [ColdStartReport.Dataset] = []
    // One encoder for every dataset (it is also the cache key's weights).
    let embedder = fromNPY ? nil : try text.embedder(precision: arithmetic.precision)
    for (path, name) in zip(datasets, names) {
      let start = Date()
      let (parts, summary) = try embedder.map { try textParts(path, name: name, embedder: $0) } ?? npyParts(path)
      let embedSeconds = Date().timeIntervalSince(start)
      let evaluation = try ColdStartEvaluation(
        prototypes: parts[0], streamNormals: parts[1], anomalyPool: parts[2], testNormals: parts[3], testAnomalies: parts[4],
        metric: settings.metric, trim: settings.trim, kappa: settings.kappa, methods: methods)
      let protocolStart = Date()
      let runs = try ColdStartRuns.run(evaluation, contamination: contamination, seeds: seedList)
      warn(String(format: "%@: %@ in %.1f s; %d seed(s) of the protocol in %.1f s", name, summary, embedSeconds, seeds, Date().timeIntervalSince(protocolStart)))
      results.append(ColdStartReport.Dataset(name: name, path: path, prototypes: parts[0].rows, streamNormals: parts[1].rows, runs: runs))
    }
    let report = ColdStartReport(
      datasets: results, methods: methods, settings: settings, contamination: contamination, seeds: seedList,
      guidance: fromNPY ? "prototypes.npy" : descriptionsFile)
    if let curvesOut { try report.writeMeanCurves(to: curvesOut) }
    if let plot { try ImageEncoder.writePNG(report.plot(), to: plot) }
    print(json ? report.json().serialized : report.table())
  }
}

extension ColdStartEvalCommand {
  /// The cache file for `name`: `--cache` itself, or a file in the `--cache` folder.
  func cacheFile(name: String) throws -> String? {
    guard let cache else { return nil }
    if cache.hasSuffix(".safetensors") { return cache }
    try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
    let guidance = (descriptionsFile as NSString).deletingPathExtension
    return cache + "/" + name.replacingOccurrences(of: "/", with: "_") + (guidance == "descriptions" ? "" : "." + guidance) + ".safetensors"
  }

  /// Prototypes, stream normals, anomaly pool, test normals, test anomalies.
  func textParts(_ dataset: String, name: String, embedder: TextEmbedder) throws -> ([FeatureMatrix], String) {
    let data = try ColdStartDataset(directory: dataset, descriptionsFile: descriptionsFile, warn: { warn("warning: " + $0) })
    let all = data.descriptions.texts + data.streamNormals + data.anomalyPool + data.testNormals + data.testAnomalies
    let weightsSHA = embedder.encoder.weightsSHA256
    let embedded: FeatureMatrix
    let cacheFile = try self.cacheFile(name: name)
    if let cacheFile, let cached = TextEmbeddingCache.load(
      cacheFile, weightsSHA256: weightsSHA, precision: embedder.encoder.precision, texts: all) {
      embedded = cached
    } else {
      embedded = embedder.embedReporting(all, label: "embed")
      if let cacheFile { try TextEmbeddingCache.store(
          embedded, to: cacheFile, weightsSHA256: weightsSHA, precision: embedder.encoder.precision, texts: all) }
    }
    var offset = 0
    let counts = [data.descriptions.texts.count, data.streamNormals.count, data.anomalyPool.count, data.testNormals.count, data.testAnomalies.count]
    let parts = counts.map { n -> FeatureMatrix in
      defer { offset += n }
      return embedded.selecting(Array(offset..<(offset + n)))
    }
    return (parts, "embedded \(all.count) texts")
  }

  static let npyFiles = ["prototypes.npy", "stream-normal.npy", "anomaly-pool.npy", "test-normal.npy", "test-anomaly.npy"]

  func npyParts(_ dataset: String) throws -> ([FeatureMatrix], String) {
    let parts = try Self.npyFiles.map { name -> FeatureMatrix in
      let path = dataset + "/" + name
      guard FileManager.default.fileExists(atPath: path) else {
        throw CLIError("\(dataset): missing \(name) (--from-npy expects \(Self.npyFiles.joined(separator: ", ")))")
      }
      // The anomaly pool may be empty (no contamination).
      return try readFeatureMatrix(path, allowEmpty: name == "anomaly-pool.npy")
    }
    for (name, part) in zip(Self.npyFiles, parts) where part.rows > 0 && part.columns != parts[0].columns {
      throw CLIError(
        "\(dataset)/\(name): features have \(part.columns) columns, expected \(parts[0].columns) (the width of prototypes.npy)")
    }
    return (parts, "read \(parts.map(\.rows).reduce(0, +)) feature rows")
  }
}
