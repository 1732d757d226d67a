import CKernels

/// Pointwise nonlinearity applied after a convolution's or linear layer's bias.
package enum Activation: Sendable {
  /// The identity: the value after the bias is kept as it is.
  case none
  /// `min(max(x, 0), 6)`, EfficientNet-Lite's activation (quantisation-friendly
  /// replacement for swish).
  case relu6
  /// `max(x, 0)`.
  case relu
  /// The exact GELU of BERT-style transformers, `x · ½ · (1 + erf(x/√2))`
  /// (not the tanh approximation): `ak_gelu_erf`, whose erf is vectorised
  /// with AVX2 + FMA and the C library's `erff` elsewhere.
  case geluErf
}

extension Activation {
  /// The same activation as the C kernels spell it.
  var kernelValue: ak_activation {
    switch self {
    case .none: return AK_ACTIVATION_NONE
    case .relu6: return AK_ACTIVATION_RELU6
    case .relu: return AK_ACTIVATION_RELU
    case .geluErf: return AK_ACTIVATION_GELU_ERF
    }
  }

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
    case .geluErf:
      for lane in 0..<8 { v[lane] = ak_gelu_erf1(v[lane]) }
    }
    return v
  }

  @inline(__always)
  func apply(_ x: Float) -> Float {
    switch self {
    case .none: return x
    case .relu6: return min(max(x, 0), 6)
    case .relu: return max(x, 0)
    case .geluErf: return ak_gelu_erf1(x)
    }
  }
}

/// Fills every row of a `rows × channels` matrix with `bias`, plus the
/// matching row of `addend` when given:
///
/// ```
/// x[r, c] = bias[c] (+ addend[r, c])
/// ```
///
/// The starting value of a GEMM called with β = 1, so that the product lands
/// on top of the bias (and the residual) without a separate pass.
@inline(__always)
func fillRows(
  _ x: UnsafeMutablePointer<Float>, rows: Int, channels: Int, bias: UnsafePointer<Float>,
  adding addend: UnsafePointer<Float>? = nil
) {
  for r in 0..<rows {
    let row = x + r * channels
    if let addend {
      let from = addend + r * channels
      for c in 0..<channels { row[c] = bias[c] + from[c] }
    } else {
      row.update(from: bias, count: channels)
    }
  }
}

/// Applies `activation` to a `rows × channels` matrix in place, then adds
/// the matching row of `addend` when given: `x = act(x) (+ addend)`.
@inline(__always)
func activate(
  _ x: UnsafeMutablePointer<Float>, rows: Int, channels: Int, activation: Activation,
  adding addend: UnsafePointer<Float>? = nil
) {
  let count = rows * channels
  let vec = count & ~7
  var i = 0
  while i < vec {
    var v = activation.apply(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
    if let addend { v += UnsafeRawPointer(addend + i).loadUnaligned(as: SIMD8<Float>.self) }
    UnsafeMutableRawPointer(x + i).storeBytes(of: v, as: SIMD8<Float>.self)
    i += 8
  }
  while i < count {
    x[i] = activation.apply(x[i]) + (addend?[i] ?? 0)
    i += 1
  }
}
