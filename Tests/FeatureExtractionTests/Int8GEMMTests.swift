import CKernels
import Foundation
import TensorFiles
import Testing

/// `ak_i8_gemm_bias_activation` against numpy doing the int8 arithmetic from
/// its definition (`Tests/Fixtures/int8/make_fixtures.py`): odd shapes,
/// inputs beyond the calibrated range (saturation), a zero weight column, an
/// all-positive and an empty range. The integer sums are exact and the
/// epilogue is two float32 operations in a fixed order, so both the AVX-512
/// VNNI kernel and the portable loop (`.ci/run` runs this suite a second
/// time under `ANOMALYKIT_KERNELS=portable`) must give numpy's bits, except
/// under GELU, whose float32 forms differ in the last place. The same for
/// per-row codes (`ak_i8_gemm_pack_per_row`, the text encoder's).
@Suite("int8 GEMM kernel")
struct Int8GEMMTests {
  static let reference = TestPaths.fixture("int8/reference.safetensors")

  /// `ak_i8_gemm_bias_activation` with weights packed for the calibrated
  /// `range`, or for per-row codes when `range` is nil.
  static func run(a: [Float], m: Int, k: Int, w: [Float], n: Int, bias: [Float], range: [Float]?, residual: [Float]?, activation: ak_activation)
    -> [Float]
  {
    var packed = [UInt8](repeating: 0xAB, count: ak_i8_gemm_packed_count(k, n))
    if let range {
      ak_i8_gemm_pack(w, bias, k, n, range[0], range[1], &packed)
    } else {
      ak_i8_gemm_pack_per_row(w, bias, k, n, &packed)
    }
    var c = [Float](repeating: .nan, count: m * n)
    var scratch = [UInt32](repeating: 0xDEAD_BEEF, count: ak_i8_gemm_scratch_count(m, k))
    if let residual {
      ak_i8_gemm_bias_activation(m, n, k, a, k, packed, residual, &c, n, activation, &scratch)
    } else {
      ak_i8_gemm_bias_activation(m, n, k, a, k, packed, nil, &c, n, activation, &scratch)
    }
    return c
  }

  /// The fixture's cases: `gemm.N` with a calibrated range (4 activations),
  /// `rowgemm.N` with per-row codes (no activation and GELU).
  static let numpyCases = (0..<8).map { ("gemm.\($0).", true) } + (0..<6).map { ("rowgemm.\($0).", false) }

  @Test("matches numpy's int8 arithmetic bit for bit (GELU to float rounding), with and without residual, calibrated and per-row codes", arguments: numpyCases)
  func matchesNumpy(prefix p: String, calibrated: Bool) throws {
    let file = try SafeTensorsFile(path: Self.reference)
    let a = try file.info(p + "a"), w = try file.info(p + "w")
    let (m, k, n) = (a.shape[0], a.shape[1], w.shape[1])
    let inputs = try file.floats(p + "a"), weights = try file.floats(p + "w"), bias = try file.floats(p + "bias")
    let range = calibrated ? try file.floats(p + "range") : nil, residual = try file.floats(p + "residual")
    let activations: [(String, ak_activation)] =
      calibrated
      ? [("none", AK_ACTIVATION_NONE), ("relu6", AK_ACTIVATION_RELU6), ("relu", AK_ACTIVATION_RELU), ("gelu", AK_ACTIVATION_GELU_ERF)]
      : [("none", AK_ACTIVATION_NONE), ("gelu", AK_ACTIVATION_GELU_ERF)]
    for (name, activation) in activations {
      for withResidual in [false, true] {
        let expected = try file.floats(p + name + (withResidual ? "+residual" : ""))
        let c = Self.run(
          a: inputs, m: m, k: k, w: weights, n: n, bias: bias, range: range, residual: withResidual ? residual : nil, activation: activation)
        var worst: Float = 0
        var differing = 0
        for (x, y) in zip(c, expected) where x.bitPattern != y.bitPattern {
          differing += 1
          worst = max(worst, abs(x - y) / max(abs(y), 1))
        }
        if name == "gelu" {
          // The vector erf is within about 1 ulp of glibc's (vector_math.h).
          #expect(worst <= 1e-6, "\(p) \(name) residual \(withResidual): \(differing) values differ, worst by \(worst)")
        } else {
          #expect(differing == 0, "\(p) \(m)×\(k)×\(n) \(name) residual \(withResidual): \(differing) of \(c.count) values differ")
        }
      }
    }
  }

