#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Tiny-LaDeDa's verdict on one image.
public struct TinyLaDeDaOutput: Sendable, Equatable {
  /// Rows of the patch grid (126 for a 256×256 input).
  public let gridHeight: Int
  /// Columns of the patch grid.
  public let gridWidth: Int
  /// One logit per patch, row-major `gridHeight × gridWidth`; positive =
  /// the patch looks generated. Cell `(r, c)` covers the input window given
  /// by `TinyLaDeDa.receptiveField` (7×7 pixels, 2 apart).
  public let patchLogits: [Float]
  /// The mean of `patchLogits` (accumulated in `Double`): the image logit.
  public let meanLogit: Float

  /// An output from a non-empty `gridHeight × gridWidth` grid of patch
  /// logits (row-major); computes `meanLogit`.
  public init(gridHeight: Int, gridWidth: Int, patchLogits: [Float]) {
    precondition(patchLogits.count == gridHeight * gridWidth && !patchLogits.isEmpty, "one logit per grid cell")
    self.gridHeight = gridHeight
    self.gridWidth = gridWidth
    self.patchLogits = patchLogits
    var sum = 0.0
    for v in patchLogits { sum += Double(v) }
    meanLogit = Float(sum / Double(patchLogits.count))
  }

  /// `σ(meanLogit) = 1 / (1 + e^(−meanLogit))`: the probability that the
  /// image is generated, as the authors report it.
  public var probability: Float {
    Float(1 / (1 + exp(-Double(meanLogit))))
  }

  /// The authors' verdict: generated when the probability exceeds 0.5
  /// (equivalently, when the mean logit is positive).
  public var isFake: Bool { probability > TinyLaDeDa.threshold }
}
