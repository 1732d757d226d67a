import Density
import FeatureExtraction
import ParallelCompute
import TensorFiles

/// Images in, bank or scores out: the glue between feature extraction and
/// the density module, shared by the CLI and the service.
public struct ImageBankPipeline: Sendable {
  /// Decodes, preprocesses and runs images through the backbone, set up
  /// from the recipe (resize policy, flip averaging, JPEG harmonising).
  public let extractor: ImageFeatureExtractor
  /// The features this pipeline produces and how images are prepared.
  public let recipe: BankRecipe
  let patchBuilder: PatchFeatureBuilder?

  /// Creates a pipeline for `model` that follows `recipe`.
  ///
  /// - Parameters:
  ///   - model: the backbone features come from.
  ///   - recipe: which features, and how images are prepared.
  ///   - limits: size limits for decoding images.
  ///   - batchSize: images per forward call (default 32).
  /// - Throws: `DensityError.invalidArgument` when the recipe's patch stages
  ///   are not stages of `model` or its pixel patches do not fit the input;
  ///   `ImageError.unsupported` for a JPEG quality outside 1…100.
  public init(model: any ImageBackbone, recipe: BankRecipe, limits: ImageLimits = ImageLimits(), batchSize: Int = 32) throws {
    var extractor = ImageFeatureExtractor(model: model, policy: recipe.resize, limits: limits, batchSize: batchSize)
    extractor.flipAverage = recipe.flipAverage && !recipe.isPatchBank
    extractor.harmonizer = try recipe.harmonizeJPEG.map { try CompressionHarmonizer(quality: $0) }
    self.extractor = extractor
    self.recipe = recipe
    if case .patches(let stages, _) = recipe.features {
      let builder = PatchFeatureBuilder(stages: stages, grid: recipe.patchGrid)
      guard builder.layout(for: model) != nil else {
        throw DensityError.invalidArgument("patch stages \(stages) are not stages of \(model.architecture) (1…\(model.stageCount))")
      }
      patchBuilder = builder
    } else {
      patchBuilder = nil
    }
    if case .pixelPatches(let d, _) = recipe.features, d.gridSide(model.inputSize) < 1 {
      throw DensityError.invalidArgument("\(d.patch)-pixel patches do not fit a \(model.inputSize)-pixel input")
    }
  }

  /// The backbone features come from.
  public var model: any ImageBackbone { extractor.model }

  /// Metadata that ties a bank to this backbone and recipe.
  public var provenance: [String: String] {
    recipe.metadata.merging(model.provenance) { _, backbone in backbone }
  }

  /// Width of the features this pipeline produces (per image, or per location).
  public var featureDimension: Int {
    if let d = pixelDescriptor { return d.dimension }
    return patchBuilder?.layout(for: model)?.dimension ?? model.featureDimension
  }

  /// Locations per image (1 for pooled banks) and the grid.
  public var grid: (height: Int, width: Int) {
    if let d = pixelDescriptor {
      let side = d.gridSide(model.inputSize)
      return (side, side)
    }
    guard let b = patchBuilder, let l = b.layout(for: model) else { return (1, 1) }
    return (l.height, l.width)
  }

  var pixelDescriptor: PixelPatchDescriptor? {
    if case .pixelPatches(let d, _) = recipe.features { return d }
    return nil
  }

  /// Features of `paths`: one row per image (pooled) or one row per
  /// location, image after image (patches).
  public func features(_ paths: [String], progress: ((Int, Int) -> Void)? = nil) throws -> FeatureMatrix {
    var values: [Float] = []
    try forEachFeatureBatch(paths, progress: progress) { values += $0.values }
    return FeatureMatrix(rows: values.count / featureDimension, columns: featureDimension, values: values)
  }

