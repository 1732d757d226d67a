import Density
import TensorFiles

/// Shard `index` of `count` of a fit too large for one machine
/// (`anomalykit fit --shard i/N`).
///
/// Every shard's worker is given the same inputs and settings; shard i
/// fits on the i-th contiguous slice of the inputs, so the shards together
/// hold every input once and no worker needs another's rows. Their
/// `ShardIdentity.parentSHA256` is a digest of the whole fit (`digest`),
/// which ties the files to one another as a parent bank's hash would.
///
/// Two settings change under sharding:
/// - **The coreset must be random.** A random coreset of each slice is a
///   random coreset of the whole; k-center greedy needs every row at once
///   (each pick depends on all the earlier ones), so it is refused.
/// - **No per-shard threshold.** A threshold cross-fitted inside one shard
///   would sit on a 1/N bank's scale. Hold out normal images, score them
///   against all shards and calibrate the merged scores
///   (`ShardSet.calibrated(scores:fpr:)`, `merge-scores --calibrate-fpr`).
public struct ShardedFit: Sendable, Equatable {
  /// This shard, 0 ≤ index < count.
  public let index: Int
  /// Shards in the fit.
  public let count: Int

  /// Shard `index` of `count`.
  ///
  /// - Throws: `AnomalyKitError.invalidConfiguration` unless
  ///   0 ≤ index < count.
  public init(index: Int, of count: Int) throws {
    guard count >= 1, (0..<count).contains(index) else {
      throw AnomalyKitError.invalidConfiguration("shard \(index)/\(count): need 0 ≤ i < N (shards count from 0)")
    }
    self.index = index
    self.count = count
  }

  /// Parses `i/N`, e.g. `0/4`.
  public init?(_ text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), let shard = try? ShardedFit(index: i, of: n) else { return nil }
    self = shard
  }

  /// This shard's slice of `items`: items ⌊n·i/N⌋ ..< ⌊n·(i+1)/N⌋.
  ///
  /// - Throws: `AnomalyKitError.invalidInput` when there are fewer items
  ///   than shards (some shard would be empty).
  public func slice<T>(_ items: [T]) throws -> ArraySlice<T> {
    guard items.count >= count else {
      throw AnomalyKitError.invalidInput("\(count) shards need at least \(count) inputs, given \(items.count)")
    }
    return items[(items.count * index / count)..<(items.count * (index + 1) / count)]
  }

  /// The configuration a shard fits with: `configuration` without a
  /// threshold (holdout 0).
  ///
  /// - Throws: `AnomalyKitError.invalidConfiguration` for a greedy coreset,
  ///   a scorer that does not shard, or a threshold asked for.
  public func configuration(_ configuration: BankConfiguration) throws -> BankConfiguration {
    if let refusal = configuration.scorer.shardingRefusal { throw AnomalyKitError.invalidConfiguration(refusal) }
    if let c = configuration.coreset, c < 1, configuration.coresetMethod == .greedy {
      throw AnomalyKitError.invalidConfiguration(
        "a sharded fit cannot use the greedy coreset: k-center greedy picks each row against every row picked so far, "
          + "over the whole bank, which no shard holds; use --coreset-method random (a random sample of each shard is a "
          + "random sample of the whole)")
    }
    var c = configuration
    c.holdout = 0
    return c
  }

  /// SHA-256 of the whole fit: the shard count, every input in order and
  /// the settings that shape the bank. Equal for every shard of one fit.
  public static func digest(inputs: [String], count: Int, configuration c: BankConfiguration) -> String {
    var text = "anomalykit sharded fit\nshards=\(count)\n"
    var settings = c.recipe.metadata
    settings["scorer"] = c.scorer.rawValue
    settings["k"] = String(c.k)
    settings["feature_transform"] = c.transform.rawValue
    settings["input_size"] = c.inputSize.map(String.init) ?? "native"
    settings["coreset"] = c.coreset.map { "\($0)" } ?? "none"
    settings["coreset_method"] = c.coresetMethod.rawValue
    settings["seed"] = String(c.seed)
    if c.bankDType != .f32 { settings["bank_dtype"] = c.bankDType.rawValue }
    for key in settings.keys.sorted() { text += "\(key)=\(settings[key] ?? "")\n" }
    for input in inputs { text += "input=\(input)\n" }
    return SHA256.hex(of: Array(text.utf8))
  }

  /// The identity this shard's bank records.
  public func identity(inputs: [String], configuration: BankConfiguration) -> ShardIdentity {
    ShardIdentity(
      index: index, count: count, parentSHA256: Self.digest(inputs: inputs, count: count, configuration: configuration),
      rowOffset: ShardIdentity.fitRowOffset(index: index))
  }

  /// The coreset seed of this shard: the fit's seed plus the index, so
  /// that shards of equal size do not sample the same positions.
  public func seed(_ fitSeed: UInt64) -> UInt64 { fitSeed &+ UInt64(index) }
}
