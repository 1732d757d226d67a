/// AUPRO: the area under the per-region-overlap curve up to a false-positive
/// rate of 0.3, normalised to [0, 1], as the MVTec AD paper (Bergmann et al.,
/// 2021) and anomalib define it.
///
/// Every connected region `R` of a ground-truth mask (8-connectivity, as
/// the MVTec evaluation code's `scipy.ndimage.label` with a 3 × 3 structure)
/// counts once. At a threshold τ on the anomaly maps,
///
///     PRO(τ) = (1 / #regions) Σ_R |{p ∈ R : s_p > τ}| / |R|
///     FPR(τ) = |{p normal : s_p > τ}| / #normal pixels
///
/// where a normal pixel is any pixel outside every region, in every image
/// (anomaly-free images included). Sweeping τ over every distinct score
/// (from the top, ties taken together) gives the curve from (0, 0); the
/// area up to FPR = `maxFPR` is taken by the trapezoid rule, the curve being
/// interpolated linearly at `maxFPR`, and divided by `maxFPR`.
public enum RegionOverlap {
  /// Labels the 8-connected regions of `mask` (row-major `height × width`):
  /// 0 outside, 1…count inside, numbered in raster order of their first pixel.
  public static func label(_ mask: [Bool], height: Int, width: Int) -> (labels: [Int32], count: Int) {
    var labels = [Int32](repeating: 0, count: mask.count)
    var count: Int32 = 0
    var stack: [Int] = []
    for start in mask.indices where mask[start] && labels[start] == 0 {
      count += 1
      labels[start] = count
      stack.append(start)
      while let p = stack.popLast() {
        let r = p / width, c = p % width
        for dr in -1...1 {
          for dc in -1...1 where dr != 0 || dc != 0 {
            let rr = r + dr, cc = c + dc
            guard rr >= 0, rr < height, cc >= 0, cc < width else { continue }
            let q = rr * width + cc
            if mask[q] && labels[q] == 0 {
              labels[q] = count
              stack.append(q)
            }
          }
        }
      }
    }
    return (labels, Int(count))
  }

  /// One image's anomaly map and ground truth, row-major, of one size.
  public struct Image: Sendable {
    /// Anomaly score per pixel (higher = more anomalous).
    public var scores: [Float]
    /// Ground truth per pixel: true inside an anomalous region.
    public var mask: [Bool]
    /// Rows of pixels.
    public var height: Int
    /// Pixels per row.
    public var width: Int

    /// One image; `scores` and `mask` must each hold `height × width`
    /// values (checked by a precondition).
    public init(scores: [Float], mask: [Bool], height: Int, width: Int) {
      precondition(scores.count == height * width && mask.count == height * width, "one score and one mask value per pixel")
      self.scores = scores
      self.mask = mask
      self.height = height
      self.width = width
    }
  }

  /// The (FPR, PRO) curve from (0, 0), one point per distinct score; nil
  /// without any region or without any normal pixel.
  public static func curve(_ images: [Image]) -> (fpr: [Double], pro: [Double])? {
    var scores: [Float] = []
    var fpStep: [Bool] = []
    var proStep: [Double] = []
    var normalPixels = 0
    var regions = 0
    for image in images {
      let (labels, count) = label(image.mask, height: image.height, width: image.width)
      var sizes = [Int](repeating: 0, count: count + 1)
      for l in labels { sizes[Int(l)] += 1 }
      regions += count
      for (p, l) in labels.enumerated() {
        scores.append(image.scores[p])
        if l == 0 {
          normalPixels += 1
          fpStep.append(true)
          proStep.append(0)
        } else {
          fpStep.append(false)
          proStep.append(1 / Double(sizes[Int(l)]))
        }
      }
    }
    guard regions > 0, normalPixels > 0 else { return nil }
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    var fpr: [Double] = [0], pro: [Double] = [0]
    var fp = 0
    var overlap = 0.0
    for (k, i) in order.enumerated() {
      if fpStep[i] { fp += 1 } else { overlap += proStep[i] }
      // Keep only the last pixel of a run of equal scores: a threshold
      // cannot separate them.
      if k + 1 < order.count && scores[order[k + 1]] == scores[i] { continue }
      fpr.append(min(Double(fp) / Double(normalPixels), 1))
      pro.append(min(overlap / Double(regions), 1))
    }
    return (fpr, pro)
  }

  /// The normalised area under the PRO curve up to `maxFPR` (default 0.3).
  public static func aupro(_ images: [Image], maxFPR: Double = 0.3) -> Double? {
    guard let (x, y) = curve(images) else { return nil }
    var area = 0.0
    for i in 1..<x.count {
      let x0 = x[i - 1], x1 = x[i]
      if x0 >= maxFPR { break }
      if x1 <= maxFPR {
        area += (x1 - x0) * (y[i] + y[i - 1]) / 2
      } else {
        let yAt = y[i - 1] + (y[i] - y[i - 1]) * (maxFPR - x0) / (x1 - x0)
        area += (maxFPR - x0) * (yAt + y[i - 1]) / 2
        break
      }
    }
    return area / maxFPR
  }
}
