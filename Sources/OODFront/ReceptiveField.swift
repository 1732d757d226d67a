/// Where one cell of a patch-score grid looks in the network input.
///
/// Cell `i` (along either axis) is computed from the input pixels
///
/// ```
/// offset + stride·i  ..<  offset + stride·i + size
/// ```
///
/// Pixels outside the input are the network's zero padding (of the
/// *normalised* input, i.e. the ImageNet mean colour).
public struct ReceptiveField: Sendable, Equatable {
  /// Side of the square window, in input pixels.
  public let size: Int
  /// Distance between the windows of neighbouring cells, in input pixels.
  public let stride: Int
  /// Input coordinate of the first window's first pixel (negative when it
  /// starts in the padding).
  public let offset: Int

  /// A field with the given window side, stride and offset, in input pixels.
  public init(size: Int, stride: Int, offset: Int) {
    self.size = size
    self.stride = stride
    self.offset = offset
  }

  /// The input pixels that cell `index` sees along one axis, clipped to
  /// `0..<extent`.
  public func pixels(ofCell index: Int, extent: Int) -> Range<Int> {
    let start = offset + stride * index
    return max(0, start)..<min(extent, start + size)
  }
}
