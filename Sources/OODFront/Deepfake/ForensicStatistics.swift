import Foundation
import FeatureExtraction

/// Pixel statistics of one forensic crop that do not need a network: how
/// sharp, how noisy and how periodic the image is at its finest scales.
///
/// All work on luma `Y = 0.299 R + 0.587 G + 0.114 B` (0–255) unless noted,
/// with `ε = 10⁻³`:
///
/// - **band01, band12**: `log(e₀ / e₁)`, `log(e₁ / e₂)` where
///   `e_l = mean |G_l − G_{l+1}|`, `G₀ = Y` and `G_{l+1}` is `G_l` blurred by
///   the binomial `[1 4 6 4 1]/16` with holes of `2^l` (à trous, mirror
///   padding): the slope of the fine-scale spectrum, which a power-law
///   (natural) image keeps under rescaling.
/// - **noise**: `log(σ_n + 0.1) − log(e₁ + 0.1)`, `σ_n = median |HH| / 0.6745`
///   on the Haar diagonal band `HH = (a − b − c + d) / 2` of 2 × 2 blocks
///   (Donoho's estimator): sensor noise relative to structure. Generated
///   images are smoother than photos: too *low* a value is the anomaly.
/// - **period2**: `|log(h_in / h_across)| + |log(v_in / v_across)|`, mean
///   absolute first differences inside and across 2 × 2 blocks: the period-2
///   trace of 2× upsampling (NPR's signal) without NPR's dependence on the
///   image's energy.
/// - **grid8**: `log(mean |Δ| across 8 × 8 block borders / mean |Δ| elsewhere)`.
/// - **chroma**: `log(Σ_{Cb,Cr} mean |C − blur C| + 0.1) − log(e₀ + 0.1)`.
///
/// Means are accumulated in `Double`. The numpy reference is
/// `Notebooks-export/scripts/deepfake_cues.py` (`statistics`).
public struct ForensicStatistics: Sendable, Equatable {
  /// `log((e₀ + ε) / (e₁ + ε))`: the spectral slope between the two finest bands.
  public var band01: Double
  /// `log((e₁ + ε) / (e₂ + ε))`: the spectral slope between the next two bands.
  public var band12: Double
  /// `log(σ_n + 0.1) − log(e₁ + 0.1)`: sensor noise relative to structure.
  public var noise: Double
  /// `|log(h_in / h_across)| + |log(v_in / v_across)|` (each mean offset by
  /// ε): the period-2 trace of 2× upsampling.
  public var period2: Double
  /// `log((mean |Δ| across 8 × 8 borders + ε) / (mean |Δ| elsewhere + ε))`.
  public var grid8: Double
  /// `log(Σ_{Cb,Cr} mean |C − blur C| + 0.1) − log(e₀ + 0.1)`: chroma detail
  /// relative to luma detail.
  public var chroma: Double

  static let binomial: [Float] = [1, 4, 6, 4, 1].map { $0 / 16 }
  static let epsilon = 1e-3

