import Glibc

extension EfficientNetLite {
  /// Floats of a block's expansion worth running in bands: smaller maps
  /// stay in cache anyway, and a band re-reads the expansion's weights.
  static let bandedExpansionFloats = 131_072
  /// Floats of expansion output one band aims at (256 KiB, a quarter of a
  /// Zen 4 core's L2), so that the depthwise convolution reads it from cache.
  /// In quick int8 runs on the Zen 4 development machine, bands of 64, 128
  /// and 512 KiB ran about 12%, 4% and 3% slower, and banding the smaller
  /// blocks as well gained nothing (issue 17's closing note); the sizes are
  /// a cache property, not a dataset choice.
  static let bandFloats = 65_536

  /// How block `block` at input `h × w` runs its expansion: in bands of
  /// `rows` depthwise output rows, each needing at most `floats` floats of
  /// expansion output, or nil to run it whole.
  func bandPlan(_ block: Block, height h: Int, width w: Int) -> (rows: Int, floats: Int)? {
    guard let e = block.expand, e.product.rowsIndependent, h * w * e.outputChannels > Self.bandedExpansionFloats else { return nil }
    let rowFloats = w * e.outputChannels
    let k = block.depthwise.kernel, s = block.depthwise.stride
    let rows = max(1, (max(k, Self.bandFloats / rowFloats) - k) / s + 1)
    return (rows, ((rows - 1) * s + k) * rowFloats)
  }

  /// Floats of the largest band buffer at the input size.
  var largestBand: Int {
    var (h, w) = stem.outputSize(height: inputSize, width: inputSize)
    var largest = 0
    for b in blocks {
      if let plan = bandPlan(b, height: h, width: w) { largest = max(largest, plan.floats) }
      (h, w) = b.depthwise.outputSize(height: h, width: w)
    }
    return largest
  }

  /// A block's expansion and depthwise convolution in bands of output rows:
  /// for each band, the expansion computes the input rows the band reads
  /// that the previous band did not (those it shares are moved to the front
  /// of `band`), then `depthwise(rows, band, firstRow)` convolves them.
  /// The expansion's map (4.8 MB per image in the first block at 224 px)
  /// thus never leaves the cache. Every row is computed as in the whole map
  /// (the products' rows are independent, `FusedGEMMWeights.rowsIndependent`,
  /// and the depthwise rows read the same values), so the result has the
  /// same bits.
  func expandInBands(
    _ block: Block, plan: (rows: Int, floats: Int), input: UnsafePointer<Float>, height h: Int, width w: Int,
    band: UnsafeMutablePointer<Float>, depthwise: (Range<Int>, UnsafePointer<Float>, Int) -> Void
  ) {
    guard let e = block.expand else { return }
    let rowFloats = w * e.outputChannels
    let (oh, _) = block.depthwise.outputSize(height: h, width: w)
    var have = 0..<0
    var r0 = 0
    while r0 < oh {
      let rows = r0..<min(oh, r0 + plan.rows)
      let need = block.depthwise.inputRows(for: rows, height: h)
      var start = need.lowerBound
      if have.contains(need.lowerBound) {
        memmove(band, band + (need.lowerBound - have.lowerBound) * rowFloats, (have.upperBound - need.lowerBound) * rowFloats * 4)
        start = have.upperBound
      }
      if start < need.upperBound {
        e.run(
          input: input + start * w * e.inputChannels, pixels: (need.upperBound - start) * w,
          output: band + (start - need.lowerBound) * rowFloats)
      }
      have = need
      depthwise(rows, band, need.lowerBound)
      r0 = rows.upperBound
    }
  }
}
