import Foundation

/// Progress on standard error for long runs: silent for a handful of items,
/// then a line at every 10% (and at the end), as in mlx-swift-examples'
/// embedder tool. Lines, not carriage returns, so logs stay readable.
/// Updates are serialised by a lock, so the library's `@Sendable` progress
/// callbacks may call it from any thread.
final class Progress: @unchecked Sendable {
  private let lock = NSLock()
  private let label: String
  private let total: Int
  private let enabled: Bool
  private var nextMilestone = 1
  private let start = Date()

  /// - Parameter quietBelow: no output when `total` is below this (default 8).
  init(_ label: String, total: Int, quietBelow: Int = 8) {
    self.label = label
    self.total = total
    self.enabled = total >= quietBelow
  }

  func update(_ done: Int) {
    guard enabled, total > 0 else { return }
    lock.lock()
    defer { lock.unlock() }
    let tenth = done * 10 / total
    if tenth >= nextMilestone || done == total {
      let elapsed = Date().timeIntervalSince(start)
      let rate = elapsed > 0 ? Double(done) / elapsed : 0
      warn(String(format: "%@: %d/%d (%.0f%%, %.1f/s)", label, done, total, 100.0 * Double(done) / Double(total), rate))
      nextMilestone = tenth + 1
    }
  }
}
