/// Errors loading or running dlib's face networks (`FaceEmbedder`,
/// `FaceDetector`). Each names the file or the input at fault.
public enum FaceNetworkError: Error, CustomStringConvertible, Sendable {
  /// The file is a safetensors file but not the network that was asked for
  /// (e.g. a detector given to `FaceEmbedder`).
  case wrongArchitecture(path: String, found: String, expected: String)
  /// A tensor or metadata value is missing, has the wrong shape or is not finite.
  case malformedWeights(path: String, reason: String)
  /// A face chip is not the size the embedder was trained on.
  case wrongChipSize(index: Int, width: Int, height: Int, expected: Int)
  /// An image (after upsampling) is larger than the detector's pixel budget.
  case imageTooLarge(width: Int, height: Int, upsample: Int, pixels: Int, budget: Int)
  /// A detection argument is out of range.
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .wrongArchitecture(let path, let found, let expected):
      return "\(path): architecture '\(found)', expected '\(expected)'"
    case .malformedWeights(let path, let reason):
      return "\(path): malformed weights: \(reason)"
    case .wrongChipSize(let index, let width, let height, let expected):
      return "face chip \(index) is \(width)×\(height), expected \(expected)×\(expected) (align it with the 5-point face chip first)"
    case .imageTooLarge(let width, let height, let upsample, let pixels, let budget):
      let scaled = upsample > 0 ? " (\(pixels) pixels after upsampling \(upsample)×)" : ""
      return "image \(width)×\(height)\(scaled) is above the detector's budget of \(budget) pixels"
    case .invalidArgument(let message):
      return message
    }
  }
}
