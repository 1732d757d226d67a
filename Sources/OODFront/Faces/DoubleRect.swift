import Foundation

/// dlib's `drectangle`: a rectangle with `Double` sides, inclusive like
/// `FaceRect`, so its width is `right − left + 1` (0 when empty).
struct DoubleRect: Sendable, Equatable {
  var left: Double, top: Double, right: Double, bottom: Double

  /// The smallest rectangle holding both points (dlib's `drectangle(p1, p2)`).
  init(corner a: (x: Double, y: Double), corner b: (x: Double, y: Double)) {
    left = min(a.x, b.x); top = min(a.y, b.y); right = max(a.x, b.x); bottom = max(a.y, b.y)
  }

  init(left: Double, top: Double, right: Double, bottom: Double) {
    self.left = left; self.top = top; self.right = right; self.bottom = bottom
  }

  /// `drectangle(rectangle)`.
  init(_ rect: FaceRect) {
    self.init(left: Double(rect.left), top: Double(rect.top), right: Double(rect.right), bottom: Double(rect.bottom))
  }

  /// dlib's `centered_drect(p, width, height)`: `width − 1` and `height − 1`
  /// split evenly around `p`.
  init(center p: (x: Double, y: Double), width: Double, height: Double) {
    let w = width - 1, h = height - 1
    self.init(left: p.x - w / 2, top: p.y - h / 2, right: p.x + w / 2, bottom: p.y + h / 2)
  }

  var isEmpty: Bool { top > bottom || left > right }
  var width: Double { isEmpty ? 0 : right - left + 1 }
  var height: Double { isEmpty ? 0 : bottom - top + 1 }
  var area: Double { width * height }
  var center: (x: Double, y: Double) { ((left + right) / 2.0, (top + bottom) / 2.0) }
  var topLeft: (x: Double, y: Double) { (left, top) }
  var topRight: (x: Double, y: Double) { (right, top) }
  var bottomLeft: (x: Double, y: Double) { (left, bottom) }
  var bottomRight: (x: Double, y: Double) { (right, bottom) }

  func intersection(_ other: DoubleRect) -> DoubleRect {
    DoubleRect(left: max(left, other.left), top: max(top, other.top),
               right: min(right, other.right), bottom: min(bottom, other.bottom))
  }

  /// `grow_rect(rect, n)`: every side moved out by `n`.
  func grown(by n: Double) -> DoubleRect {
    DoubleRect(left: left - n, top: top - n, right: right + n, bottom: bottom + n)
  }

  func translated(dx: Double, dy: Double) -> DoubleRect {
    DoubleRect(left: left + dx, top: top + dy, right: right + dx, bottom: bottom + dy)
  }

  /// The conversion to dlib's integer `rectangle`: each side rounded with `⌊x + 0.5⌋`.
  var rounded: FaceRect {
    func r(_ v: Double) -> Int { Int((v + 0.5).rounded(.down)) }
    return FaceRect(left: r(left), top: r(top), right: r(right), bottom: r(bottom))
  }

  /// dlib's `rotate_point(center, p, angle)`: `p` turned by `angle` radians
  /// about `center` (`x' = cos·dx − sin·dy`, `y' = sin·dx + cos·dy`).
  static func rotate(_ p: (x: Double, y: Double), about c: (x: Double, y: Double), angle: Double) -> (x: Double, y: Double) {
    let s = sin(angle), co = cos(angle)
    let dx = p.x - c.x, dy = p.y - c.y
    return (co * dx - s * dy + c.x, s * dx + co * dy + c.y)
  }
}
