import ArgumentParser
import Density
import FeatureExtraction
import Foundation
import OODFront
import TensorFiles

/// `anomalykit deepfake tiny-ladeda --weights W.safetensors IMAGES_OR_DIRS...
/// [--json | --csv] [--patch-logits] [--heatmaps DIR]`.
struct DeepfakeTinyLaDeDaCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "tiny-ladeda", abstract: "Score images with Tiny-LaDeDa, the LaDeDa authors' tiny patch-level deepfake detector.",
    discussion: """
      Each image is resized to 256×256 (bilinear, as the authors' test pipeline), scored patch by patch \
      (a 126×126 grid of logits; each cell sees 7×7 input pixels, 2 apart, or 5×5 with NPR weights), and \
      its probability of being generated is σ(mean patch logit); it is called fake above 0.5, the authors' \
      threshold. Prints one row per image, in input order: the probability, the verdict and the path. \
      --json prints [{"path", "probability", "logit", "fake", "grid": [h, w]}] (with --patch-logits also \
      "patch_logits", row-major); --csv prints path,probability,logit,fake.

      The weights are not bundled (the authors' research licence). Convert their checkpoint once: \
      python3 Weights/convert.py tiny-ladeda --pth WildRF_Tiny_LaDeDa.pth --out tiny-ladeda-wildrf.safetensors
      """)

  static let conversionHint = """
    Tiny-LaDeDa's weights are under the LaDeDa authors' research licence and are not bundled: convert \
    their checkpoint (weights/Tiny_LaDeDa/WildRF_Tiny_LaDeDa.pth or ForenSynth_Tiny_LaDeDa.pth in \
    github.com/barcavia/RealTime-DeepfakeDetection-in-the-RealWorld) with \
    `python3 Weights/convert.py tiny-ladeda --pth WildRF_Tiny_LaDeDa.pth --out tiny-ladeda-wildrf.safetensors` \
    and pass --weights tiny-ladeda-wildrf.safetensors
    """

  @Option(name: .long, help: "Tiny-LaDeDa weights converted by Weights/convert.py tiny-ladeda (required; nothing is bundled).")
  var weights: String?

  @Argument(help: "Images or folders of images.")
  var inputs: [String] = []

  @Flag(help: "Print a JSON array.")
  var json = false

  @Flag(help: "Print CSV (path,probability,logit,fake).")
  var csv = false

  @Flag(name: .customLong("patch-logits"), help: "Include every patch logit in the JSON output.")
  var patchLogits = false

  @Option(name: .long, help: "Write a heatmap PNG of the patch logits per image into this folder (blue: real-looking, green: logit 0, red: fake-looking).")
  var heatmaps: String?

  @Option(name: .long, help: "Refuse images with more pixels than this, before decoding.")
  var maxPixels: Int = ImageLimits.defaultMaxPixels

  @Option(name: .long, help: "Refuse runs with more input files than this.")
  var maxFiles: Int = 1_000_000

  @Option(name: .customLong("harmonize-jpeg"), help: "Re-encode every image as JPEG at this quality (1-100) before scoring, so that JPEG photos and PNG renders are compared with one compression history (see fit --harmonize-jpeg).")
  var harmonizeJPEG: Int?

  @OptionGroup var limits: LimitOptions

  func validate() throws {
    if let q = harmonizeJPEG, !(1...100).contains(q) { throw ValidationError("--harmonize-jpeg must be a JPEG quality in 1…100") }
    guard weights != nil else { throw ValidationError("--weights is required. " + Self.conversionHint) }
    guard !inputs.isEmpty else { throw ValidationError("give images or folders of images") }
    guard !(json && csv) else { throw ValidationError("--json and --csv are exclusive") }
    guard !patchLogits || json else { throw ValidationError("--patch-logits needs --json") }
    guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive") }
    guard maxFiles > 0 else { throw ValidationError("--max-files must be positive") }
  }

  func run() throws {
    guard let weights else { throw ValidationError("--weights is required. " + Self.conversionHint) }
    let model = try TinyLaDeDa(path: weights)
    let paths = try InputFiles.images(inputs, maxFiles: maxFiles)
    if let heatmaps { try HeatmapWriter.prepare(folder: heatmaps) }
    let limits = ImageLimits(maxPixels: maxPixels)
    let progress = Progress("tiny-ladeda", total: paths.count)
    let harmonizer = try harmonizeJPEG.map { try CompressionHarmonizer(quality: $0) }
    let outputs = try model.score(paths: paths, limits: limits, harmonizer: harmonizer) { done, _ in progress.update(done) }
    if let heatmaps {
      // One symmetric scale for the run, so logit 0 is the middle of the
      // ramp in every picture: ±(99.5th percentile of |logit|).
      let magnitudes = outputs.flatMap { $0.patchLogits.map { abs($0) } }
      let m = max(Metrics.quantile(magnitudes, 0.995) ?? 1, 1e-6)
      let grids = zip(paths, outputs).map { HeatmapWriter.Grid(path: $0, values: $1.patchLogits, height: $1.gridHeight, width: $1.gridWidth) }
      let written = try HeatmapWriter.write(grids, folder: heatmaps, range: -m...m, limits: limits)
      warn("wrote \(written) heatmaps to \(heatmaps) (logit scale ±\(String(format: "%.3g", m)))")
    }
    print(outputs, paths: paths)
  }

  private func print(_ outputs: [TinyLaDeDaOutput], paths: [String]) {
    if json {
      let doc = JSONValue.array(
        zip(paths, outputs).map { path, out in
          var members: [(String, JSONValue)] = [
            ("path", .string(path)), ("probability", .number(Double(out.probability))), ("logit", .number(Double(out.meanLogit))),
            ("fake", .bool(out.isFake)), ("grid", .array([.number(Double(out.gridHeight)), .number(Double(out.gridWidth))])),
          ]
          if patchLogits { members.append(("patch_logits", .array(out.patchLogits.map { .number(Double($0)) }))) }
          return .object(members)
        })
      Swift.print(doc.serialized)
    } else if csv {
      Swift.print("path,probability,logit,fake")
      for (path, out) in zip(paths, outputs) {
        let quoted = path.contains(",") || path.contains("\"") ? "\"" + path.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : path
        Swift.print("\(quoted),\(out.probability),\(out.meanLogit),\(out.isFake)")
      }
    } else {
      for (path, out) in zip(paths, outputs) {
        Swift.print(String(format: "%.6f", out.probability) + "  " + (out.isFake ? "fake" : "real") + "  " + path)
      }
    }
  }
}
