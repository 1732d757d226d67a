import CBLAS
import Dispatch
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Data parallelism over a fixed number of workers, with BLAS kept
/// single-threaded so the two levels never fight over cores.
///
/// AnomalyKit parallelises at the level of images (feature extraction) or
/// query blocks (kNN), never inside a single GEMM: each worker calls OpenBLAS
/// with one thread on its own slice. That keeps every GEMM's summation order
/// independent of the worker count, so a score is the same bit for bit
/// whether it was computed alone or in a batch.
public enum ParallelFor {
  /// Default worker count: the number of active processors (2 on the
  /// reference machine), overridable with `ANOMALYKIT_THREADS`.
  public static var defaultWorkers: Int {
    if let text = getenvString("ANOMALYKIT_THREADS"), let n = Int(text), n > 0 { return n }
    return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
  }

  /// Makes OpenBLAS run each call on the calling thread. Idempotent.
  public static func useSingleThreadedBLAS() {
    if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
  }

  /// Runs `body(worker)` for `worker` in `0..<workers`, concurrently, and
  /// returns when all have finished.
  public static func run(workers: Int, _ body: @Sendable (Int) -> Void) {
    useSingleThreadedBLAS()
    if workers <= 1 {
      body(0)
      return
    }
    DispatchQueue.concurrentPerform(iterations: workers, execute: body)
  }

  /// Splits `0..<count` into `workers` contiguous chunks and runs
  /// `body(range)` for each, concurrently.
  public static func chunks(count: Int, workers: Int = ParallelFor.defaultWorkers, _ body: @Sendable (Range<Int>) -> Void) {
    let w = max(1, min(workers, count))
    run(workers: w) { i in
      let lo = count * i / w
      let hi = count * (i + 1) / w
      if lo < hi { body(lo..<hi) }
    }
  }

  private static func getenvString(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
  }
}
