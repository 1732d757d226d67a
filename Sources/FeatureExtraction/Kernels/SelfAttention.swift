import CKernels

/// Multi-head scaled dot-product self-attention over the tokens of one
/// sequence, without a mask (only real tokens are passed):
///
/// ```
/// A_h = softmax(Q_h K_hᵀ / √d_h) V_h      per head h, softmax over each row
/// out = [A_1 … A_H]
/// ```
///
/// Computed by `ak_attention` from the rows of a stacked `[Q K V]` matrix
/// (`tokens × 3·width`); the result depends only on this sequence's rows.
struct SelfAttention: Sendable {
  let heads: Int
  let headDimension: Int

  /// d = heads · d_h.
  var width: Int { heads * headDimension }

  /// Floats of scratch `run` needs for a sequence of `tokens`.
  func scratchCount(tokens: Int) -> Int { ak_attention_scratch_count(tokens, headDimension) }

  /// Writes the `tokens × width` context of the `tokens × 3·width` rows of
  /// `qkv` to `context` (which must not overlap `qkv`).
  func run(
    tokens: Int, qkv: UnsafePointer<Float>, context: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
  ) {
    guard tokens > 0 else { return }
    let d = width
    ak_attention(
      tokens, heads, headDimension, qkv, qkv + d, qkv + 2 * d, 3 * d, 1 / Float(headDimension).squareRoot(), context, d,
      scratch)
  }
}