  /// Features of `paths`, batch by batch and in order, so a caller can
  /// stream them (to a `FeatureSpool`) instead of holding them all: `body`
  /// gets each batch's rows, one per image (pooled) or one per location,
  /// image after image (patches).
  public func forEachFeatureBatch(
    _ paths: [String], progress: ((Int, Int) -> Void)? = nil, _ body: (FeatureMatrix) throws -> Void
  ) throws {
    let dimension = featureDimension
    if let d = pixelDescriptor {
      var start = 0
      while start < paths.count {
        let end = min(paths.count, start + extractor.batchSize)
        try body(try pixelPatchFeatures(Array(paths[start..<end]), descriptor: d))
        progress?(end, paths.count)
        start = end
      }
    } else if let builder = patchBuilder {
      let layers = Set(builder.stages.map { FeatureLayer.stage($0) })
      try extractor.forEachBatch(paths, layers: layers, progress: progress) { _, output in
        guard let maps = builder.build(output) else { return }
        try body(FeatureMatrix(rows: maps.values.count / dimension, columns: dimension, values: maps.values))
      }
    } else {
      try extractor.forEachBatch(paths, layers: [.pooled], progress: progress) { range, output in
        try body(FeatureMatrix(rows: range.count, columns: dimension, values: output.pooled ?? []))
      }
    }
  }

  /// Residual pixel patches of one batch of `paths`; images are decoded,
  /// harmonised and cropped in parallel by the extractor, and described in
  /// parallel here.
  func pixelPatchFeatures(_ paths: [String], descriptor d: PixelPatchDescriptor) throws -> FeatureMatrix {
    let size = model.inputSize
    let per = d.gridSide(size) * d.gridSide(size) * d.dimension
    var values = [Float](repeating: 0, count: paths.count * per)
    let input = try extractor.inputs(for: paths)
    let pixels = size * size * 3
    values.withUnsafeMutableBufferPointer { out in
      let shared = SharedBuffer(out)
      input.withUnsafeBufferPointer { x in
        let source = SharedReadOnlyBuffer(x)
        ParallelFor.chunks(count: paths.count, workers: extractor.workers) { range in
          for i in range {
            var rows: [Float] = []
            d.describe(UnsafeBufferPointer(start: source.base + i * pixels, count: pixels), size: size, into: &rows)
            for (j, v) in rows.enumerated() { shared.base[i * per + j] = v }
          }
        }
      }
    }
    return FeatureMatrix(rows: paths.count * per / d.dimension, columns: d.dimension, values: values)
  }

  /// Fits a bank. Patch banks are capped with a coreset of
  /// `coreset × patches` rows when `coreset` is given.
  ///
  /// `features` may be on disk (`FeatureSpool`): a random coreset reads back
  /// only the rows it keeps, so memory grows with the bank, not with the
  /// features seen; k-center greedy needs every row in memory. `seed` picks
  /// the random rows, or greedy's first centre and projection.
  public static func fitBank(
    _ features: some FeatureRows, scorer: ScorerKind, k: Int, coreset: Double?, coresetMethod: Coreset.Method = .greedy,
    coresetProjection: Int = Coreset.defaultProjection, transform: FeatureTransform = .none, metadata: [String: String],
    seed: UInt64 = 0, dtype: BankDType = .f32
  ) throws -> ReferenceBank {
    var meta = metadata
    let bankFeatures: FeatureMatrix
    if let fraction = coreset, fraction > 0, fraction < 1 {
      let m = max(k, Int((Double(features.rows) * fraction).rounded()))
      switch coresetMethod {
      case .random:
        bankFeatures = try features.selecting(Coreset.randomRows(features.rows, choosing: m, seed: seed))
      case .greedy:
        let all = try features.matrix()
        bankFeatures = all.selecting(
          Coreset.select(all, count: m, method: .greedy, projectedDimension: coresetProjection, seed: seed))
        if coresetProjection != Coreset.defaultProjection { meta["coreset_projection"] = String(coresetProjection) }
      }
      meta["coreset_fraction"] = "\(fraction)"
      meta["coreset_method"] = coresetMethod.rawValue
      meta["coreset_source_rows"] = String(features.rows)
      if seed != 0 { meta["coreset_seed"] = String(seed) }
    } else {
      bankFeatures = try features.matrix()
    }
    return try ReferenceBank(fitting: consume bankFeatures, scorer: scorer, k: k, transform: transform, metadata: meta).storing(dtype)
  }

