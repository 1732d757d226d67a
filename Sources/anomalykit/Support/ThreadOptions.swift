import ArgumentParser
import Foundation
import ParallelCompute

/// `--threads N`: how many cores a command's workers use.
///
/// AnomalyKit parallelises over images and query blocks with one BLAS
/// thread per worker (`ParallelFor`), so N workers use N cores. A
/// distributed job that runs one `anomalykit` per core sets `--threads 1`
/// on each, so that processes do not fight over cores.
struct ThreadOptions: ParsableArguments {
  @Option(name: .long, help: "Worker threads for feature extraction and kNN search (default: every core, or ANOMALYKIT_THREADS). Each worker calls BLAS single-threaded, so N threads use N cores; give 1 when a scheduler runs one process per core.")
  var threads: Int?

  func validate() throws {
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
  }

  /// Makes `--threads` the worker count of everything the command runs
  /// (`ParallelFor.defaultWorkers` reads `ANOMALYKIT_THREADS`), and keeps
  /// BLAS calls made outside a worker single-threaded too.
  func apply() {
    guard let threads else { return }
    setenv("ANOMALYKIT_THREADS", String(threads), 1)
    ParallelFor.useSingleThreadedBLAS()
  }
}

/// A command with `--threads`; `AnomalyKitCommand.main` applies it before
/// the command runs.
protocol ThreadedCommand {
  var threading: ThreadOptions { get }
}
