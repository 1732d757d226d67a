/// A face box in pixel coordinates, dlib's `rectangle`: all four sides are
/// inclusive, so the box covers columns `left...right` and rows `top...bottom`
/// and is `right - left + 1` pixels wide. Sides may lie outside the image
/// (detectors report boxes that cross the border).
public struct FaceRect: Sendable, Hashable {
  public var left: Int
  public var top: Int
  public var right: Int
  public var bottom: Int

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
  public var x: Double
  public var y: Double

  public init(x: Double, y: Double) {
    self.x = x
    self.y = y
  }
}
