/// Pointwise nonlinearity applied after a convolution's bias.
public enum Activation: Sendable {
  case none
  /// `min(max(x, 0), 6)`, EfficientNet-Lite's activation (quantisation-friendly
  /// replacement for swish).
  case relu6
  /// `max(x, 0)`.
  case relu
}

extension Activation {
  /// Lane-wise activation. Written with masks (compare + blend) because the
  /// generic `pointwiseMin/Max` are not inlined and cost a call per vector.
  @inline(__always)
  func apply(_ x: SIMD8<Float>) -> SIMD8<Float> {
    var v = x
    switch self {
    case .none: break
    case .relu6:
      v.replace(with: 0, where: v .< 0)
      v.replace(with: 6, where: v .> 6)
    case .relu:
      v.replace(with: 0, where: v .< 0)
    }
    return v
  }
}

/// Adds a per-channel bias to every row of a `rows × channels` matrix and
/// applies `activation`, in one pass.
@inline(__always)
func addBiasActivate(
  _ x: UnsafeMutablePointer<Float>, rows: Int, channels: Int, bias: UnsafePointer<Float>, activation: Activation
) {
  let vec = channels & ~7
  for r in 0..<rows {
    let row = x + r * channels
    var c = 0
    while c < vec {
      var v = UnsafeRawPointer(row + c).loadUnaligned(as: SIMD8<Float>.self)
      v += UnsafeRawPointer(bias + c).loadUnaligned(as: SIMD8<Float>.self)
      v = activation.apply(v)
      UnsafeMutableRawPointer(row + c).storeBytes(of: v, as: SIMD8<Float>.self)
      c += 8
    }
    while c < channels {
      var v = row[c] + bias[c]
      switch activation {
      case .none: break
      case .relu6: v = min(max(v, 0), 6)
      case .relu: v = max(v, 0)
      }
      row[c] = v
      c += 1
    }
  }
}
