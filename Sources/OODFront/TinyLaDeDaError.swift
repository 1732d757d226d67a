/// Why a Tiny-LaDeDa weights file or input was refused. Every case names
/// the file (and the tensor, where there is one).
public enum TinyLaDeDaError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file is a PyTorch checkpoint, not a converted safetensors file.
  case unconvertedCheckpoint(path: String)
  /// The metadata says this is not a Tiny-LaDeDa weights file this loader
  /// understands.
  case notTinyLaDeDa(path: String, reason: String)
  /// A tensor of the architecture is missing.
  case missingTensor(path: String, tensor: String)
  /// A tensor that is not part of the architecture.
  case unexpectedTensor(path: String, tensor: String, shape: [Int])
  /// A tensor with the wrong shape.
  case wrongShape(path: String, tensor: String, expected: [Int], found: [Int])
  /// A NaN or infinity in a weight, or a negative BN variance.
  case invalidValue(path: String, tensor: String, reason: String)
  /// An input smaller than the network's receptive field.
  case inputTooSmall(width: Int, height: Int, minimum: Int)

  public var description: String {
    switch self {
    case .unconvertedCheckpoint(let p):
      return "\(p): this is a PyTorch checkpoint, not a converted weights file; convert it first with "
        + "`python3 Weights/convert.py tiny-ladeda --pth \(p) --out tiny-ladeda.safetensors`"
    case .notTinyLaDeDa(let p, let reason):
      return "\(p): not a Tiny-LaDeDa weights file: \(reason)"
    case .missingTensor(let p, let t):
      return "\(p): Tiny-LaDeDa weights without tensor '\(t)' (convert the authors' .pth with Weights/convert.py tiny-ladeda)"
    case .unexpectedTensor(let p, let t, let shape):
      return "\(p): tensor '\(t)' \(shape) is not part of Tiny-LaDeDa"
    case .wrongShape(let p, let t, let expected, let found):
      return "\(p): Tiny-LaDeDa weights with the wrong shapes: tensor '\(t)' is \(found), expected \(expected)"
    case .invalidValue(let p, let t, let reason):
      return "\(p): tensor '\(t)': \(reason)"
    case .inputTooSmall(let w, let h, let minimum):
      return "input of \(w)×\(h) pixels is smaller than Tiny-LaDeDa's \(minimum)×\(minimum) receptive field"
    }
  }
}
