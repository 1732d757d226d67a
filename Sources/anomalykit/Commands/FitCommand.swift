import AnomalyKit
import ArgumentParser
import Density
import FeatureExtraction
import Foundation
import TensorFiles

/// `anomalykit fit NORMAL_IMAGES_OR_DIRS... --out BANK.safetensors`.
struct FitCommand: ReadLimitedCommand, ThreadedCommand {
  static let configuration = CommandConfiguration(
    commandName: "fit",
    abstract: "Fit a reference bank on normal images (no anomalies needed).",
    discussion: """
      Image banks hold one pooled 1280-d feature per image. Patch banks (--patches) hold per-location \
      features of stages 3 and 5 (28×28 locations of 152-d at 224 px) and score each location; the image \
      score pools them (max by default). --holdout/--fpr calibrate a threshold on normal data only, so that \
      'score' can say anomalous: true/false.
      """)

  @Argument(help: "Normal images or folders of them.")
  var inputs: [String] = []

  @Option(name: .long, help: "Where to write the bank (.safetensors).")
  var out: String

  @Option(name: .long, help: "knn | cosine-knn | mean-shifted | angular-center | gaussian (default cosine-knn for image banks, knn for patch banks).")
  var scorer: ScorerKind?

  @Option(name: .long, help: "Feature transform before scoring: sqrt (signed square root) or none. Default: sqrt for image banks, none for patch banks and --from-npy.")
  var transform: FeatureTransform?

  @Option(name: .long, help: "Neighbours summed by the kNN scorers (default 2 for image banks, 1 for patch banks).")
  var k: Int?

  @Flag(name: .long, help: "Build a patch bank (per-location features) instead of an image bank. Patch-bank defaults: stages 3 5, --input-size 320, --resize stretch, --transform none (chosen by leave-one-dataset-out over four industrial sets).")
  var patches = false

  @Option(name: .long, help: "Patch-bank preset: deepfake (the issue-5 real-only forensic patch bank; it flags an image's source more than generation: prefer `anomalykit deepfake fit`). Implies --patches; explicit options override it.")
  var preset: PatchPreset?

  @Option(name: .long, help: "Patch features from a pixel residual instead of backbone stages: npr, diagonal or none (the pixels).")
  var residual: PixelPatchDescriptor.Residual?

  @Option(name: .customLong("patch-size"), help: "Side of a residual pixel patch (with --residual).")
  var patchSize: Int?

  @Option(name: .customLong("patch-stride"), help: "Step between residual pixel patches (with --residual).")
  var patchStride: Int?

  @Option(name: .customLong("patch-grid"), help: "Where stage maps meet: finest (coarser maps upsampled; default) or coarsest (finer maps average-pooled; --preset deepfake).")
  var patchGrid: PatchFeatureBuilder.Grid?

  @Option(name: .customLong("harmonize-jpeg"), help: "Re-encode every image as JPEG at this quality (1-100) before features, at fit and score time alike, so that real JPEGs and generated PNGs share one compression history.")
  var harmonizeJPEG: Int?

  @Option(name: .long, parsing: .upToNextOption, help: "Stages whose maps form patch features (default 3 5).")
  var stage: [Int] = []

  @Option(name: .long, help: "Patch pooling into an image score: max, mean or topQ (e.g. top0.1). Default max (mean for --preset deepfake).")
  var pooling: String?

  @Option(name: .long, help: "Keep this fraction of patches, chosen by the coreset method (patch banks; default 0.01, 0.1 for --preset deepfake).")
  var coreset: Double?

  @Option(name: .customLong("coreset-method"), help: "greedy (k-center, covers the feature space; default) or random (fast and linear, for very large banks; default for --preset deepfake).")
  var coresetMethod: Coreset.Method?

  @Option(name: .customLong("coreset-projection"), help: "Random-projection width of the greedy coreset's distances (default 128, PatchCore's). 32 was 2.6-5× faster in our measurements but selects other rows (MVTec screw moved 2 AUROC points; Notebooks-export/industrial.md).")
  var coresetProjection: Int = Coreset.defaultProjection

  @Option(name: .long, help: "Fraction of normals held out per fold to calibrate the threshold (0 = no threshold; default \(BankConfiguration.imageDefault.holdout)).")
  var holdout: Double?

  @Option(name: .long, help: "Target false-positive rate of the threshold on normal data (default \(BankConfiguration.imageDefault.fpr)).")
  var fpr: Double?

  @Option(name: .customLong("pixel-fpr"), help: "Patch banks with --holdout: also calibrate a pixel threshold for score --masks-out, at this false-positive rate on the normal images' (cross-fitted, smoothed) location scores (default \(BankConfiguration.patchDefault.pixelFPR)).")
  var pixelFPR: Double?

