/// The verdict on one image.
public struct ImageScore: Sendable {
  public init(path: String, score: Float, anomalous: Bool?, map: [Float]?, gridHeight: Int, gridWidth: Int) {
    self.path = path
    self.score = score
    self.anomalous = anomalous
    self.map = map
    self.gridHeight = gridHeight
    self.gridWidth = gridWidth
  }

  public let path: String
  public let score: Float
  /// `nil` when the bank has no calibrated threshold.
  public let anomalous: Bool?
  /// Per-location scores (`gridHeight × gridWidth`) for patch banks.
  public let map: [Float]?
  public let gridHeight: Int
  public let gridWidth: Int
}
