import TensorFiles

/// Reading and writing reference banks as safetensors.
///
/// Tensors:
/// - `features` F32 `[N, D]` (or BF16 for a `bank_dtype` `bf16` bank, knn
///   and cosine-knn only): the normal features in the scorer's base space
///   (raw, or L2-normalised for the normalising scorers);
/// - `center` F32 `[D]`: the mean normalised feature (normalising scorers);
/// - `gaussian.mean` F64 `[D]`, `gaussian.cholesky` F64 `[D, D]` (lower
///   factor of the shrunk covariance) for `gaussian`.
///
/// Metadata (all strings): `format` = `bank`, `format_version` = `1`,
/// `toolkit_version`, `scorer`, `k`, `dimension`, `count`, `normalization`
/// (`l2` or `none`), `feature_transform` (`none` or `sqrt`), `threshold` and its calibration keys when calibrated,
/// plus whatever provenance the caller adds (backbone, weights_sha256,
/// layer, resize, patch settings). Documented in Weights/FORMAT.md.
///
/// Python reads a bank with `safetensors.numpy.load_file(path)` or plain
/// numpy (see Examples/python-read-bank.py).
public enum BankFile {
  /// The `format_version` this toolkit writes and reads.
  public static let formatVersion = "1"

  /// Writes `bank` to `path` atomically as a safetensors file with the
  /// tensors and metadata above.
  ///
  /// - Parameters:
  ///   - bank: the bank to save; its own metadata is written too, with the
  ///     format keys set from the bank.
  ///   - path: the destination (written atomically: temp file, fsync, rename).
  ///   - toolkitVersion: recorded as `toolkit_version`.
  /// - Throws: `TensorFileError` when the file cannot be written.
  public static func write(_ bank: ReferenceBank, to path: String, toolkitVersion: String) throws {
    var meta = bank.metadata
    meta["format"] = "bank"
    meta["format_version"] = formatVersion
    meta["toolkit_version"] = toolkitVersion
    meta["scorer"] = bank.scorer.rawValue
    meta["k"] = String(bank.k)
    meta["dimension"] = String(bank.dimension)
    meta["count"] = String(bank.count)
    meta["normalization"] = bank.scorer.normalizes ? "l2" : "none"
    meta["feature_transform"] = bank.transform.rawValue
    if let t = bank.threshold { meta["threshold"] = "\(t)" } else { meta.removeValue(forKey: "threshold") }
    if bank.dtype == .f32 { meta.removeValue(forKey: "bank_dtype") } else { meta["bank_dtype"] = bank.dtype.rawValue }
    var writer = SafeTensorsWriter(metadata: meta)
    switch bank.dtype {
    case .f32:
      try bank.store.withValues { v in
        try writer.add("features", floats: v, shape: [bank.count, bank.dimension])
      }
    case .bf16:
      try bank.store.withBF16 { v in
        try writer.add("features", dtype: .bf16, shape: [bank.count, bank.dimension], bytes: Array(UnsafeRawBufferPointer(v)))
      }
    }
    if let c = bank.center { try writer.add("center", floats: c, shape: [bank.dimension]) }
    if let g = bank.gaussian {
      try writer.add("gaussian.mean", doubles: g.mean, shape: [g.dimension])
      try writer.add("gaussian.cholesky", doubles: g.cholesky, shape: [g.dimension, g.dimension])
      writer.metadata["gaussian_shrinkage"] = "\(g.shrinkage)"
    }
    try writer.write(to: path)
  }

  /// Loads a bank, keeping its features memory-mapped.
  public static func read(path: String) throws -> ReferenceBank {
    try read(SafeTensorsFile(path: path))
  }

