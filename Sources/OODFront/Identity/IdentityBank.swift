/// A real-only reference bank for one claimed identity: the FACTOR-style
/// fact check "this is person P" (Reiss, Cavia & Hoshen, "Detecting Deepfakes
/// Without Seeing Any").
///
/// The bank holds the face descriptors f(r₁) … f(r_N) of authentic images of
/// P, each L2-normalised. A query image x claimed to show P gets the
/// **truth score**
///
///     t(x) = max_i ⟨f(x)/‖f(x)‖, f(r_i)/‖f(r_i)‖⟩ ∈ [−1, 1],
///
/// the cosine similarity to the nearest reference. A deepfake (or an
/// impostor) must synthesise P's identity from the outside, and generators
/// do that imperfectly, so a low truth score falsifies the claim. No fake is
/// ever needed: the bank is fitted on real images of P only.
///
/// **Differs from the FACTOR code**, which scores by the 1-NN squared L2
/// distance on raw features: on unit vectors ‖a − b‖² = 2 − 2⟨a, b⟩, so the
/// ranking is the same as cosine similarity when features are normalised,
/// and the paper speaks of cosine similarity. We normalise.
///
/// The verdict uses `threshold` (cosine): `t(x) ≥ threshold` supports the
/// claim. The default is dlib's own same-person rule, Euclidean distance
/// < 0.6 between descriptors, translated to cosines at the descriptors'
/// typical norm (see `defaultThreshold`).
public struct IdentityBank: Sendable {
  /// dlib's face-recognition model calls two faces the same person when
  /// their descriptors are closer than `d₀ = 0.6` (Euclidean). Its
  /// descriptors are **not** unit vectors: their norms cluster around
  /// `r̄ ≈ 1.52` (mean 1.516, sd 0.073, range 1.36–1.64 over the 61 faces of
  /// the identities set; a label-free statistic). For two descriptors of
  /// norm `r` at cosine `c`, `‖a − b‖² = 2r²(1 − c)`, so dlib's rule reads
  ///
  ///     ‖a − b‖ < d₀  ⇔  c > 1 − d₀² / (2 r̄²) = 1 − 0.36 / (2 · 1.52²) ≈ 0.922.
  ///
  /// We use 0.92. (Reading the rule as if the descriptors were unit vectors,
  /// `1 − d₀²/2 = 0.82`, accepts most strangers: on all 1,690 different-person
  /// pairs of that set, 61 % reach cosine 0.82, 0.2 % reach 0.92, and 0.3 %
  /// are closer than 0.6 Euclidean; every one of the 140 same-person pairs
  /// reaches 0.92. See `Notebooks-export/identity.md`.)
  public static let defaultThreshold: Float = 0.92

  /// The claimed identity's name, as given at fit time.
  public let name: String
  /// Descriptor width (128 for dlib's ResNet).
  public let dimension: Int
  /// `count × dimension`, unit rows.
  public private(set) var references: [Float]
  /// Where each reference came from (file paths as given at fit time).
  public private(set) var sources: [String]
  /// Cosine threshold of the verdict: `t(x) ≥ threshold` supports the claim.
  public var threshold: Float
  /// Provenance: the weights that made the descriptors, and how faces were
  /// found and aligned.
  public var metadata: [String: String]

  /// Number of references `N`.
  public var count: Int { sources.count }

  /// A bank fitted on authentic images of one identity; each descriptor is
  /// L2-normalised (`normalized(_:)`).
  ///
  /// - Parameters:
  ///   - name: the claimed identity's name; not empty.
  ///   - descriptors: one raw descriptor per reference image, all of the
  ///     same width; at least one.
  ///   - sources: the file of each reference, in the order of `descriptors`.
  ///   - threshold: the cosine verdict threshold.
  ///   - metadata: provenance written into the bank file.
  /// - Throws: `IdentityError.invalidArgument` for an empty name, no
  ///   references, or descriptors and sources that do not match.
  public init(name: String, descriptors: [[Float]], sources: [String], threshold: Float = IdentityBank.defaultThreshold,
    metadata: [String: String] = [:]) throws {
    guard !name.isEmpty else { throw IdentityError.invalidArgument("the identity needs a non-empty name") }
    guard let first = descriptors.first, !first.isEmpty else {
      throw IdentityError.invalidArgument("an identity bank needs at least one reference face")
    }
    guard descriptors.count == sources.count, descriptors.allSatisfy({ $0.count == first.count }) else {
      throw IdentityError.invalidArgument("references must be one descriptor of equal width per source")
    }
    self.name = name
    self.dimension = first.count
    self.references = descriptors.flatMap(Self.normalized)
    self.sources = sources
    self.threshold = threshold
    self.metadata = metadata
  }

  /// A bank from references that are already unit rows (as stored in a
  /// file), kept bit for bit.
  init(name: String, unitReferences: [Float], dimension: Int, sources: [String], threshold: Float, metadata: [String: String]) {
    self.name = name
    self.dimension = dimension
    self.references = unitReferences
    self.sources = sources
    self.threshold = threshold
    self.metadata = metadata
  }

  /// `v / ‖v‖` (a zero vector stays zero and matches nothing).
  public static func normalized(_ v: [Float]) -> [Float] {
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return norm > 0 ? v.map { $0 / norm } : v
  }

  /// The truth score of one raw descriptor and the index of its nearest
  /// reference (the first of equals on an exact tie).
  public func truth(_ descriptor: [Float]) -> (score: Float, nearest: Int) {
    precondition(descriptor.count == dimension, "descriptor width \(descriptor.count) ≠ bank width \(dimension)")
    let q = Self.normalized(descriptor)
    var best: Float = -.infinity
    var nearest = 0
    references.withUnsafeBufferPointer { r in
      for i in 0..<count {
        var dot: Float = 0
        for j in 0..<dimension { dot += q[j] * r[i * dimension + j] }
        if dot > best {
          best = dot
          nearest = i
        }
      }
    }
    return (best, nearest)
  }

  /// Whether a truth score supports the claimed identity.
  public func supportsClaim(_ score: Float) -> Bool { score >= threshold }

  /// Leave-one-out truth scores of the references among themselves (needs
  /// ≥ 2 references): how similar P's own authentic images are, a check on
  /// the bank and a guide for `threshold`.
  public func leaveOneOutScores() -> [Float] {
    guard count >= 2 else { return [] }
    return (0..<count).map { i in
      var best: Float = -.infinity
      for k in 0..<count where k != i {
        var dot: Float = 0
        for j in 0..<dimension { dot += references[i * dimension + j] * references[k * dimension + j] }
        best = max(best, dot)
      }
      return best
    }
  }
}