  /// How this pipeline pools locations (nil for image banks).
  public var pooling: PatchPooling? {
    switch recipe.features {
    case .pooled: return nil
    case .patches(_, let pooling), .pixelPatches(_, let pooling): return pooling
    }
  }

  /// Image scores from per-row scores (pooling locations for patch banks).
  public static func imageScores(_ rowScores: [Float], images: Int, pooling: PatchPooling?) -> [Float] {
    guard let pooling else { return rowScores }
    let per = rowScores.count / max(images, 1)
    return (0..<images).map { pooling.pool(rowScores[($0 * per)..<(($0 + 1) * per)]) }
  }

  /// Fits on `features` of `images` normal images and calibrates a
  /// threshold by cross-fitting over images.
  ///
  /// Each fold's bank is fitted on a row subset of `features` (read back
  /// through `fitBank`), and its held-out images are scored a block at a
  /// time, so a spooled fit with a random coreset never holds a fold's
  /// features at once. `seed` is the coreset's (the folds take theirs from
  /// `calibration`). `rowScores`, if given, receives each held-out image's
  /// per-row (per-location) scores, for a pixel threshold.
  ///
  /// Every fold's bank scores with the same `k` as the final bank: a sum
  /// of k squared distances grows with k, so a threshold set on k = 1
  /// scores would flag nearly every k = 2 score. When a fold keeps fewer
  /// than k rows, no threshold on the final bank's scale can be had from
  /// cross-fitting, and this throws `DensityError.cannotCalibrate` saying
  /// how many images would do.
  public static func calibrate(
    _ features: some FeatureRows, images: Int, scorer: ScorerKind, k: Int, coreset: Double?, calibration: ThresholdCalibration,
    pooling: PatchPooling?, transform: FeatureTransform = .none, coresetMethod: Coreset.Method = .greedy,
    coresetProjection: Int = Coreset.defaultProjection, seed: UInt64 = 0, dtype: BankDType = .f32,
    rowScores: ((_ image: Int, _ scores: ArraySlice<Float>) -> Void)? = nil
  ) throws -> (threshold: Float, scores: [Float]) {
    let per = features.rows / max(images, 1)
    if scorer.usesNeighbors {
      try checkFoldsHoldNeighbors(images: images, rowsPerImage: per, k: k, folds: calibration.folds)
    }
    let imagesPerBlock = max(1, 65_536 / max(per, 1))
    let scores = try calibration.outOfFoldScores(count: images) { held, kept in
      let keptRows = kept.flatMap { ($0 * per)..<(($0 + 1) * per) }
      let bank = try fitBank(
        FeatureRowSubset(features, rows: keptRows), scorer: scorer, k: k, coreset: coreset, coresetMethod: coresetMethod,
        coresetProjection: coresetProjection, transform: transform, metadata: [:], seed: seed, dtype: dtype)
      var heldScores: [Float] = []
      heldScores.reserveCapacity(held.count)
      var start = 0
      while start < held.count {
        let block = held[start..<min(held.count, start + imagesPerBlock)]
        let rows = block.flatMap { ($0 * per)..<(($0 + 1) * per) }
        let blockScores = try bank.score(features.selecting(rows))
        if let rowScores {
          for (j, image) in block.enumerated() { rowScores(image, blockScores[(j * per)..<((j + 1) * per)]) }
        }
        heldScores += imageScores(blockScores, images: block.count, pooling: pooling)
        start += imagesPerBlock
      }
      return heldScores
    }
    guard let t = calibration.threshold(from: scores) else {
      throw DensityError.emptyBank(reason: "no held-out scores to calibrate a threshold")
    }
    return (t, scores)
  }

