/// One face found by `FaceDetector`, in the pixel coordinates of the image
/// given to `detect`, with dlib's rectangle convention: `right` and `bottom`
/// are inclusive, so the box is `right − left + 1` pixels wide. Boxes may
/// extend past the image edges, as dlib's do.
public struct FaceDetection: Sendable, Equatable {
  /// Left column of the box (inclusive).
  public let left: Int
  /// Top row of the box (inclusive).
  public let top: Int
  /// Right column of the box (inclusive).
  public let right: Int
  /// Bottom row of the box (inclusive).
  public let bottom: Int
  /// The detector's score at the window (dlib's `detection_confidence`);
  /// windows scoring above the threshold given to `detect` are reported.
  public let confidence: Float

  /// A detection with the given box and confidence.
  public init(left: Int, top: Int, right: Int, bottom: Int, confidence: Float) {
    self.left = left
    self.top = top
    self.right = right
    self.bottom = bottom
    self.confidence = confidence
  }

  /// Box width in pixels, `right − left + 1`.
  public var width: Int { right - left + 1 }
  /// Box height in pixels, `bottom − top + 1`.
  public var height: Int { bottom - top + 1 }
}
