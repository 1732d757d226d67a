/// The anomaly scores a reference bank can compute. Higher means more
/// anomalous for all of them.
public enum ScorerKind: String, Sendable, CaseIterable, Codable {
  /// DN2 / PANDA (Bergman et al. 2020; Reiss et al., CVPR 2021), as in the
  /// PANDA code's `knn_score`:
  /// ```
  /// s(x) = Σ_{j=1..k} ‖φ(x) − b_(j)‖²,   k = 2
  /// ```
  /// on raw (unnormalised) features, where b_(j) is the j-th nearest bank
  /// feature. Same as the papers; only the backbone differs (EfficientNet-Lite0
  /// here, ResNet-152 there).
  case knn
  /// Mean-Shifted Contrastive's test-time score (Reiss & Hoshen, AAAI 2023,
  /// `get_score` in the official code): L2-normalise, then the same sum of
  /// squared distances, i.e. `Σ_k (2 − 2 cos)`. With frozen features (no
  /// MSC fine-tuning) this is "cosine kNN", the strongest frozen-feature
  /// baseline in "Anomaly Detection Requires Better Representations".
  case cosineKNN = "cosine-knn"
  /// The mean-shifted representation of MSC applied at test time:
  /// ```
  /// c = mean_i φ̂(b_i),   ψ(v) = (φ̂(v) − c) / ‖φ̂(v) − c‖,   s(x) = Σ_k ‖ψ(x) − ψ(b_(j))‖²
  /// ```
  /// **Differs from the paper:** MSC fine-tunes the backbone with this
  /// representation; we only re-centre frozen features. The official code
  /// scores with plain cosine kNN (above). Measured on CIFAR-10 it is far
  /// below cosine kNN with frozen features; offered for completeness and for
  /// features that were MSC-trained elsewhere.
  case meanShifted = "mean-shifted"
  /// Angular distance to the mean direction (MSC's angular center):
  /// `s(x) = 1 − cos(φ(x), c)` with `c = mean_i φ̂(b_i)`. O(D) per query,
  /// no neighbours, so it is the cheapest scorer and ignores multi-modality.
  case angularCenter = "angular-center"
  /// Gaussian density (Mahalanobis distance), as in "Modeling the
  /// Distribution of Normal Data in Pre-Trained Deep Features" (Rippel et al.
  /// 2020), with Ledoit–Wolf shrinkage (as in that paper and sklearn's
  /// `LedoitWolf`):
  /// ```
  /// Σ̂ = (1 − ρ) S + ρ (tr S / D) I,   s(x) = (φ(x) − μ)ᵀ Σ̂⁻¹ (φ(x) − μ)
  /// ```
  /// factored once in float64 by Cholesky (LAPACKE `dpotrf`); scoring is a
  /// triangular solve. **Differs from Rippel et al.:** one layer, not a sum
  /// over several.
  case gaussian

  /// Whether this scorer searches nearest neighbours (and uses `k`).
  public var usesNeighbors: Bool {
    switch self {
    case .knn, .cosineKNN, .meanShifted: return true
    case .angularCenter, .gaussian: return false
    }
  }

  /// Whether features are L2-normalised before anything else.
  public var normalizes: Bool {
    switch self {
    case .cosineKNN, .meanShifted, .angularCenter: return true
    case .knn, .gaussian: return false
    }
  }

  /// Why a bank with this scorer cannot store its rows in bfloat16, or nil
  /// when it can (`knn`, `cosine-knn`: the search re-ranks in float32).
  public var lowPrecisionRefusal: String? {
    switch self {
    case .knn, .cosineKNN: return nil
    case .meanShifted: return "a mean-shifted bank keeps a float32 shifted copy of its rows: bfloat16 storage would save nothing; use cosine-knn"
    case .angularCenter, .gaussian:
      return "an \(rawValue) bank scores with a fixed-size model, not its rows: bfloat16 storage would save nothing"
    }
  }
}
