import AnomalyKit
import Density
import FeatureExtraction
import Foundation
import TensorFiles

extension EvalCommand {
  /// Fits on `train/good` (all of it, or `--shots` random images per draw)
  /// with `fit`'s own code, then evaluates on `test/`.
  func runMVTec(_ root: String) throws {
    let layout = try MVTecLayout(root: root, maxFiles: image.maxFiles)
    if layout.masks == nil { warn("warning: \(root) has no ground_truth/; pixel AUROC and AUPRO are not measured") }
    if let out = scoresOut { try OutputPath.check(out, inputs: layout.train + layout.testNormal + layout.testDefective) }
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("anomalykit-eval-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }

    var selections: [[String]] = [layout.train]
    if let shots {
      guard shots <= layout.train.count else { throw CLIError("\(root)/train/good: --shots \(shots) but only \(layout.train.count) images") }
      selections = (0..<draws).map { d in Coreset.randomRows(layout.train.count, choosing: shots, seed: UInt64(d)).map { layout.train[$0] } }
    }
    var reports: [(EvalReport, fit: Double, score: Double)] = []
    var lastScores: ([ImageScore], [ImageScore]) = ([], [])
    for (d, train) in selections.enumerated() {
      let bankPath = bankOut ?? scratch + "/bank-\(d).safetensors"
      var start = Date()
      let fitImages = augmentDihedral ? try dihedralCopies(train, folder: scratch + "/augmented-\(d)") : train
      try fitArguments(train: fitImages, out: bankPath).run()
      let fitSeconds = Date().timeIntervalSince(start)
      start = Date()
      let loaded = try LoadedBank(path: bankPath, image: image, needsImages: true)
      guard let pipeline = loaded.pipeline else { continue }
      let evaluation = layout.masks.map {
        PixelEvaluation(
          masks: GroundTruthMasks(folders: [$0]), inputSize: Int(loaded.bank.metadata["input_size"] ?? "") ?? 224, limits: image.limits)
      }
      let (n, a) = try score(
        pipeline, bank: loaded.bank, normal: layout.testNormal, anomalous: layout.testDefective, maps: evaluation != nil,
        label: "eval" + (selections.count > 1 ? " (draw \(d + 1)/\(selections.count))" : ""))
      let pixel = try evaluation?.evaluate(normal: n, anomalous: a)
      reports.append((EvalReport(normal: n, anomalous: a, threshold: loaded.bank.threshold, pixel: pixel), fitSeconds, Date().timeIntervalSince(start)))
      lastScores = (n, a)
    }
    try writeScores(lastScores.0, lastScores.1)
    print(json ? mvtecJSON(reports).serialized : mvtecText(reports))
  }

  /// `images` and, for each, its 7 other dihedral transforms (rotations by
  /// 90°, 180°, 270°, and the mirror image of each), written as PNGs into
  /// `folder`. The transforms are exact pixel permutations (EXIF
  /// orientations 2–8).
  private func dihedralCopies(_ images: [String], folder: String) throws -> [String] {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var out = images
    for (i, path) in images.enumerated() {
      let image = try ImageDecoder.decode(path: path, limits: image.limits)
      for orientation in 2...8 {
        let copy = folder + "/\(i)-o\(orientation).png"
        try ImageEncoder.writePNG(EXIFOrientation.apply(orientation, to: image), to: copy)
        out.append(copy)
      }
    }
    return out
  }

  /// `fit`, parsed from the arguments it would get on the command line.
  private func fitArguments(train: [String], out: String) throws -> FitCommand {
    var args = train + ["--out", out, "--patches", "--holdout", "0", "--resize", (image.resizeChoice ?? .stretch).rawValue]
    if let s = image.inputSize { args += ["--input-size", String(s)] }
    if let w = image.weights { args += ["--weights", w] }
    if let p = image.precisionChoice { args += ["--precision", p.rawValue] }
    args += ["--max-pixels", String(image.maxPixels), "--batch-size", String(image.batchSize)]
    if image.keepStoredOrientation { args.append("--keep-stored-orientation") }
    if !stage.isEmpty { args += ["--stage"] + stage.map(String.init) }
    if let coreset { args += ["--coreset", String(coreset)] }
    if let coresetMethod { args += ["--coreset-method", coresetMethod] }
    if let coresetProjection { args += ["--coreset-projection", String(coresetProjection)] }
    args += ["--transform", transform ?? "none"]
    if let k { args += ["--k", String(k)] }
    if let pooling { args += ["--pooling", pooling] }
    do {
      return try FitCommand.parse(args)
    } catch {
      throw CLIError("--mvtec: the recipe options are not valid for fit: \(FitCommand.message(for: error))")
    }
  }

  private func mean(_ v: [Double?]) -> Double? {
    let x = v.compactMap { $0 }
    return x.count == v.count && !x.isEmpty ? x.reduce(0, +) / Double(x.count) : nil
  }

  private func mvtecJSON(_ reports: [(EvalReport, fit: Double, score: Double)]) -> JSONValue {
    guard let first = reports.first else { return .null }
    var members: [(String, JSONValue)]
    if reports.count == 1 {
      members = first.0.members
    } else {
      members = [
        ("auroc", EvalReport.number(mean(reports.map(\.0.auroc)))), ("ap", EvalReport.number(mean(reports.map(\.0.ap)))),
        ("pixel_auroc", EvalReport.number(mean(reports.map(\.0.pixelAUROC)))), ("aupro", EvalReport.number(mean(reports.map(\.0.aupro)))),
        ("auroc_min", EvalReport.number(reports.compactMap(\.0.auroc).min())),
        ("n_normal", .number(Double(first.0.normal))), ("n_anomalous", .number(Double(first.0.anomalous))),
        ("draws", .array(reports.map { $0.0.json })),
      ]
    }
    members += [
      ("dataset", .string(mvtec ?? "")), ("shots", shots.map { .number(Double($0)) } ?? .null),
      ("augment", .string(augmentDihedral ? "dihedral" : "none")),
      ("fit_seconds", .number(reports.map(\.fit).reduce(0, +) / Double(reports.count))),
      ("score_seconds", .number(reports.map(\.score).reduce(0, +) / Double(reports.count))),
    ]
    return .object(members)
  }

  private func mvtecText(_ reports: [(EvalReport, fit: Double, score: Double)]) -> String {
    if reports.count == 1, let r = reports.first { return r.0.text + String(format: "\nfit            %.1f s\nscore          %.1f s", r.fit, r.score) }
    func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "n/a" }
    var lines = ["\(shots ?? 0)-shot, \(reports.count) draws: mean AUROC \(f(mean(reports.map(\.0.auroc)))), pixel AUROC \(f(mean(reports.map(\.0.pixelAUROC)))), AUPRO \(f(mean(reports.map(\.0.aupro))))"]
    for (i, r) in reports.enumerated() { lines.append("  draw \(i): AUROC \(f(r.0.auroc))  pixel AUROC \(f(r.0.pixelAUROC))  AUPRO \(f(r.0.aupro))") }
    return lines.joined(separator: "\n")
  }
}
