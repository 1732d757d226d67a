/// The verdict of a cold-start detector on one input.
public struct ColdStartScore: Sendable, Equatable {
  /// The input scored: the text itself, or the image's path.
  public let input: String
  /// Distance to the nearest class prototype (higher is more anomalous).
  public let score: Float
  /// Whether the score is above the threshold; nil without one.
  public let anomalous: Bool?
  /// The class whose prototype is nearest.
  public let nearestClass: String
}
