/// Pointwise nonlinearity applied after a convolution's bias.
public enum Activation: Sendable {
  case none
  /// `min(max(x, 0), 6)`, EfficientNet-Lite's activation (quantisation-friendly
  /// replacement for swish).
  case relu6
  /// `max(x, 0)`.
  case relu
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
      switch activation {
      case .none: break
      case .relu6: v = v.clamped(lowerBound: SIMD8(repeating: 0), upperBound: SIMD8(repeating: 6))
      case .relu: v = pointwiseMax(v, SIMD8(repeating: 0))
      }
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
