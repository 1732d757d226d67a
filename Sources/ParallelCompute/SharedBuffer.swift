/// A pointer handed to parallel workers that write disjoint parts of one
/// buffer.
///
/// `@unchecked Sendable`: the pointer itself is just an address; safety rests
/// on the contract that each worker writes only the rows (or elements) it was
/// given, and that the owner keeps the buffer alive and unread until
/// `ParallelFor.run` returns. Every use in AnomalyKit partitions by row.
public struct SharedBuffer<Element>: @unchecked Sendable {
  public let base: UnsafeMutablePointer<Element>
  public let count: Int

  public init(_ buffer: UnsafeMutableBufferPointer<Element>) {
    // A zero-length buffer may have no base address. Its pointer is never
    // dereferenced, so an aligned placeholder address serves (allocating one
    // here would leak on every empty buffer).
    self.base = buffer.baseAddress ?? emptyPlaceholder()
    self.count = buffer.count
  }

  @inline(__always) public subscript(i: Int) -> Element {
    get { base[i] }
    nonmutating set { base[i] = newValue }
  }
}

/// A read-only pointer shared with parallel workers (see `SharedBuffer`).
public struct SharedReadOnlyBuffer<Element>: @unchecked Sendable {
  public let base: UnsafePointer<Element>
  public let count: Int

  public init(_ buffer: UnsafeBufferPointer<Element>) {
    self.base = buffer.baseAddress ?? UnsafePointer(emptyPlaceholder())
    self.count = buffer.count
  }

  @inline(__always) public subscript(i: Int) -> Element { base[i] }
}

/// An aligned, never-dereferenced address standing in for the base of an
/// empty buffer.
@inline(__always)
private func emptyPlaceholder<Element>() -> UnsafeMutablePointer<Element> {
  UnsafeMutablePointer<Element>(bitPattern: MemoryLayout<Element>.alignment).unsafelyUnwrapped
}
