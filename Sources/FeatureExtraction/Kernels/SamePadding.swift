/// TensorFlow "SAME" padding along one axis.
///
/// ```
/// out   = ⌈in / stride⌉
/// total = max((out − 1)·stride + kernel − in, 0)
/// begin = ⌊total / 2⌋,  end = total − begin
/// ```
/// so on stride 2 the extra pixel goes to the bottom/right, as in TF and in
/// EfficientNet-Lite's PyTorch port (`Conv2dStaticSamePadding`).
public struct SamePadding: Sendable, Equatable {
  public let output: Int
  public let begin: Int

  public init(input: Int, kernel: Int, stride: Int) {
    output = (input + stride - 1) / stride
    let total = max((output - 1) * stride + kernel - input, 0)
    begin = total / 2
  }
}
