import Dispatch
import TensorFiles

/// Runs CPU-bound, blocking `work` on a Dispatch queue instead of Swift's
/// cooperative thread pool, whose few threads must never block, and
/// resumes with its result. The caller's `ReadLimits` (a task local) go
/// with it.
package func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
  let limits = ReadLimits.current
  return try await withCheckedThrowingContinuation { continuation in
    DispatchQueue.global(qos: .userInitiated).async {
      continuation.resume(with: Result { try ReadLimits.$current.withValue(limits) { try work() } })
    }
  }
}
