#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import TensorFiles

/// Feature rows appended to a scratch file as they are computed, so that a
/// fit over many images holds one batch of features in memory, not all of
/// them.
///
/// The scratch file is created in `folder` (the output's own folder by
/// default: `/tmp` is RAM on many systems) and unlinked at once, so it never
/// shows up in a listing and a killed process leaves nothing behind; the
/// kernel frees the space when the spool is closed. Rows are read back with
/// `pread`, not `mmap`, so reading the rows a fit keeps does not also count
/// every other row in the process's resident memory.
///
/// A spool is used from one thread (append, then read).
public final class FeatureSpool: FeatureRows {
  /// The width of every row.
  public let columns: Int
  /// Rows appended so far.
  public private(set) var rows = 0
  /// Where the scratch file lives (for messages).
  public let folder: String
  private let fd: Int32

  /// Creates an empty spool and its (already unlinked) scratch file.
  ///
  /// - Parameters:
  ///   - folder: an existing, writable folder for the scratch file.
  ///   - columns: the width of every row (at least 1, checked by a
  ///     precondition).
  /// - Throws: `TensorFileError.writeFailed` when the scratch file cannot
  ///   be created.
  public init(folder: String, columns: Int) throws {
    precondition(columns > 0, "a spool needs at least one column")
    self.folder = folder
    self.columns = columns
    var template = Array("\(folder)/.anomalykit-features-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress.unsafelyUnwrapped) }
    if fd < 0 {
      throw TensorFileError.writeFailed(
        path: folder, reason: "cannot create the feature scratch file: \(String(cString: strerror(errno)))")
    }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress.unsafelyUnwrapped) }
    self.fd = fd
  }

  deinit { close(fd) }

  /// Bytes the spool holds on disk.
  public var byteCount: Int { rows * columns * MemoryLayout<Float>.stride }

  /// Appends the rows of `batch` (same width as the spool).
  public func append(_ batch: FeatureMatrix) throws {
    guard batch.rows > 0 else { return }
    guard batch.columns == columns else {
      throw DensityError.dimensionMismatch(source: "feature batch", expected: columns, actual: batch.columns)
    }
    try batch.values.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let n = pwrite(fd, raw.baseAddress.unsafelyUnwrapped + offset, raw.count - offset, off_t(byteCount + offset))
        if n < 0 {
          if errno == EINTR { continue }
          throw TensorFileError.writeFailed(
            path: folder, reason: "feature scratch file: \(String(cString: strerror(errno))) after \(byteCount + offset) bytes")
        }
        offset += n
      }
    }
    rows += batch.rows
  }

  /// The rows in `indices`, in that order; runs of consecutive rows are read
  /// with one call.
  public func selecting(_ indices: [Int]) throws -> FeatureMatrix {
    var values = [Float](repeating: 0, count: indices.count * columns)
    let rowBytes = columns * MemoryLayout<Float>.stride
    try values.withUnsafeMutableBytes { out in
      var i = 0
      while i < indices.count {
        var j = i + 1
        while j < indices.count && indices[j] == indices[j - 1] + 1 { j += 1 }
        let first = indices[i]
        precondition(first >= 0 && indices[j - 1] < rows, "spool row out of range")
        try read(into: out.baseAddress.unsafelyUnwrapped + i * rowBytes, count: (j - i) * rowBytes, at: first * rowBytes)
        i = j
      }
    }
    return FeatureMatrix(rows: indices.count, columns: columns, values: values)
  }

  /// Every row.
  public func matrix() throws -> FeatureMatrix { try rows(0..<rows) }

  /// The rows in `range`.
  public func rows(_ range: Range<Int>) throws -> FeatureMatrix {
    var values = [Float](repeating: 0, count: range.count * columns)
    let rowBytes = columns * MemoryLayout<Float>.stride
    try values.withUnsafeMutableBytes { out in
      guard let base = out.baseAddress else { return }
      try read(into: base, count: range.count * rowBytes, at: range.lowerBound * rowBytes)
    }
    return FeatureMatrix(rows: range.count, columns: columns, values: values)
  }

  private func read(into destination: UnsafeMutableRawPointer, count: Int, at offset: Int) throws {
    var done = 0
    while done < count {
      let n = pread(fd, destination + done, count - done, off_t(offset + done))
      if n < 0 && errno == EINTR { continue }
      if n <= 0 {
        let reason = n < 0 ? String(cString: strerror(errno)) : "unexpected end of file"
        throw TensorFileError.cannotOpen(path: folder, reason: "feature scratch file: \(reason)")
      }
      done += n
    }
  }
}