  /// Throws unless every cross-fitting fold leaves at least `k` rows to
  /// fit on. `ThresholdCalibration` deals `images` round-robin into
  /// `folds`, so the largest fold holds ⌈images / folds⌉ of them.
  static func checkFoldsHoldNeighbors(images: Int, rowsPerImage per: Int, k: Int, folds: Int) throws {
    func smallestKept(_ n: Int) -> Int { (n - (n + folds - 1) / folds) * per }
    guard smallestKept(images) < k else { return }
    var needed = images + 1
    while smallestKept(needed) < k { needed += 1 }
    let unit = per == 1 ? "normal image(s)" : "feature(s) (\(per) per image)"
    throw DensityError.cannotCalibrate(
      reason: "with \(images) normal image(s) in \(folds) cross-fitting folds, a fold's bank keeps only \(smallestKept(images)) \(unit), "
        + "fewer than k = \(k); a threshold set with a smaller k would sit on another scale than the bank's scores. "
        + "Give at least \(needed) normal images, a smaller --k, or --holdout 0 for a bank without a threshold")
  }

  /// Scores images against `bank`.
  ///
  /// - Parameters:
  ///   - paths: the image files, scored in batches of the extractor's
  ///     `batchSize`.
  ///   - bank: a bank fitted on this pipeline's features.
  ///   - keepMaps: keep each image's per-location scores (patch
  ///     banks) for heatmaps; without them a run's memory does not grow with
  ///     images × locations.
  ///   - progress: called after each batch with the images done and the total.
  /// - Returns: one verdict per path, in order.
  /// - Throws: `ImageError` naming an image that cannot be read, and the
  ///   bank's errors when it cannot score the features.
  public func score(
    _ paths: [String], bank: ReferenceBank, keepMaps: Bool = true, progress: ((Int, Int) -> Void)? = nil
  ) throws -> [ImageScore] {
    var results: [ImageScore] = []
    let (gh, gw) = grid
    var start = 0
    // Score batch by batch so patch features never pile up in memory.
    let batch = max(1, extractor.batchSize)
    while start < paths.count {
      let end = min(paths.count, start + batch)
      let chunk = Array(paths[start..<end])
      let f = try features(chunk)
      let rowScores = try bank.score(f, source: chunk.count == 1 ? chunk[0] : "\(chunk[0]) …")
      let scores = Self.imageScores(rowScores, images: chunk.count, pooling: pooling)
      let per = rowScores.count / max(chunk.count, 1)
      for (i, path) in chunk.enumerated() {
        results.append(
          ImageScore(
            path: path, score: scores[i], anomalous: bank.isAnomalous(scores[i]),
            map: recipe.isPatchBank && keepMaps ? Array(rowScores[(i * per)..<((i + 1) * per)]) : nil, gridHeight: gh, gridWidth: gw))
      }
      progress?(end, paths.count)
      start = end
    }
    return results
  }

  /// Each image's (image banks) or location's (patch banks) k nearest rows
  /// of `bank`, image after image, a batch of features at a time:
  /// what one shard of a sharded bank contributes (`ShardSet.merge`).
  ///
  /// - Throws: `DensityError.invalidArgument` for a scorer that does not
  ///   shard; `ImageError` naming an image that cannot be read.
  public func neighbours(_ paths: [String], bank: ReferenceBank, progress: ((Int, Int) -> Void)? = nil) throws -> NeighbourList {
    var distances: [Float] = []
    var rows: [Int64] = []
    let source = paths.count == 1 ? paths[0] : "features of \(paths.first ?? "") …"
    try forEachFeatureBatch(paths, progress: progress) { batch in
      let found = try bank.neighbours(batch, source: source)
      distances += found.distances
      rows += found.rows
    }
    return NeighbourList(k: min(bank.k, bank.count), distances: distances, rows: rows)
  }
}
