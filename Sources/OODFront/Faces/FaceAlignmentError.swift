/// Errors from face landmarking and chip extraction. Each says which input
/// was wrong and what was expected.
public enum FaceAlignmentError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The shape-predictor weights file is not what `ShapePredictor` reads.
  case invalidShapePredictor(path: String, reason: String)
  /// The image has no pixels.
  case emptyImage(width: Int, height: Int)
  /// The face box is empty or shares no pixel with the image.
  case boxOutsideImage(box: FaceRect, width: Int, height: Int)
  /// A chip needs the predictor's 5 landmarks.
  case wrongLandmarkCount(expected: Int, actual: Int)
  /// A landmark is NaN or infinite.
  case nonFiniteLandmark(index: Int)
  /// Chip size or padding out of range.
  case invalidChipParameters(size: Int, padding: Double)

  public var description: String {
    switch self {
    case .invalidShapePredictor(let path, let reason):
      return "\(path): not a dlib shape predictor weights file: \(reason)"
    case .emptyImage(let w, let h):
      return "the image is empty (\(w)×\(h) pixels)"
    case .boxOutsideImage(let b, let w, let h):
      let what = b.isEmpty ? "is empty" : "lies entirely outside the \(w)×\(h) image"
      return "the face box (left \(b.left), top \(b.top), right \(b.right), bottom \(b.bottom)) \(what)"
    case .wrongLandmarkCount(let expected, let actual):
      return "a face chip needs \(expected) landmarks (dlib's 5-point shape), got \(actual)"
    case .nonFiniteLandmark(let i):
      return "landmark \(i) is not a finite number"
    case .invalidChipParameters(let size, let padding):
      return "face chip size must be ≥ 1 and padding a finite number ≥ 0 (got size \(size), padding \(padding))"
    }
  }
}
