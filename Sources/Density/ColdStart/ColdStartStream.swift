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
    case normal(Int)
    case anomaly(Int)
  }

  public let items: [Item]

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

  public var anomalyCount: Int { items.filter { if case .anomaly = $0 { true } else { false } }.count }
}
