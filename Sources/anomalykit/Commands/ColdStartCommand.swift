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

/// Runs the ColdFusion paper's protocol on a dataset folder.
struct ColdStartEvalCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval", abstract: "Run the cold-start protocol (ColdFusion's) on a dataset folder.",
    discussion: """
      DATASET_DIR holds train/seq.in, test/seq.in, id-oos/valid/seq.in, id-oos/test/seq.in and \
      descriptions.json (the layout of the official banking77-oos split). The stream is every train \
      query plus round(c·N) anomalies drawn from id-oos/valid, shuffled; after each step every method's \
      AUROC is measured on test (normal) versus id-oos/test (anomalous). Prints AUC@10/25/50/100% (the \
      mean AUROC over that share of the steps) and the final AUROC, as means over the seeds.
      """)

  @Argument(help: "Dataset folder (texts in the official layout; with --from-npy, .npy features).")
  var dataset: String

  @Flag(name: .customLong("from-npy"), help: "DATASET_DIR holds features instead of texts: prototypes.npy, stream-normal.npy, anomaly-pool.npy, test-normal.npy, test-anomaly.npy (N×D float32/float64), e.g. image features from 'anomalykit embed' and classifier rows.")
  var fromNPY = false

  @Option(help: "Anomalies added to the stream, as a fraction of the normal observations.")
  var contamination: Double = 0.05

  @Option(help: "Fraction q of observations kept by trimming (closest to the descriptions).")
  var trim: Double = 0.9

  @Option(help: "First seed of the stream order.")
  var seed: UInt64 = 0

  @Option(help: "Number of seeds (seed … seed+N−1); means and standard deviations are reported.")
  var seeds: Int = 1

  @Option(help: "zs, dn2, coldfusion or all.")
  var method: String = "all"

  @Option(help: "Distance: l2 (squared L2 on raw embeddings, the official code) or cosine.")
  var metric: PrototypeMetric = .squaredL2

  @Flag(help: "Print JSON.")
  var json = false

  @Option(help: "Draw the mean AUROC-versus-step curves to this PNG.")
  var plot: String?

  @Option(name: .customLong("curves"), help: "Write the mean AUROC after every step, one column per method, as CSV.")
  var curvesOut: String?

  @Option(help: "Embedding cache file: reused when it holds these texts embedded with these weights, written otherwise.")
  var cache: String?

  @OptionGroup var text: TextOptions

  @OptionGroup var limits: LimitOptions

  func validate() throws {
    guard seeds >= 1, seeds <= 1000 else { throw ValidationError("--seeds must be in 1…1000") }
    guard contamination >= 0, contamination <= 1 else { throw ValidationError("--contamination must be in [0, 1]") }
    guard trim > 0, trim <= 1 else { throw ValidationError("--trim must be in (0, 1]") }
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

  func run() throws {
    let methods = try methods()
    if let curvesOut { try OutputPath.check(curvesOut) }
    if let plot { try OutputPath.check(plot) }
    let start = Date()
    let (parts, summary) = try fromNPY ? npyParts() : textParts()
    let embedSeconds = Date().timeIntervalSince(start)
    let evaluation = try ColdStartEvaluation(
      prototypes: parts[0], streamNormals: parts[1], anomalyPool: parts[2], testNormals: parts[3], testAnomalies: parts[4], metric: metric,
      trim: trim, methods: methods)

    let seedList = (0..<seeds).map { seed &+ UInt64($0) }
    let protocolStart = Date()
    let runs = try ColdStartRuns.run(evaluation, contamination: contamination, seeds: seedList)
    let protocolSeconds = Date().timeIntervalSince(protocolStart)
    warn(String(format: "%@ in %.1f s; %d seed(s) of the protocol in %.1f s", summary, embedSeconds, seeds, protocolSeconds))

    if let curvesOut { try runs.writeMeanCurves(to: curvesOut, methods: methods) }
    if let plot {
      let chart = LinePlot(
        series: methods.map { LinePlot.Series(label: $0.rawValue, values: runs.meanCurve($0)) }, xLabel: "stream step",
        yLabel: "auroc", title: "\((dataset as NSString).lastPathComponent): contamination \(contamination), \(seeds) seed(s)")
      try ImageEncoder.writePNG(chart.render(), to: plot)
    }
    if json {
      print(runs.json(methods: methods).serialized)
    } else {
      print("cold start: \(dataset)  (\(parts[0].rows) prototypes, stream \(parts[1].rows) normal + \(Int((contamination * Double(parts[1].rows)).rounded(.toNearestOrEven))) anomalies, contamination \(contamination), trim \(trim), metric \(metric.rawValue), seeds \(seedList.first ?? 0)…\(seedList.last ?? 0))")
      print(runs.table(methods: methods))
    }
  }
}

