import CKernels

/// Row-wise LayerNorm with a learned scale γ and shift β:
///
/// ```
/// y = γ ⊙ (x − μ)/√(σ² + ε) + β      μ and the biased σ² over the row's features
/// ```
///
/// Computed by `ak_layer_norm`: μ and σ² are accumulated in `Double`, the
/// normalised value is rounded to `Float` before the scale and shift. Each
/// row depends only on itself.
struct LayerNorm: Sendable {
  /// γ, one per feature.
  let weight: [Float]
  /// β, one per feature.
  let bias: [Float]
  let epsilon: Float

  init(weight: [Float], bias: [Float], epsilon: Float) {
    precondition(weight.count == bias.count, "LayerNorm weight and bias must have one entry per feature")
    self.weight = weight
    self.bias = bias
    self.epsilon = epsilon
  }

  /// Number of features per row.
  var width: Int { weight.count }

  /// Normalises `rows` dense rows of `width` floats in place.
  func normalize(rows: Int, _ x: UnsafeMutablePointer<Float>) {
    guard rows > 0 else { return }
    weight.withUnsafeBufferPointer { w in
      bias.withUnsafeBufferPointer { b in
        ak_layer_norm(rows, width, x, width, w.baseAddress, b.baseAddress, epsilon, x, width)
      }
    }
  }
}
