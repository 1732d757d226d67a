/// TensorFlow "SAME" padding along one axis.
///
/// ```
/// out   = ⌈in / stride⌉
/// total = max((out − 1)·stride + kernel − in, 0)
/// begin = ⌊total / 2⌋,  end = total − begin
/// ```
/// so on stride 2 the extra pixel goes to the bottom/right, as in TF and in
/// EfficientNet-Lite's PyTorch port (`Conv2dStaticSamePadding`).
package struct SamePadding: Sendable, Equatable {
  /// Output length, `⌈in / stride⌉`.
  package let output: Int
  /// Padding before the first input pixel (top or left); the rest goes after.
  package let begin: Int

  /// The padding of an axis of length `input` under a `kernel`-wide window
  /// moved `stride` pixels at a time.
  package init(input: Int, kernel: Int, stride: Int) {
    output = (input + stride - 1) / stride
    let total = max((output - 1) * stride + kernel - input, 0)
    begin = total / 2
  }
}
