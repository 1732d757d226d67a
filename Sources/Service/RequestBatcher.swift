import Hummingbird

/// Runs the items of concurrent requests through one batched call.
///
/// The sentence encoder and the image backbone are much faster per item on
/// a batch (one large GEMM instead of many small ones), and a service gets
/// one text or one image per request. While a batch is being processed, new
/// requests queue here; when it finishes, everything queued (up to
/// `maxBatch` items) becomes the next batch, and each request gets its own
/// outputs back. An idle service processes a lone request at once, so
/// batching adds no latency without load.
///
/// If a batch fails (one corrupt upload, say), its requests are retried one
/// by one, so only the request at fault gets the error.
///
/// The service's queue limits apply here, where requests wait: a request
/// that finds `maxQueued` others waiting gets 503 at once, and one that
/// waited longer than `timeout` before its batch started gets 503 instead of
/// being processed.
actor RequestBatcher<Item: Sendable, Output: Sendable> {
  typealias Process = @Sendable ([Item]) throws -> [Output]
  private let process: Process
  private let jobs: JobQueue
  private let maxBatch: Int
  private let maxQueued: Int
  private let timeout: Duration
  private var pending: [(items: [Item], since: ContinuousClock.Instant, continuation: CheckedContinuation<[Output], Error>)] = []
  private var draining = false

  init(jobs: JobQueue, maxBatch: Int, maxQueued: Int, timeout: Duration, process: @escaping Process) {
    self.process = process
    self.jobs = jobs
    self.maxBatch = max(1, maxBatch)
    self.maxQueued = max(0, maxQueued)
    self.timeout = timeout
  }

  /// One output per item, in order.
  func run(_ items: [Item]) async throws -> [Output] {
    guard pending.count < maxQueued || !draining else {
      throw HTTPError(.serviceUnavailable, message: "busy: \(pending.count) requests are already waiting; retry later")
    }
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[Output], Error>) in
      pending.append((items, ContinuousClock.now, continuation))
      if !draining {
        draining = true
        Task { await self.drain() }
      }
    }
  }

  private func drain() async {
    while !pending.isEmpty {
      let now = ContinuousClock.now
      for request in pending where now - request.since > timeout {
        request.continuation.resume(
          throwing: HTTPError(.serviceUnavailable, message: "busy: waited more than \(timeout) for a scoring slot; retry later"))
      }
      pending.removeAll { now - $0.since > timeout }
      if pending.isEmpty { break }
      var count = 0
      var taken = 0
      while taken < pending.count && (taken == 0 || count + pending[taken].items.count <= maxBatch) {
        count += pending[taken].items.count
        taken += 1
      }
      let batch = Array(pending.prefix(taken))
      pending.removeFirst(taken)
      let process = self.process
      let all = batch.flatMap(\.items)
      do {
        let outputs = try await jobs.run { try process(all) }
        var start = 0
        for request in batch {
          request.continuation.resume(returning: Array(outputs[start..<(start + request.items.count)]))
          start += request.items.count
        }
      } catch where batch.count > 1 {
        for request in batch {
          let items = request.items
          do {
            request.continuation.resume(returning: try await jobs.run { try process(items) })
          } catch {
            request.continuation.resume(throwing: error)
          }
        }
      } catch {
        for request in batch { request.continuation.resume(throwing: error) }
      }
    }
    draining = false
  }
}
