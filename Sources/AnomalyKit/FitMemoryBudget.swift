#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Density
import Foundation

/// Checks, before any image is read, that a fit's features fit the memory
/// budget (`BankConfiguration.maxFitMemory`, `--max-fit-memory`) and that the feature spool fits on disk.
///
/// Features stream to a scratch file as they are computed (`FeatureSpool`),
/// so images are never held and memory grows with what the fit keeps:
///
/// - random coreset (fraction f of R = images × locations rows of width D):
///   the bank's M = f·R rows are read back; with the transformed copy and the
///   cross-fitting fold banks, about `4·M·D·4` bytes;
/// - no coreset (image banks) or k-center greedy: every row is read back
///   (greedy also keeps a 128-d projection and two per-row arrays), about
///   `4·R·D·4 (+ R·130·4)` bytes.
///
/// The factor 4 is a safe upper bound: the bank, a cross-fitting fold's bank
/// and the write buffer measured 2.7 × the bank's bytes of peak RSS per
/// image bank row, and 1.8 × for a random-coreset patch bank
/// (Notebooks-export/reliability.md). The backbone and one batch of
/// activations (about 130 MB) come on top.
public struct FitMemoryBudget: Sendable {
  /// The default budget: half the machine's physical memory.
  public static var defaultBytes: Int {
    let pages = sysconf(Int32(_SC_PHYS_PAGES))
    let size = sysconf(Int32(_SC_PAGESIZE))
    guard pages > 0, size > 0 else { return 8 << 30 }
    return pages * size / 2
  }

  /// Feature rows the fit computes: images × locations.
  public let sourceRows: Int
  /// Width of a feature row.
  public let columns: Int
  /// Rows the bank keeps (after a coreset).
  public let bankRows: Int
  /// Whether every source row is read back into memory (no coreset, or greedy).
  public let readsEveryRow: Bool
  let greedy: Bool

  /// The budget of a fit on `images` images of `rowsPerImage` feature rows
  /// of width `columns`, keeping a `coreset` fraction chosen by `method`
  /// (nil: every row), with at least `k` rows.
  public init(images: Int, rowsPerImage: Int, columns: Int, k: Int, coreset: Double?, method: Coreset.Method) {
    let (r, overflow) = images.multipliedReportingOverflow(by: rowsPerImage)
    sourceRows = overflow ? Int.max / 1024 : r
    self.columns = columns
    if let f = coreset, f > 0, f < 1 {
      bankRows = max(k, Int((Double(sourceRows) * f).rounded()))
      readsEveryRow = method == .greedy
      greedy = method == .greedy
    } else {
      bankRows = sourceRows
      readsEveryRow = true
      greedy = false
    }
  }

  /// Bytes of the features on disk.
  public var spoolBytes: Double { Double(sourceRows) * Double(columns) * 4 }

  /// Estimated bytes of feature memory (see above).
  public var memoryBytes: Double {
    let rows = Double(readsEveryRow ? sourceRows : bankRows)
    var bytes = 4 * rows * Double(columns) * 4
    if greedy { bytes += Double(sourceRows) * 130 * 4 }
    return bytes
  }

  /// Throws when the estimate is over `budget` or the spool would not fit
  /// in `scratchFolder`.
  ///
  /// - Throws: `AnomalyKitError.overBudget` saying what would be needed and
  ///   what to change.
  public func check(budget: Int, scratchFolder: String) throws {
    if memoryBytes > Double(budget) {
      var advice = "raise maxFitMemory (--max-fit-memory)"
      if readsEveryRow && bankRows < sourceRows {
        advice = "use the random coreset method (--coreset-method random; it reads back only the rows it keeps) or " + advice
      } else if bankRows == sourceRows && sourceRows > 1 {
        advice = "fit on fewer images, use patches with a --coreset, or " + advice
      }
      throw AnomalyKitError.overBudget(
        "fit: \(sourceRows) feature rows of \(columns) dimensions need about \(Self.format(Int(memoryBytes))) of memory, "
          + "over the budget of \(Self.format(budget)) (--max-fit-memory); \(advice)")
    }
    var fs = statvfs()
    if statvfs(scratchFolder, &fs) == 0, fs.f_blocks > 0 {  // pseudo file systems report no blocks
      let free = Double(fs.f_bavail) * Double(fs.f_frsize)
      if spoolBytes > free {
        throw AnomalyKitError.overBudget(
          "\(scratchFolder): not enough free space for the feature scratch file: \(Self.format(Int(spoolBytes))) needed, "
            + "\(Self.format(Int(free))) free (choose another folder with --scratch-dir)")
      }
    }
  }

  /// `12.0 GiB`, `340 MiB`, `512 bytes`.
  public static func format(_ bytes: Int) -> String {
    let units = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")]
    for (shift, name) in units where bytes >= 1 << shift {
      return String(format: "%.1f %@", Double(bytes) / Double(1 << shift), name)
    }
    return "\(bytes) bytes"
  }
}