  @Test("a per-row code is the static code of the row's own range: each row, bit for bit, and a row with NaN stays finite elsewhere")
  func perRowIsStaticOfRowRange() {
    let (m, k, n) = (21, 70, 40)
    var a = BFloat16GEMMTests.randomFloats(m * k, seed: 31, scale: 3)
    for j in 0..<k { a[4 * k + j] = abs(a[4 * k + j]) * 50 }  // a row of one sign, on another scale
    for j in 0..<k { a[5 * k + j] = 0 }  // an empty range
    a[6 * k + 3] = .nan
    let w = BFloat16GEMMTests.randomFloats(k * n, seed: 32, scale: 0.4)
    let bias = BFloat16GEMMTests.randomFloats(n, seed: 33)
    let residual = BFloat16GEMMTests.randomFloats(m * n, seed: 34)
    let all = Self.run(a: a, m: m, k: k, w: w, n: n, bias: bias, range: nil, residual: residual, activation: AK_ACTIVATION_NONE)
    for row in 0..<m {
      let values = Array(a[row * k..<(row + 1) * k])
      let range = [values.filter { !$0.isNaN }.min()!, values.filter { !$0.isNaN }.max()!]
      let alone = Self.run(
        a: values, m: 1, k: k, w: w, n: n, bias: bias, range: range, residual: Array(residual[row * n..<(row + 1) * n]),
        activation: AK_ACTIVATION_NONE)
      #expect(alone.map(\.bitPattern) == all[row * n..<(row + 1) * n].map(\.bitPattern), "row \(row)")
      let finite = all[row * n..<(row + 1) * n].allSatisfy { $0.isFinite }
      if row != 6 { #expect(finite, "row \(row)") }
    }
  }

  @Test("a row depends only on its own row of A: rows in a block of 29 and alone give the same bits")
  func rowsIndependent() {
    let (m, k, n) = (29, 75, 56)
    let a = BFloat16GEMMTests.randomFloats(m * k, seed: 3, scale: 3)
    let w = BFloat16GEMMTests.randomFloats(k * n, seed: 4, scale: 0.4)
    let bias = BFloat16GEMMTests.randomFloats(n, seed: 5)
    let all = Self.run(a: a, m: m, k: k, w: w, n: n, bias: bias, range: [-2, 2.5], residual: nil, activation: AK_ACTIVATION_RELU6)
    for row in [0, 7, 8, 13, 28] {
      let alone = Self.run(
        a: Array(a[row * k..<(row + 1) * k]), m: 1, k: k, w: w, n: n, bias: bias, range: [-2, 2.5], residual: nil, activation: AK_ACTIVATION_RELU6)
      #expect(alone.map(\.bitPattern) == all[row * n..<(row + 1) * n].map(\.bitPattern), "row \(row)")
    }
  }

  @Test("the activation code covers the range and represents 0 exactly")
  func activationQuantization() {
    for (lo, hi) in [(Float(-1.5), Float(3)), (0, 6), (-4, -1), (2, 5), (0, 0), (-.nan, 1)] {
      var scale: Float = 0
      var zero: Int32 = -1
      ak_i8_activation_quantization(lo, hi, &scale, &zero)
      #expect(scale > 0 && scale.isFinite && (0...255).contains(zero), "[\(lo), \(hi)]: scale \(scale), zero \(zero)")
      let l = min(lo.isNaN ? 0 : lo, 0), h = max(hi, 0)
      if h > l {
        #expect(abs(Float(-Int(zero)) * scale - l) <= scale / 2 + 1e-6 && abs(Float(255 - Int(zero)) * scale - h) <= scale / 2 + 1e-6)
      }
    }
  }

  @Test(
    "the depthwise convolution fused with the quantisation, and a band of its rows from only the input rows it reads, give the whole map's bits",
    arguments: [(3, 1, 40, 7), (5, 2, 24, 13), (3, 1, 96, 48), (5, 2, 64, 40), (5, 1, 20, 3), (7, 1, 16, 9)])  // 96 and 64 channels: several bands
  func fusedDepthwise(shape: (kernel: Int, stride: Int, channels: Int, side: Int)) {
    let (k, s, c, side) = shape
    let input = BFloat16GEMMTests.randomFloats(side * (side + 2) * c, seed: UInt64(k * 31 + c), scale: 3)
    let weights = BFloat16GEMMTests.randomFloats(k * k * c, seed: 11, scale: 0.5)
    let bias = BFloat16GEMMTests.randomFloats(c, seed: 12)
    let (height, width) = (side, side + 2)
    let outH = (height + s - 1) / s, outW = (width + s - 1) / s
    let padTop = max((outH - 1) * s + k - height, 0) / 2, padLeft = max((outW - 1) * s + k - width, 0) / 2
    var packed = [UInt8](repeating: 0, count: ak_i8_gemm_packed_count(c, 8))
    ak_i8_gemm_pack(BFloat16GEMMTests.randomFloats(c * 8, seed: 13), [Float](repeating: 0, count: 8), c, 8, 0, 6, &packed)
    var float = [Float](repeating: .nan, count: outH * outW * c)
    ak_depthwise_conv2d(input, height, width, c, weights, bias, k, s, padTop, padLeft, &float, outH, outW, AK_ACTIVATION_RELU6)
    var apart = [UInt32](repeating: 1, count: ak_i8_gemm_scratch_count(outH * outW, c))
    ak_i8_gemm_quantize_input(outH * outW, c, float, c, packed, &apart)
    var fused = [UInt32](repeating: 2, count: apart.count)
    var band = [Float](repeating: .nan, count: ak_depthwise_band_count(outW, c))
    ak_depthwise_conv2d_i8(
      input, 0, height, width, c, weights, bias, k, s, padTop, padLeft, outW, AK_ACTIVATION_RELU6, 0, outH, packed, &band, &fused)
    // The codes; the scratch's tail holds per-row codes' scales, unused here.
    let codeWords = outH * outW * ((c + 3) / 4)
    #expect(fused[..<codeWords] == apart[..<codeWords], "\(k)×\(k) stride \(s), \(c) channels, \(height)×\(width)")

    // A band of output rows from a buffer that holds only the input rows it
    // reads (as the banded expansion provides them): the same rows, bit for bit.
    let rows = (outH / 3)..<max(outH / 3 + 1, 2 * outH / 3)
    let first = max(0, rows.lowerBound * s - padTop), last = min(height, (rows.upperBound - 1) * s - padTop + k)
    let held = Array(input[(first * width * c)..<(last * width * c)])
    var banded = [Float](repeating: .nan, count: rows.count * outW * c)
    ak_depthwise_conv2d_rows(
      held, first, height, width, c, weights, bias, k, s, padTop, padLeft, &banded, outW, AK_ACTIVATION_RELU6, rows.lowerBound,
      rows.upperBound)
    #expect(
      banded.map(\.bitPattern) == float[(rows.lowerBound * outW * c)..<(rows.upperBound * outW * c)].map(\.bitPattern),
      "rows \(rows) from input rows \(first)..<\(last)")
    var bandCodes = [UInt32](repeating: 3, count: ak_i8_gemm_scratch_count(rows.count * outW, c))
    ak_depthwise_conv2d_i8(
      held, first, height, width, c, weights, bias, k, s, padTop, padLeft, outW, AK_ACTIVATION_RELU6, rows.lowerBound,
      rows.upperBound, packed, &band, &bandCodes)
    let groups = (c + 3) / 4
    #expect(bandCodes[..<(rows.count * outW * groups)] == apart[(rows.lowerBound * outW * groups)..<(rows.upperBound * outW * groups)])
  }

