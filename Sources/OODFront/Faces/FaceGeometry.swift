/// A face box in pixel coordinates, dlib's `rectangle`: all four sides are
/// inclusive, so the box covers columns `left...right` and rows `top...bottom`
/// and is `right - left + 1` pixels wide. Sides may lie outside the image
/// (detectors report boxes that cross the border).
public struct FaceRect: Sendable, Hashable {
  /// Left column (inclusive).
  public var left: Int
  /// Top row (inclusive).
  public var top: Int
  /// Right column (inclusive).
  public var right: Int
  /// Bottom row (inclusive).
  public var bottom: Int

  /// A box with the given sides.
  public init(left: Int, top: Int, right: Int, bottom: Int) {
    self.left = left
    self.top = top
    self.right = right
    self.bottom = bottom
  }

  /// `right - left + 1`, or 0 for an empty box (dlib's `width()`).
  public var width: Int { isEmpty ? 0 : right - left + 1 }
  /// `bottom - top + 1`, or 0 for an empty box (dlib's `height()`).
  public var height: Int { isEmpty ? 0 : bottom - top + 1 }
  /// True when `left > right` or `top > bottom` (dlib's `is_empty()`).
  public var isEmpty: Bool { left > right || top > bottom }

  /// True when the box and a `width × height` image share at least one pixel.
  public func overlapsImage(width: Int, height: Int) -> Bool {
    !isEmpty && width > 0 && height > 0 && left < width && top < height && right >= 0 && bottom >= 0
  }
}

/// A landmark position in pixel coordinates: x to the right, y down, pixel
/// centres at integers (dlib's convention).
public struct FacePoint: Sendable, Hashable {
  /// Horizontal position in pixels, increasing to the right.
  public var x: Double
  /// Vertical position in pixels, increasing downwards.
  public var y: Double

  /// The point `(x, y)`.
  public init(x: Double, y: Double) {
    self.x = x
    self.y = y
  }
}