  @Option(name: .long, help: "Seed for the calibration folds and the coreset (default \(BankConfiguration.imageDefault.seed)).")
  var seed: UInt64?

  @Option(name: .customLong("from-npy"), help: "Fit on an N×D .npy of features instead of images.")
  var fromNPY: String?

  @Option(name: .customLong("max-fit-memory"), help: "Refuse fits whose features would need more memory than this (e.g. 8G; default: half the machine's memory). Checked before any image is read.")
  var maxFitMemory: ByteCount?

  @Option(name: .customLong("scratch-dir"), help: "Folder for the feature scratch file that a fit streams features into (default: the --out folder).")
  var scratchDir: String?

  @Option(name: .customLong("bank-dtype"), help: "Store the bank's rows as f32 (default) or bf16: half the memory and disk; the kNN searches on BF16 dot products (AVX-512 BF16 where the CPU has it) and re-ranks its candidates in float32 (knn and cosine-knn banks).")
  var bankDType: BankDType?

  @Option(name: .long, help: "Fit shard i of N (i counts from 0) of a fit too large for one machine, from the i-th slice of the inputs: run it with the same inputs and options on N workers. Needs a random coreset (greedy is refused); the shards carry no threshold (merge-scores --calibrate-fpr sets one on held-out normals).")
  var shard: String?

  @OptionGroup var image: ImageOptions

  @OptionGroup var limits: LimitOptions
  @OptionGroup var threading: ThreadOptions
  @OptionGroup var inputList: InputListOptions

  func validate() throws {
    if let shard {
      guard ShardedFit(shard) != nil else { throw ValidationError("--shard must be i/N with 0 ≤ i < N, e.g. 0/4; got '\(shard)'") }
      if let holdout, holdout > 0 {
        throw ValidationError("--shard fits carry no threshold (a shard's own cross-fit sits on a 1/N bank's scale); leave out --holdout and calibrate the merged scores of held-out normals with merge-scores --calibrate-fpr")
      }
    }
    if let m = maxFitMemory, m.bytes < 1 << 20 { throw ValidationError("--max-fit-memory must be at least 1M") }
    guard fromNPY != nil || !inputs.isEmpty || inputList.inputsFrom != nil else { throw ValidationError("give normal images or folders, --inputs-from, or --from-npy") }
    guard out.hasSuffix(".safetensors") else { throw ValidationError("--out must end in .safetensors") }
    if let k, k < 1 { throw ValidationError("--k must be at least 1") }
    if let holdout, !(0..<1).contains(holdout) { throw ValidationError("--holdout must be in [0, 1)") }
    if let fpr, !(fpr > 0 && fpr < 1) { throw ValidationError("--fpr must be in (0, 1)") }
    if let pixelFPR, !(pixelFPR > 0 && pixelFPR < 1) { throw ValidationError("--pixel-fpr must be in (0, 1)") }
    if let c = coreset, !(c > 0 && c <= 1) { throw ValidationError("--coreset must be in (0, 1]") }
    guard (8...1024).contains(coresetProjection) else { throw ValidationError("--coreset-projection must be in 8…1024") }
    if let pooling, PatchPooling(pooling) == nil { throw ValidationError("--pooling must be max, mean or topQ with 0 < Q ≤ 1") }
    if isPatchBank && fromNPY != nil { throw ValidationError("--patches needs images, not --from-npy") }
    if isPatchBank && image.flipAverage { throw ValidationError("--flip-average applies to image banks, not to --patches") }
    if let q = harmonizeJPEG, !(1...100).contains(q) { throw ValidationError("--harmonize-jpeg must be a JPEG quality in 1…100") }
    if harmonizeJPEG != nil && fromNPY != nil { throw ValidationError("--harmonize-jpeg needs images, not --from-npy") }
    if let p = patchSize, !(1...64).contains(p) { throw ValidationError("--patch-size must be in 1…64") }
    if let p = patchStride, !(1...64).contains(p) { throw ValidationError("--patch-stride must be in 1…64") }
    if (patchSize != nil || patchStride != nil) && pixelDescriptor == nil {
      throw ValidationError("--patch-size and --patch-stride apply to residual pixel patches (--residual or --preset deepfake)")
    }
    if residual != nil && !stage.isEmpty { throw ValidationError("--stage and --residual are different patch features; give one") }
    if patchGrid != nil && pixelDescriptor != nil { throw ValidationError("--patch-grid applies to stage patch features, not to --residual") }
    for s in stage where !(1...7).contains(s) { throw ValidationError("--stage \(s): stages are 1…7") }
  }

  var isPatchBank: Bool { patches || preset != nil || residual != nil }

