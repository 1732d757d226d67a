/// The verdict on one image.
public struct ImageScore: Sendable {
  /// Creates a verdict from its parts.
  ///
  /// - Parameters:
  ///   - path: the image (or row) scored.
  ///   - score: its anomaly score.
  ///   - anomalous: whether the score is over the bank's threshold, or nil.
  ///   - map: per-location scores, row-major over the grid, or nil.
  ///   - gridHeight: rows of the location grid (1 for image banks).
  ///   - gridWidth: columns of the location grid (1 for image banks).
  public init(path: String, score: Float, anomalous: Bool?, map: [Float]?, gridHeight: Int, gridWidth: Int) {
    self.path = path
    self.score = score
    self.anomalous = anomalous
    self.map = map
    self.gridHeight = gridHeight
    self.gridWidth = gridWidth
  }

  /// The image's path, as given (or a label such as `FILE#ROW` for a
  /// feature row).
  public let path: String
  /// The anomaly score on the bank's scale, higher meaning more anomalous;
  /// for patch banks, the location scores pooled as the recipe says.
  public let score: Float
  /// `nil` when the bank has no calibrated threshold.
  public let anomalous: Bool?
  /// Per-location scores (`gridHeight × gridWidth`) for patch banks.
  public let map: [Float]?
  /// Rows of the location grid (1 for image banks).
  public let gridHeight: Int
  /// Columns of the location grid (1 for image banks).
  public let gridWidth: Int
}
