import Density

/// The detector a running service adapts online, and its file.
///
/// Observations arrive one request at a time; each batch replaces the
/// detector with `adapting(_:)` (the ColdFusion / predictive update), and the
/// file is rewritten atomically (`DetectorFile.write`: temp file, fsync,
/// rename) once `persistEvery` observations have arrived since the last
/// write, and on shutdown. A crash loses at most those observations, never
/// the file.
actor DetectorStore {
  private(set) var detector: ColdStartDetector
  let path: String
  let persistEvery: Int
  let toolkitVersion: String
  private var unsaved = 0

  init(_ model: DetectorModel, persistEvery: Int) {
    detector = model.detector
    path = model.path
    self.persistEvery = max(1, persistEvery)
    toolkitVersion = model.toolkitVersion
  }

  /// Adapts to `rows` and persists when the cadence says so.
  /// - Returns: observations in all, and whether the file was written.
  func adapt(_ rows: FeatureMatrix, source: String) throws -> (observations: Int, persisted: Bool) {
    detector = try detector.adapting(rows, source: source)
    unsaved += rows.rows
    var persisted = false
    if unsaved >= persistEvery {
      try persist()
      persisted = true
    }
    return (detector.observations.rows, persisted)
  }

  /// Writes the detector if anything changed since the last write.
  func persist() throws {
    guard unsaved > 0 else { return }
    try DetectorFile.write(detector, to: path, toolkitVersion: toolkitVersion)
    unsaved = 0
  }
}
