#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A pthread mutex owned by a class (so its address never moves).
///
/// `@unchecked Sendable`: a mutex exists to be shared between threads; all
/// access to the guarded state goes through `withLock`.
public final class Mutex: @unchecked Sendable {
  private let handle: UnsafeMutablePointer<pthread_mutex_t>

  public init() {
    handle = .allocate(capacity: 1)
    pthread_mutex_init(handle, nil)
  }

  deinit {
    pthread_mutex_destroy(handle)
    handle.deallocate()
  }

  public func withLock<R>(_ body: () throws -> R) rethrows -> R {
    pthread_mutex_lock(handle)
    defer { pthread_mutex_unlock(handle) }
    return try body()
  }
}
