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
    /// Bytes appended so far through this writer.
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

    /// Appends the bytes of an array.
    public mutating func write(_ bytes: [UInt8]) throws {
      try bytes.withUnsafeBytes { try write($0) }
    }

    /// Appends the UTF-8 bytes of `string` (no terminator is added).
    public mutating func write(_ string: String) throws {
      try write(Array(string.utf8))
    }
  }

  /// Checks that `path` can be a destination: its folder exists and is a
  /// folder, and `path` itself is not a folder. A symbolic link is followed
  /// to its target (the link stays a link); a link loop is an error.
  ///
  /// The folder is probed by creating (and removing) a temporary file in
  /// it, the only test that also holds for root, read-only mounts and
  /// pseudo file systems.
  public static func checkDestination(_ path: String) throws {
    let (fd, tempPath) = try temporaryFile(beside: try resolvedDestination(path), for: path)
    close(fd)
    unlink(tempPath)
  }

  /// Creates `.NAME.tmp-XXXXXX` in the folder of `target`; errors name `path`.
  private static func temporaryFile(beside target: String, for path: String) throws -> (fd: Int32, path: String) {
    let folder = parentFolder(of: target)
    var template = Array("\(folder)/.\(baseName(of: target)).tmp-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress.unsafelyUnwrapped) }
    if fd < 0 {
      throw TensorFileError.writeFailed(path: path, reason: "cannot create files in '\(folder)': \(String(cString: strerror(errno)))")
    }
    return (fd, template.withUnsafeBufferPointer { String(cString: $0.baseAddress.unsafelyUnwrapped) })
  }

  /// The file that writing `path` replaces: `path` itself, or the target of
  /// the symbolic link at `path`.
  public static func resolvedDestination(_ path: String) throws -> String {
    var info = stat()
    var target = path
    if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
      if let resolved = realpath(path, nil) {
        target = String(cString: resolved)
        free(resolved)
      } else if errno == ENOENT, let link = linkTarget(path) {
        // A link to a file not written yet: create the file it names, as
        // `cp` and shell redirection do.
        target = link.hasPrefix("/") ? link : parentFolder(of: path) + "/" + link
      } else {
        let reason = errno == ELOOP ? "is a symbolic link loop" : "is a symbolic link that cannot be followed (\(String(cString: strerror(errno))))"
        throw TensorFileError.writeFailed(path: path, reason: reason + "; expected a file path")
      }
    }
    let folder = parentFolder(of: target)
    if stat(folder, &info) != 0 {
      let reason = errno == ENOENT ? "does not exist" : "cannot be used: \(String(cString: strerror(errno)))"
      throw TensorFileError.writeFailed(path: path, reason: "folder '\(folder)' \(reason)")
    }
    if (info.st_mode & S_IFMT) != S_IFDIR {
      throw TensorFileError.writeFailed(path: path, reason: "'\(folder)' is not a folder")
    }
    if stat(target, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
      throw TensorFileError.writeFailed(path: path, reason: "is a directory, expected a file path")
    }
    return target
  }

  /// Writes `path` atomically with the bytes `body` produces.
  ///
  /// - Parameters:
  ///   - path: the destination; a symbolic link there is followed and its
  ///     target replaced (see `resolvedDestination(_:)`).
  ///   - mode: permission bits of the new file (default 0o644).
  ///   - body: writes the contents through the `Writer`. If it throws, the
  ///     temporary file is removed and the destination is untouched.
  /// - Throws: `TensorFileError.writeFailed` naming `path` when the
  ///   destination cannot be used or a write, `fsync` or rename fails, and
  ///   whatever `body` throws.
  public static func write(to path: String, mode: mode_t = 0o644, _ body: (inout Writer) throws -> Void) throws {
    let target = try resolvedDestination(path)
    let folder = parentFolder(of: target)
    let (fd, tempPath) = try temporaryFile(beside: target, for: path)
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
    if rename(tempPath, target) != 0 {
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

  /// The contents of the symbolic link at `path`.
  static func linkTarget(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink(path, &buffer, buffer.count - 1)
    guard n > 0 else { return nil }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// The folder `path` is in (`.` for a bare name).
  public static func parentFolder(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let folder = String(path[..<slash])
    return folder.isEmpty ? "/" : folder
  }

  static func baseName(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
  }
}