  /// The residual pixel-patch descriptor asked for (explicitly or by the preset).
  var pixelDescriptor: PixelPatchDescriptor? {
    let d = preset?.descriptor
    guard let r = residual ?? (stage.isEmpty ? d?.residual : nil) else { return nil }
    let size = patchSize ?? (d?.residual == r ? d?.patch : nil) ?? PatchPreset.defaultPatch(for: r)
    return PixelPatchDescriptor(residual: r, patch: size, stride: patchStride ?? d?.stride ?? PatchPreset.defaultStride)
  }

  /// The library configuration these flags ask for: the preset the flags
  /// select (`BankConfiguration.imageDefault`, `.patchDefault`,
  /// `.deepfakePatches`, `.residualPatches`, `.externalFeatures`), with every
  /// flag given on the command line overriding its value.
  var bankConfiguration: BankConfiguration {
    var c: BankConfiguration
    if fromNPY != nil {
      c = .externalFeatures
    } else if let preset {
      c = preset.configuration
    } else if let d = pixelDescriptor {
      c = .residualPatches(d)
    } else {
      c = isPatchBank ? .patchDefault : .imageDefault
    }
    if let d = pixelDescriptor {
      c.features = .pixelPatches(d, pooling: c.pooling ?? .max)
    } else if !stage.isEmpty, isPatchBank {
      c.features = .patches(stages: stage, pooling: c.pooling ?? .max)
    }
    if let pooling = pooling.flatMap(PatchPooling.init) { c.pooling = pooling }
    if let scorer { c.scorer = scorer }
    if let k { c.k = k }
    if let transform { c.transform = transform }
    if let size = image.inputSize { c.inputSize = size }
    c.precision = image.precision
    if let resize = image.resizeChoice { c.resize = resize }
    c.flipAverage = image.flipAverage
    if let harmonizeJPEG { c.harmonizeJPEG = harmonizeJPEG }
    if let patchGrid { c.patchGrid = patchGrid }
    if let coreset { c.coreset = coreset }
    if let coresetMethod { c.coresetMethod = coresetMethod }
    c.coresetProjection = coresetProjection
    if let holdout { c.holdout = holdout }
    if let fpr { c.fpr = fpr }
    if let pixelFPR { c.pixelFPR = pixelFPR }
    if let seed { c.seed = seed }
    c.maxFitMemory = maxFitMemory?.bytes
    if let bankDType { c.bankDType = bankDType }
    return c
  }

  func run() throws {
    var configuration = bankConfiguration
    let sharded = shard.flatMap(ShardedFit.init)
    if let sharded {
      if coresetMethod == nil { configuration.coresetMethod = .random }
      configuration = try sharded.configuration(configuration)
    }
    var options = FitOptions(
      limits: image.limits, batchSize: image.batchSize, scratchFolder: scratchDir ?? AtomicFile.parentFolder(of: out),
      warning: { warn($0) })
    let detector: ImageAnomalyDetector
    if let npy = fromNPY {
      try OutputPath.check(out, inputs: [npy])
      var o = options
      o.metadata["source_features"] = npy
      var features = try readFeatureMatrix(npy)
      if let sharded {
        let rows = Array(0..<features.rows)
        o.metadata.merge(sharded.identity(inputs: rows.map { "\(npy)#\($0)" }, configuration: configuration).metadata) { $1 }
        features = features.selecting(Array(try sharded.slice(rows)))
        configuration.seed = sharded.seed(configuration.seed)
      }
      detector = try ImageAnomalyDetector.fit(features: features, configuration: configuration, options: o)
    } else {
      var paths = try InputFiles.images(try inputList.inputs(inputs), maxFiles: image.maxFiles)
      try OutputPath.check(out, inputs: paths)
      // int8 calibrates on the whole input list, so every shard of a
      // sharded fit quantises with the same ranges.
      let calibrationPaths = paths
      if let sharded {
        options.metadata.merge(sharded.identity(inputs: paths, configuration: configuration).metadata) { $1 }
        paths = Array(try sharded.slice(paths))
        configuration.seed = sharded.seed(configuration.seed)
      }
      let model = try EfficientNetLite.forFit(
        weights: try image.weightsPath(), configuration: configuration, normalPaths: calibrationPaths, options: options)
      let progress = Progress("fit: features", total: paths.count)
      var o = options
      o.progress = { done, _ in progress.update(done) }
      detector = try ImageAnomalyDetector.fit(normalPaths: paths, backbone: model, configuration: configuration, options: o)
    }
    try detector.save(to: URL(fileURLWithPath: out))
    let bank = detector.bank
    let t = bank.threshold.map { String(format: "%.6g", $0) } ?? "none"
    warn(
      "wrote \(out): \(bank.count)×\(bank.dimension) \(bank.scorer.rawValue) bank (k = \(bank.k), transform \(bank.transform.rawValue)), threshold \(t)")
  }
}
