/// An elementwise transform applied to features before the scorer sees them
/// (bank and queries alike).
public enum FeatureTransform: String, Sendable, CaseIterable, Codable {
  /// Features as they are.
  case none
  /// Signed square root, `x ↦ sign(x)·√|x|` ("power normalisation" with
  /// α = ½, Perronnin et al. 2010; the Hellinger map of retrieval).
  /// Pooled CNN features are non-negative and bursty: a few channels take
  /// huge values on some images. The square root evens them out before
  /// distances are taken. Measured on one-class CIFAR-10 with
  /// EfficientNet-Lite0 pooled features it helps the distance scorers
  /// (cosine kNN 89.5 → 90.9, kNN 84.2 → 87.0, Gaussian 88.5 → 89.8) but
  /// lowers the angular ones (mean-shifted −2.1, angular center −0.7
  /// points); see Notebooks-export/cifar10.md.
  case sqrt

  /// A transformed copy of `m`.
  public func apply(_ m: FeatureMatrix) -> FeatureMatrix {
    var out = m
    apply(to: &out)
    return out
  }

  /// Transforms `m` in place (no copy when `m` is uniquely held).
  public func apply(to m: inout FeatureMatrix) {
    switch self {
    case .none: return
    case .sqrt:
      m.values.withUnsafeMutableBufferPointer { v in
        for i in v.indices { v[i] = v[i] < 0 ? -(-v[i]).squareRoot() : v[i].squareRoot() }
      }
    }
  }
}
