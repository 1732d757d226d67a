#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A read-only memory map of a whole file.
///
/// The mapping is created once in `init` and released in `deinit`; nothing
/// else owns the pointer. Readers borrow the bytes through `withBytes`.
///
/// `@unchecked Sendable`: the mapping is `PROT_READ` and never written or
/// remapped after `init`, so sharing it between threads is a read-only share.
/// (If another process truncates the file while it is mapped, reads fault; this
/// is the usual mmap contract and the reason banks are replaced by rename,
/// never rewritten in place.)
public final class MappedFile: @unchecked Sendable {
  public let path: String
  public let count: Int
  private let base: UnsafeMutableRawPointer?

  /// Maps `path` read-only. A zero-byte file maps to an empty buffer.
  public init(path: String) throws {
    self.path = path
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      throw TensorFileError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    var info = stat()
    if fstat(fd, &info) != 0 {
      throw TensorFileError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
    }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      throw TensorFileError.cannotOpen(path: path, reason: "is a directory, expected a file")
    }
    if (info.st_mode & S_IFMT) != S_IFREG {
      throw TensorFileError.cannotOpen(path: path, reason: "not a regular file")
    }
    count = Int(info.st_size)
    if count == 0 {
      base = nil
      return
    }
    let mapped = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
    if mapped == MAP_FAILED || mapped == nil {
      throw TensorFileError.cannotOpen(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
    }
    base = mapped
  }

  deinit {
    if let base { munmap(base, count) }
  }

  /// Calls `body` with the mapped bytes. The buffer must not escape `body`.
  @inline(__always)
  public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try body(UnsafeRawBufferPointer(start: base.map { UnsafeRawPointer($0) }, count: count))
  }
}