  @Test("im2col of an image quantised once gives the codes of quantising im2col's columns", arguments: [(3, 2, 3, 15, 17), (3, 1, 3, 8, 5), (5, 2, 2, 11, 9)])
  func quantizedIm2col(shape: (kernel: Int, stride: Int, channels: Int, height: Int, width: Int)) {
    let (k, s, c, height, width) = shape
    let image = BFloat16GEMMTests.randomFloats(height * width * c, seed: UInt64(k * 7 + height), scale: 2)
    let outH = (height + s - 1) / s, outW = (width + s - 1) / s
    let padTop = max((outH - 1) * s + k - height, 0) / 2, padLeft = max((outW - 1) * s + k - width, 0) / 2
    let length = k * k * c
    var packed = [UInt8](repeating: 0, count: ak_i8_gemm_packed_count(length, 4))
    ak_i8_gemm_pack(BFloat16GEMMTests.randomFloats(length * 4, seed: 21), [0, 0, 0, 0], length, 4, -1.5, 1.8, &packed)
    var columns = [Float](repeating: .nan, count: outH * outW * length)
    ak_im2col(image, height, width, c, k, s, padTop, padLeft, 0, outH, outW, &columns)
    var apart = [UInt32](repeating: 1, count: ak_i8_gemm_scratch_count(outH * outW, length))
    ak_i8_gemm_quantize_input(outH * outW, length, columns, length, packed, &apart)
    var codes = [UInt32](repeating: 2, count: ak_i8_gemm_scratch_count(1, image.count))
    ak_i8_gemm_quantize_input(1, image.count, image, image.count, packed, &codes)
    var gathered = [UInt32](repeating: 3, count: apart.count)
    codes.withUnsafeBytes { bytes in
      ak_im2col_u8(
        bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), height, width, c, k, s, padTop, padLeft, 0, outH, outW,
        UInt8(ak_i8_gemm_zero_point(packed)), &gathered)
    }
    let codeWords = outH * outW * ((length + 3) / 4)
    #expect(gathered[..<codeWords] == apart[..<codeWords], "\(k)×\(k) stride \(s), \(c) channels, \(height)×\(width)")
  }
}
