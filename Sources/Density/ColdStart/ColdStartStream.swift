/// The observation stream of the cold-start protocol (ColdFusion's official
/// code): all `N` normal training observations plus `round(c·N)` anomalies
/// drawn without replacement from a pool, in a random order.
///
/// ```
/// a      = round(c·N)                                   (half to even, as numpy rounds)
/// chosen = first a entries of a random permutation of the pool
/// stream = random permutation of (normals 0…N−1, then the chosen anomalies)
/// ```
///
/// The randomness comes from `SplitMix64(seed)`: one permutation of the
/// pool, then one of the stream (Fisher–Yates), the same two draws as the
/// official code's `np.random.permutation` calls. The generator is not
/// numpy's, so a seed gives a different (equally random) stream than numpy
/// would; compare means over several seeds.
public struct ColdStartStream: Sendable, Equatable {
  /// One stream entry: a normal observation's or a pool anomaly's index.
  public enum Item: Sendable, Equatable {
    /// The normal observation at this index.
    case normal(Int)
    /// The pool anomaly at this index.
    case anomaly(Int)
  }

  /// The stream, in order.
  public let items: [Item]

  /// Draws the stream for `seed`.
  ///
  /// - Parameters:
  ///   - normalCount: N, the number of normal observations.
  ///   - poolCount: the number of anomalies in the pool.
  ///   - contamination: c ≥ 0, anomalies per normal observation.
  ///   - seed: seeds `SplitMix64`.
  /// - Throws: `DensityError.invalidArgument` for a negative or non-finite
  ///   contamination, or when `round(c·N)` exceeds the pool.
  public init(normalCount: Int, poolCount: Int, contamination: Double, seed: UInt64) throws {
    guard contamination >= 0, contamination.isFinite else {
      throw DensityError.invalidArgument("contamination must be ≥ 0, got \(contamination)")
    }
    let wanted = Int((contamination * Double(normalCount)).rounded(.toNearestOrEven))
    guard wanted <= poolCount else {
      throw DensityError.invalidArgument(
        "contamination \(contamination) asks for \(wanted) anomalies, but the pool holds only \(poolCount)")
    }
    var rng = SplitMix64(seed: seed)
    let chosen = rng.permutation(poolCount).prefix(wanted)
    let unshuffled = (0..<normalCount).map(Item.normal) + chosen.map(Item.anomaly)
    items = rng.permutation(unshuffled.count).map { unshuffled[$0] }
  }

  /// How many entries are anomalies.
  public var anomalyCount: Int { items.filter { if case .anomaly = $0 { true } else { false } }.count }
}
