#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes a file so that readers see either the old file or the complete new
/// one, never a half-written one.
///
/// The bytes go to a temporary file in the destination's own folder (so the
/// rename cannot cross file systems), are flushed with `fsync`, and the temp
/// file is then renamed over the destination; the folder is fsynced too, so
/// the rename itself survives a crash. On any error the temp file is removed
/// and the destination is untouched.
public enum AtomicFile {
  /// A sink for the bytes of the file being written.
  public struct Writer {
    fileprivate let fd: Int32
    fileprivate let path: String
    public private(set) var bytesWritten = 0

    /// Appends `bytes`, retrying short writes.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
      guard var base = bytes.baseAddress else { return }
      var remaining = bytes.count
      while remaining > 0 {
        let n = Glibc.write(fd, base, remaining)
        if n < 0 {
          if errno == EINTR { continue }
          throw TensorFileError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
        remaining -= n
        base += n
        bytesWritten += n
      }
    }

    public mutating func write(_ bytes: [UInt8]) throws {
      try bytes.withUnsafeBytes { try write($0) }
    }

    public mutating func write(_ string: String) throws {
      try write(Array(string.utf8))
    }
  }

  /// Checks that `path` can be a destination: its folder exists and is a
  /// folder, and `path` itself is not a folder.
  public static func checkDestination(_ path: String) throws {
    let folder = parentFolder(of: path)
    var info = stat()
    if stat(folder, &info) != 0 {
      throw TensorFileError.writeFailed(path: path, reason: "folder '\(folder)' does not exist")
    }
    if (info.st_mode & S_IFMT) != S_IFDIR {
      throw TensorFileError.writeFailed(path: path, reason: "'\(folder)' is not a folder")
    }
    if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
      throw TensorFileError.writeFailed(path: path, reason: "is a directory, expected a file path")
    }
  }

  /// Writes `path` atomically with the bytes `body` produces.
  ///
  /// - Parameter mode: permission bits of the new file (default 0o644).
  public static func write(to path: String, mode: mode_t = 0o644, _ body: (inout Writer) throws -> Void) throws {
    try checkDestination(path)
    let folder = parentFolder(of: path)
    var template = Array("\(folder)/.\(baseName(of: path)).tmp-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress.unsafelyUnwrapped) }
    if fd < 0 {
      throw TensorFileError.writeFailed(path: path, reason: "cannot create a temporary file in '\(folder)': \(String(cString: strerror(errno)))")
    }
    let tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress.unsafelyUnwrapped) }
    var committed = false
    defer {
      if !committed {
        close(fd)
        unlink(tempPath)
      }
    }
    var writer = Writer(fd: fd, path: path)
    try body(&writer)
    if fchmod(fd, mode) != 0 || fsync(fd) != 0 {
      throw TensorFileError.writeFailed(path: path, reason: String(cString: strerror(errno)))
    }
    committed = true
    close(fd)
    if rename(tempPath, path) != 0 {
      let reason = String(cString: strerror(errno))
      unlink(tempPath)
      throw TensorFileError.writeFailed(path: path, reason: "rename failed: \(reason)")
    }
    let dirfd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dirfd >= 0 {
      fsync(dirfd)
      close(dirfd)
    }
  }

  /// Writes `bytes` to `path` atomically.
  public static func write(_ bytes: [UInt8], to path: String) throws {
    try write(to: path) { try $0.write(bytes) }
  }

  static func parentFolder(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let folder = String(path[..<slash])
    return folder.isEmpty ? "/" : folder
  }

  static func baseName(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
  }
}