extension ColdStartEvalCommand {
  /// Prototypes, stream normals, anomaly pool, test normals, test anomalies.
  func textParts() throws -> ([FeatureMatrix], String) {
    let data = try ColdStartDataset(directory: dataset, warn: { warn("warning: " + $0) })
    let embedder = try text.embedder()
    let all = data.descriptions.texts + data.streamNormals + data.anomalyPool + data.testNormals + data.testAnomalies
    let weightsSHA = embedder.encoder.weightsSHA256
    let embedded: FeatureMatrix
    if let cache, let cached = TextEmbeddingCache.load(cache, weightsSHA256: weightsSHA, texts: all) {
      embedded = cached
    } else {
      embedded = embedder.embedReporting(all, label: "embed")
      if let cache { try TextEmbeddingCache.store(embedded, to: cache, weightsSHA256: weightsSHA, texts: all) }
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

  func npyParts() throws -> ([FeatureMatrix], String) {
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

/// Protocol results over several seeds.
struct ColdStartRuns {
  let seeds: [UInt64]
  /// Per seed, per method: the AUROC curve.
  let curves: [[ColdStartMethod: [Double]]]

  static func run(_ evaluation: ColdStartEvaluation, contamination: Double, seeds: [UInt64]) throws -> ColdStartRuns {
    // Each worker writes only its own seeds' slots.
    var results = [Result<[ColdStartMethod: [Double]], Error>?](repeating: nil, count: seeds.count)
    results.withUnsafeMutableBufferPointer { buffer in
      let out = SharedBuffer(buffer)
      ParallelFor.chunks(count: seeds.count) { range in
        for i in range { out[i] = Result { try evaluation.curves(contamination: contamination, seed: seeds[i]) } }
      }
    }
    return ColdStartRuns(seeds: seeds, curves: try results.map { try ($0 ?? .failure(CLIError("a seed did not run"))).get() })
  }

  func summaries(_ m: ColdStartMethod) -> [StreamCurveSummary] {
    curves.compactMap { $0[m] }.map(StreamCurveSummary.init(curve:))
  }

  /// Mean and population standard deviation (numpy's default) of each
  /// summary value over the seeds: AUC@10/25/50/100 then final.
  func statistics(_ m: ColdStartMethod) -> (mean: [Double], std: [Double]) {
    let rows = summaries(m).map { $0.areas + [$0.final] }
    guard let width = rows.first?.count else { return ([], []) }
    let n = Double(rows.count)
    let mean = (0..<width).map { j in rows.reduce(0) { $0 + $1[j] } / n }
    let std = (0..<width).map { j in (rows.reduce(0) { $0 + ($1[j] - mean[j]) * ($1[j] - mean[j]) } / n).squareRoot() }
    return (mean, std)
  }

  func json(methods: [ColdStartMethod]) -> JSONValue {
    let keys = StreamCurveSummary.keys + ["final"]
    var byMethod: [(String, JSONValue)] = []
    for m in methods {
      let (mean, std) = statistics(m)
      var fields: [(String, JSONValue)] = zip(keys, mean).map { ($0, .number($1)) }
      fields.append(("std", .object(zip(keys, std).map { ($0, .number($1)) })))
      byMethod.append((m.rawValue, .object(fields)))
    }
    return .object([("seeds", .array(seeds.map { .number(Double($0)) })), ("methods", .object(byMethod))])
  }

  func table(methods: [ColdStartMethod]) -> String {
    let header = ["method", "AUC@10%", "AUC@25%", "AUC@50%", "AUC@100%", "final"]
    var lines = [header.map { $0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined()]
    for m in methods {
      let (mean, std) = statistics(m)
      let cells = zip(mean, std).map { seeds.count > 1 ? String(format: "%.1f ± %.1f", 100 * $0, 100 * $1) : String(format: "%.1f", 100 * $0) }
      lines.append(([m.rawValue] + cells).map { $0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
    }
    return lines.joined(separator: "\n")
  }

  /// The AUROC after each step, averaged over the seeds.
  func meanCurve(_ m: ColdStartMethod) -> [Double] {
    let all = curves.compactMap { $0[m] }
    guard let steps = all.first?.count else { return [] }
    return (0..<steps).map { t in all.reduce(0) { $0 + $1[t] } / Double(all.count) }
  }

  /// `step,<method>…` rows: the AUROC after each step, averaged over seeds.
  func writeMeanCurves(to path: String, methods: [ColdStartMethod]) throws {
    var text = "step," + methods.map(\.rawValue).joined(separator: ",") + "\n"
    let means = methods.map(meanCurve)
    for t in 0..<(means.first?.count ?? 0) {
      let cells = means.map { String(format: "%.6f", $0[t]) }
      text += "\(t + 1)," + cells.joined(separator: ",") + "\n"
    }
    try AtomicFile.write(Array(text.utf8), to: path)
  }
}
