#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A read-only memory map of a whole file, or a private in-memory copy of
/// bytes standing in for one.
///
/// The mapping (or copy) is created once in `init` and released in `deinit`;
/// nothing else owns the pointer. Readers borrow the bytes through `withBytes`.
/// The in-memory form lets the file parsers (safetensors, and the bank and
/// detector loaders on top of it) run on bytes that never touched the disk,
/// which is what the fuzzers and their regression tests feed them.
///
/// `@unchecked Sendable`: the mapping is `PROT_READ` (the copy is never
/// written) and neither is remapped after `init`, so sharing it between
/// threads is a read-only share.
/// (If another process truncates the file while it is mapped, reads fault; this
/// is the usual mmap contract and the reason banks are replaced by rename,
/// never rewritten in place.)
public final class MappedFile: @unchecked Sendable {
  /// The mapped file's path, or the name given to an in-memory copy (used
  /// in messages).
  public let path: String
  /// Size of the file (or copy) in bytes.
  public let count: Int
  private let base: UnsafeMutableRawPointer?
  /// Whether `base` is a heap copy (freed) rather than a mapping (unmapped).
  private let isCopy: Bool

  /// Maps `path` read-only. A zero-byte file maps to an empty buffer.
  public init(path: String) throws {
    self.path = path
    isCopy = false
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

  /// A copy of `bytes` that reads like a mapped file named `path` (the
  /// name is only used in messages). Nothing is read from or written to disk.
  public init(copying bytes: UnsafeRawBufferPointer, path: String) {
    self.path = path
    isCopy = true
    count = bytes.count
    base = Self.copy(bytes)
  }

  /// A copy of the bytes of an array that reads like a mapped file named
  /// `path` (the name is only used in messages).
  public init(copying bytes: [UInt8], path: String) {
    self.path = path
    isCopy = true
    count = bytes.count
    base = bytes.withUnsafeBytes { Self.copy($0) }
  }

  /// A heap copy of `bytes` (nil when empty, like an empty mapping).
  private static func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer? {
    guard let source = bytes.baseAddress, !bytes.isEmpty else { return nil }
    let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 16)
    copy.copyMemory(from: source, byteCount: bytes.count)
    return copy
  }

  deinit {
    guard let base else { return }
    if isCopy { base.deallocate() } else { munmap(base, count) }
  }

  /// Calls `body` with the mapped bytes. The buffer must not escape `body`.
  @inline(__always)
  public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try body(UnsafeRawBufferPointer(start: base.map { UnsafeRawPointer($0) }, count: count))
  }
}
