import Density
import Foundation

/// The detector a running service scores with, and its file.
///
/// **Writer** (the default): observations arrive one request at a time;
/// each batch replaces the detector with `adapting(_:)` (the ColdFusion /
/// predictive update), and the file is rewritten atomically
/// (`DetectorFile.write`: temp file, fsync, rename) once `persistEvery`
/// observations have arrived since the last write, and on shutdown. A crash
/// loses at most those observations, never the file. Each write bumps the
/// file's `generation` (metadata), the count of writes so far.
///
/// **Reader** (`serve --read-only`, for replicas behind a load balancer):
/// refuses observations and, before each request, checks the file's inode,
/// size and modification time (one `stat`); when the writer has renamed a
/// new file into place, it loads it. A reader thus serves the writer's last
/// persisted generation, at most one request late, and `/v1/info` says
/// which. One writer and any number of readers may share the file; two
/// writers would overwrite each other's observations.
actor DetectorStore {
  private(set) var detector: ColdStartDetector
  let path: String
  let persistEvery: Int
  let toolkitVersion: String
  /// Serves the file and refuses observations.
  let readOnly: Bool
  private var unsaved = 0
  private var stamp: FileStamp?

  init(_ model: DetectorModel, persistEvery: Int, readOnly: Bool) {
    detector = model.detector
    path = model.path
    self.persistEvery = max(1, persistEvery)
    toolkitVersion = model.toolkitVersion
    self.readOnly = readOnly
    stamp = FileStamp(path: model.path)
  }

  /// Writes of the file so far: the `generation` of the detector served.
  var generation: Int { Int(detector.metadata["generation"] ?? "") ?? 0 }

  /// The detector to score with: for a reader, the file's latest
  /// generation (reloaded if the file was replaced; a file that cannot be
  /// read, say mid-copy by hand, keeps the previous one until it can).
  func current() -> ColdStartDetector {
    guard readOnly else { return detector }
    let now = FileStamp(path: path)
    if let now, now != stamp, let fresh = try? DetectorFile.read(path: path) {
      detector = fresh
      stamp = now
    }
    return detector
  }

  /// Adapts to `rows` and persists when the cadence says so.
  /// - Returns: observations in all, and whether the file was written.
  func adapt(_ rows: FeatureMatrix, source: String) throws -> (observations: Int, persisted: Bool) {
    precondition(!readOnly, "a read-only store does not adapt")
    detector = try detector.adapting(rows, source: source)
    unsaved += rows.rows
    var persisted = false
    if unsaved >= persistEvery {
      try persist()
      persisted = true
    }
    return (detector.observations.rows, persisted)
  }

  /// Writes the detector, as the next generation, if anything changed
  /// since the last write.
  func persist() throws {
    guard unsaved > 0 else { return }
    var next = detector
    next.metadata["generation"] = String(generation + 1)
    try DetectorFile.write(next, to: path, toolkitVersion: toolkitVersion)
    detector = next
    unsaved = 0
  }
}

/// What changes when a file is replaced by rename or rewritten: inode,
/// size and modification time (to the nanosecond).
struct FileStamp: Equatable {
  let inode: UInt64
  let size: Int64
  let modified: Int64

  init?(path: String) {
    var s = stat()
    guard stat(path, &s) == 0 else { return nil }
    inode = UInt64(s.st_ino)
    size = Int64(s.st_size)
    modified = Int64(s.st_mtim.tv_sec) * 1_000_000_000 + Int64(s.st_mtim.tv_nsec)
  }
}