  /// Loads a bank from an opened safetensors file (mapped, or bytes held in
  /// memory); messages name `file.path`.
  public static func read(_ file: SafeTensorsFile) throws -> ReferenceBank {
    let path = file.path
    func fail(_ reason: String) -> DensityError { .invalidBank(path: path, reason: reason) }
    if let problem = file.formatProblem(format: "bank", version: formatVersion, otherKinds: "weights or detector") { throw fail(problem) }
    guard let scorerName = file.metadata["scorer"], let scorer = ScorerKind(rawValue: scorerName) else {
      throw fail("unknown scorer '\(file.metadata["scorer"] ?? "(missing)")'")
    }
    guard let k = Int(file.metadata["k"] ?? ""), k >= 1 else { throw fail("metadata 'k' must be a positive integer") }
    let info = try file.info("features")
    guard info.dtype == .f32 || info.dtype == .bf16, info.shape.count == 2, info.shape[0] > 0, info.shape[1] > 0 else {
      throw fail("'features' must be a non-empty F32 or BF16 [N, D] tensor, found \(info.dtype.rawValue) \(info.shape)")
    }
    if info.dtype == .bf16, let refusal = scorer.lowPrecisionRefusal { throw fail(refusal) }
    let store = FeatureStore(file: file, info: info)
    if scorer.usesNeighbors && k > store.rows {
      throw fail("metadata 'k' is \(k), larger than the bank's \(store.rows) features (expected 1…\(store.rows))")
    }
    var gaussian: GaussianDensity?
    if scorer == .gaussian {
      let d = store.columns
      let mean = try file.doubles("gaussian.mean", shape: [d])
      let chol = try file.doubles("gaussian.cholesky", shape: [d, d])
      guard mean.allSatisfy(\.isFinite), chol.allSatisfy(\.isFinite) else { throw fail("non-finite Gaussian parameters") }
      gaussian = GaussianDensity(dimension: d, mean: mean, cholesky: chol, shrinkage: Double(file.metadata["gaussian_shrinkage"] ?? "") ?? 0)
    }
    var threshold: Float?
    if let t = file.metadata["threshold"] {
      guard let v = Float(t), v.isFinite else { throw fail("threshold '\(t)' is not a finite number") }
      threshold = v
    }
    guard let transform = FeatureTransform(rawValue: file.metadata["feature_transform"] ?? "none") else {
      throw fail("unknown feature_transform '\(file.metadata["feature_transform"] ?? "")'")
    }
    _ = try ShardIdentity(metadata: file.metadata, path: path)
    let bank = try ReferenceBank(
      scorer: scorer, k: k, transform: transform, store: store, threshold: threshold, metadata: file.metadata, gaussian: gaussian)
    // A NaN or Inf feature would make every distance to it NaN or Inf and the
    // kNN scores silently 0 or NaN. `fit` refuses such features; a file
    // edited afterwards is caught here from the row norms, which loading
    // computes anyway (a finite row too large to square is refused too).
    if let row = bank.norms.firstIndex(where: { !$0.isFinite }) {
      throw fail("'features' row \(row) is not finite (NaN, Inf, or too large to square); was the file edited?")
    }
    return bank
  }

  /// Refuses a bank whose provenance differs from the current run.
  ///
  /// - Parameters:
  ///   - bank: the loaded bank.
  ///   - path: the bank's file, for the message.
  ///   - expected: metadata keys and the values this run would write
  ///     (e.g. `backbone`, `weights_sha256`, `layer`); keys absent from the
  ///     bank are not checked.
  ///   - dimension: the feature dimension this run produces, if known; it
  ///     must equal the bank's.
  /// - Throws: `DensityError.incompatibleBank` for the first differing key
  ///   (in key order), then for the dimension.
  public static func checkCompatible(_ bank: ReferenceBank, path: String, expected: [String: String], dimension: Int?) throws {
    for key in expected.keys.sorted() {
      if let have = bank.metadata[key], let want = expected[key], have != want {
        throw DensityError.incompatibleBank(path: path, key: key, bank: have, current: want)
      }
    }
    if let dimension, dimension != bank.dimension {
      throw DensityError.incompatibleBank(path: path, key: "dimension", bank: String(bank.dimension), current: String(dimension))
    }
  }
}