  /// The statistics of a crop (at least 16 pixels a side).
  public init(crop image: RGBImage) {
    let h = image.height, w = image.width
    var y = [Float](repeating: 0, count: h * w)
    var cb = y, cr = y
    for i in 0..<(h * w) {
      let r = Float(image.pixels[3 * i]), g = Float(image.pixels[3 * i + 1]), b = Float(image.pixels[3 * i + 2])
      y[i] = 0.299 * r + 0.587 * g + 0.114 * b
      cb[i] = -0.168736 * r - 0.331264 * g + 0.5 * b
      cr[i] = 0.5 * r - 0.418688 * g - 0.081312 * b
    }
    let eps = Self.epsilon
    // Band energies of the à trous pyramid.
    var energies: [Double] = []
    var level = y
    for l in 0..<3 {
      let next = Self.blur(level, height: h, width: w, dilation: 1 << l)
      energies.append(Self.meanAbsDifference(level, next))
      level = next
    }
    let (e0, e1, e2) = (energies[0], energies[1], energies[2])
    // Haar diagonal band.
    var hh: [Float] = []
    hh.reserveCapacity((h / 2) * (w / 2))
    for by in 0..<(h / 2) {
      for bx in 0..<(w / 2) {
        let a = y[(2 * by) * w + 2 * bx], b = y[(2 * by) * w + 2 * bx + 1]
        let c = y[(2 * by + 1) * w + 2 * bx], d = y[(2 * by + 1) * w + 2 * bx + 1]
        hh.append(abs((a - b - c + d) / 2))
      }
    }
    let sigma = Self.median(hh) / 0.6745
    // First differences inside / across 2×2 blocks and 8×8 borders.
    var hIn = 0.0, hAcross = 0.0, vIn = 0.0, vAcross = 0.0
    var nhIn = 0, nhAcross = 0, nvIn = 0, nvAcross = 0
    var border = 0.0, inside = 0.0, nBorder = 0, nInside = 0
    for r in 0..<h {
      for c in 0..<(w - 1) {
        let d = Double(abs(y[r * w + c + 1] - y[r * w + c]))
        if c % 2 == 0 { hIn += d; nhIn += 1 } else { hAcross += d; nhAcross += 1 }
        if c % 8 == 7 { border += d; nBorder += 1 } else { inside += d; nInside += 1 }
      }
    }
    for r in 0..<(h - 1) {
      for c in 0..<w {
        let d = Double(abs(y[(r + 1) * w + c] - y[r * w + c]))
        if r % 2 == 0 { vIn += d; nvIn += 1 } else { vAcross += d; nvAcross += 1 }
        if r % 8 == 7 { border += d; nBorder += 1 } else { inside += d; nInside += 1 }
      }
    }
    let hRatio = (hIn / Double(nhIn) + eps) / (hAcross / Double(nhAcross) + eps)
    let vRatio = (vIn / Double(nvIn) + eps) / (vAcross / Double(nvAcross) + eps)
    let across = border / Double(max(nBorder, 1)), within = inside / Double(max(nInside, 1))
    let chromaEnergy =
      Self.meanAbsDifference(cb, Self.blur(cb, height: h, width: w, dilation: 1))
      + Self.meanAbsDifference(cr, Self.blur(cr, height: h, width: w, dilation: 1))

    band01 = Foundation.log((e0 + eps) / (e1 + eps))
    band12 = Foundation.log((e1 + eps) / (e2 + eps))
    noise = Foundation.log(sigma + 0.1) - Foundation.log(e1 + 0.1)
    period2 = abs(Foundation.log(hRatio)) + abs(Foundation.log(vRatio))
    grid8 = Foundation.log((across + eps) / (within + eps))
    chroma = Foundation.log(chromaEnergy + 0.1) - Foundation.log(e0 + 0.1)
  }

  /// Mirror index (`-k → k`, `n-1+k → n-1-k`), as numpy's `reflect` pad.
  @inline(__always)
  static func mirror(_ i: Int, _ n: Int) -> Int {
    if i < 0 { return -i }
    if i >= n { return 2 * (n - 1) - i }
    return i
  }

  /// Separable binomial blur with holes of `dilation`: rows (vertical) first,
  /// then columns, mirror padding. Needs `2·dilation < min(height, width)`.
  static func blur(_ x: [Float], height h: Int, width w: Int, dilation d: Int) -> [Float] {
    let k = binomial
    var vertical = [Float](repeating: 0, count: h * w)
    for r in 0..<h {
      for t in 0..<5 {
        let src = mirror(r + (t - 2) * d, h) * w
        let weight = k[t]
        for c in 0..<w { vertical[r * w + c] += weight * x[src + c] }
      }
    }
    var out = [Float](repeating: 0, count: h * w)
    for r in 0..<h {
      for c in 0..<w {
        var acc: Float = 0
        for t in 0..<5 { acc += k[t] * vertical[r * w + mirror(c + (t - 2) * d, w)] }
        out[r * w + c] = acc
      }
    }
    return out
  }

  static func meanAbsDifference(_ a: [Float], _ b: [Float]) -> Double {
    var s = 0.0
    for i in a.indices { s += Double(abs(a[i] - b[i])) }
    return s / Double(max(a.count, 1))
  }

  /// numpy's median: the mean of the two middle values for an even count.
  static func median(_ v: [Float]) -> Double {
    guard !v.isEmpty else { return 0 }
    let s = v.sorted()
    let m = s.count / 2
    return s.count % 2 == 1 ? Double(s[m]) : (Double(s[m - 1]) + Double(s[m])) / 2
  }
}
