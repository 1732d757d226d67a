import ArgumentParser
import FeatureExtraction
import Foundation
import Density
import OODFront
import TensorFiles

/// `anomalykit deepfake score --bank DETECTOR IMAGES_OR_DIRS... [--json] [--heatmaps DIR]`.
struct DeepfakeScoreCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "score", abstract: "Score images with a real-only deepfake detector from 'deepfake fit'.",
    discussion: """
      Prints one row per image, in input order: the fused score (Fisher's −2 Σ log p over the cues; \
      higher is more likely generated), the verdict (generated above the detector's threshold, set on \
      reals only) and the path. --json prints [{"path", "score", "generated", "threshold", "fpr", \
      "crop": side, "cues": {name: {"tail", "value", "z", "evidence"}}}]. --fpr recomputes the threshold \
      from the reals stored in the detector. --heatmaps writes the analysed crop with the stage-3 \
      perturbation evidence (RIGID and blur cues) per 8×8 cell.
      """)

  @Option(name: .long, help: "Detector from 'anomalykit deepfake fit'.")
  var bank: String

  @Argument(help: "Images or folders of images.")
  var inputs: [String] = []

  @Flag(help: "Print a JSON array.")
  var json = false

  @Option(name: .long, help: "False-positive rate on reals for the verdict (default: the detector's).")
  var fpr: Double?

  @Option(name: .long, help: "Write a heatmap PNG per image into this folder (needs a rigid_s3 or minder_s3 cue).")
  var heatmaps: String?

  @OptionGroup var image: DeepfakeImageOptions
  @OptionGroup var limits: LimitOptions

  func validate() throws {
    guard !inputs.isEmpty else { throw ValidationError("give images or folders of images") }
    if let fpr, !(fpr > 0 && fpr < 1) { throw ValidationError("--fpr must be in (0, 1)") }
  }

  func run() throws {
    var detector = try DeepfakeDetector.read(path: bank)
    if let fpr { try detector.recalibrate(fpr: fpr) }
    let paths = try InputFiles.images(inputs, maxFiles: image.maxFiles)
    let mapped = detector.readings.filter { $0.cue == .rigidS3 || $0.cue == .minderS3 }
    if let heatmaps {
      guard !mapped.isEmpty else { throw CLIError("--heatmaps needs a rigid_s3 or minder_s3 cue; \(bank) has \(detector.readings.map(\.description).joined(separator: ","))") }
      try HeatmapWriter.prepare(folder: heatmaps, images: paths)
    }
    let screener = try DeepfakeScreener(
      detector: detector,
      extractor: try CueExtractor.make(
        readings: detector.readings, harmonizeJPEG: detector.harmonizeJPEG, backboneWeights: image.weights,
        tinyLaDeDaWeights: image.tinyLaDeDa, limits: image.limits), path: bank)
    let extractor = screener.extractor
    let progress = Progress("deepfake score", total: paths.count)
    let (scored, measured) = try screener.score(paths: paths) { done, _ in progress.update(done) }
    let scores = scored.map(\.score)
    if let heatmaps { try writeHeatmaps(measured, paths: paths, detector: detector, extractor: extractor, folder: heatmaps) }
    if json {
      let doc = JSONValue.array(
        zip(paths, zip(measured, scores)).map { path, pair in
          let (m, s) = pair
          let cues = JSONValue.object(
            detector.readings.enumerated().map { j, r in
              (r.cue.rawValue, JSONValue.object([
                ("tail", .string(r.tail.rawValue)), ("value", .number(s.values[j])), ("z", .number(s.z[j])),
                ("evidence", .number(s.evidence[j])),
              ]))
            })
          return .object([
            ("path", .string(path)), ("score", .number(s.fused)), ("generated", .bool(s.isGenerated)),
            ("threshold", .number(detector.threshold)), ("fpr", .number(detector.fpr)), ("crop", .number(Double(m.side))),
            ("cues", cues),
          ])
        })
      print(doc.serialized)
    } else {
      for (path, s) in zip(paths, scores) {
        print(String(format: "%.4f", s.fused) + "  " + (s.isGenerated ? "generated" : "real") + "  " + path)
      }
    }
  }

  /// Per stage-3 cell: the evidence of the network cues, each cell's mean
  /// cosine distance read against the image-level calibration, over the
  /// harmonised crop the cues saw.
  private func writeHeatmaps(
    _ measured: [CueExtractor.Measurement], paths: [String], detector: DeepfakeDetector, extractor: CueExtractor, folder: String
  ) throws {
    var cellMaps: [[Float]] = []
    for m in measured {
      var cells = [Float](repeating: 0, count: m.grid * m.grid)
      for (j, r) in detector.readings.enumerated() {
        guard let map = r.cue == .rigidS3 ? m.rigidMap : (r.cue == .minderS3 ? m.minderMap : nil) else { continue }
        let one = RealOnlyCalibration(readings: [r], medians: [detector.calibration.medians[j]], scales: [detector.calibration.scales[j]])
        for p in cells.indices { cells[p] += Float(one.evidence([Double(map[p])]).fused) }
      }
      cellMaps.append(cells)
    }
    let all = cellMaps.flatMap { $0 }
    let top = max(Metrics.quantile(all, 0.99) ?? 1, 1e-6)
    for ((path, name), (m, cells)) in zip(zip(paths, HeatmapWriter.fileNames(paths)), zip(measured, cellMaps)) {
      let decoded = try ImageDecoder.decode(path: path, limits: extractor.limits)
      let harmonised = try extractor.harmonizer.map { try $0.apply(decoded, path: path) } ?? decoded
      let crop = try ForensicCrop.apply(harmonised, path: path)
      let dense = Heatmap.upsample(cells, gridHeight: m.grid, gridWidth: m.grid, width: crop.width, height: crop.height)
      try ImageEncoder.writePNG(Heatmap.overlay(crop, map: dense, range: 0...top), to: folder + "/" + name)
    }
    warn("wrote \(paths.count) heatmaps to \(folder) (evidence scale 0…\(String(format: "%.3g", top)), the run's 99th percentile)")
  }
}
