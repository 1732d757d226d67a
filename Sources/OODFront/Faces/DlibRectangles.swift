/// dlib's `rectangle`: integer corners, `right` and `bottom` inclusive; empty
/// when `right < left` or `bottom < top`.
struct PixelBox: Sendable, Equatable {
  var left: Int
  var top: Int
  var right: Int
  var bottom: Int

  var width: Int { right - left + 1 }
  var height: Int { bottom - top + 1 }
  var isEmpty: Bool { right < left || bottom < top }
  /// `width · height`, 0 when empty.
  var area: Int { isEmpty ? 0 : width * height }

  func intersection(_ other: PixelBox) -> PixelBox {
    PixelBox(
      left: max(left, other.left), top: max(top, other.top), right: min(right, other.right),
      bottom: min(bottom, other.bottom))
  }

  /// The smallest box holding both (dlib's `a + b` for non-empty boxes).
  func union(_ other: PixelBox) -> PixelBox {
    PixelBox(
      left: min(left, other.left), top: min(top, other.top), right: max(right, other.right),
      bottom: max(bottom, other.bottom))
  }

  func contains(x: Int, y: Int) -> Bool { x >= left && x <= right && y >= top && y <= bottom }
}

/// dlib's `drectangle` (real corners).
struct RealBox: Sendable, Equatable {
  var left: Double
  var top: Double
  var right: Double
  var bottom: Double

  /// dlib's `drectangle → rectangle` conversion: each corner to `⌊v + 0.5⌋`.
  var rounded: PixelBox {
    PixelBox(
      left: Int((left + 0.5).rounded(.down)), top: Int((top + 0.5).rounded(.down)),
      right: Int((right + 0.5).rounded(.down)), bottom: Int((bottom + 0.5).rounded(.down)))
  }

  /// dlib's `centered_drect(p, w, h)`: `(p.x − (w−1)/2, p.y − (h−1)/2, p.x + (w−1)/2, p.y + (h−1)/2)`.
  static func centered(x: Double, y: Double, width: Double, height: Double) -> RealBox {
    let w = width - 1
    let h = height - 1
    return RealBox(left: x - w / 2, top: y - h / 2, right: x + w / 2, bottom: y + h / 2)
  }
}

/// dlib's `test_box_overlap(iou, percent_covered)`, the non-max suppression
/// test of `loss_mmod`: two boxes overlap when they intersect and
///
/// ```
/// |a ∩ b| / |a ∪ b| > iou  or  |a ∩ b| / |a| > covered  or  |a ∩ b| / |b| > covered
/// ```
///
/// with areas in pixels (inclusive corners) and `a ∪ b` the bounding box.
struct BoxOverlapTest: Sendable, Equatable {
  let iouThreshold: Double
  let coveredThreshold: Double

  func overlaps(_ a: PixelBox, _ b: PixelBox) -> Bool {
    let inner = Double(a.intersection(b).area)
    if inner == 0 { return false }
    let outer = Double(a.union(b).area)
    return inner / outer > iouThreshold || inner / Double(a.area) > coveredThreshold
      || inner / Double(b.area) > coveredThreshold
  }
}
