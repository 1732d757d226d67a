import Dispatch
import Hummingbird

/// Runs CPU-bound scoring jobs off Swift's cooperative thread pool, at most
/// `limit` at once, with a bounded queue and a bounded wait.
///
/// Feature extraction blocks a thread for tens of milliseconds and already
/// uses every core, so jobs run on Dispatch threads (the server's event
/// loops and tasks stay free to accept, read and answer) and extra requests
/// wait here. A request that finds `maxQueued` others waiting, or that waits
/// longer than `timeout`, is answered 503 with a JSON error instead of
/// piling up memory and latency.
actor JobQueue {
  private let limit: Int
  private let maxQueued: Int
  private let timeout: Duration
  private var running = 0
  private var nextID: UInt64 = 0
  private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, Error>)] = []
  /// Each waiter's timeout, cancelled when the waiter gets its slot.
  private var timers: [UInt64: Task<Void, Never>] = [:]

  init(limit: Int, maxQueued: Int, timeout: Duration) {
    self.limit = max(1, limit)
    self.maxQueued = max(0, maxQueued)
    self.timeout = timeout
  }

  /// Runs `body` on a Dispatch thread once a slot is free.
  func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await acquire()
    defer { release() }
    return try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try body() }) }
    }
  }

  private func acquire() async throws {
    if running < limit {
      running += 1
      return
    }
    guard waiters.count < maxQueued else {
      throw HTTPError(.serviceUnavailable, message: "busy: \(waiters.count) requests are already waiting; retry later")
    }
    let id = nextID
    nextID += 1
    let timeout = self.timeout
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
      waiters.append((id, continuation))
      timers[id] = Task {
        guard (try? await Task.sleep(for: timeout)) != nil else { return }
        self.expire(id)
      }
    }
  }

  /// Gives the slot to the oldest waiter, or frees it.
  private func release() {
    if waiters.isEmpty {
      running -= 1
    } else {
      let waiter = waiters.removeFirst()
      timers.removeValue(forKey: waiter.id)?.cancel()
      waiter.continuation.resume()
    }
  }

  private func expire(_ id: UInt64) {
    guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
    let waiter = waiters.remove(at: i)
    timers.removeValue(forKey: id)
    waiter.continuation.resume(
      throwing: HTTPError(.serviceUnavailable, message: "busy: waited \(timeout) for a scoring slot; retry later"))
  }
}
