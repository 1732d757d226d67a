import AnomalyKit
import FeatureExtraction
import Foundation
import TensorFiles

/// Identity claims as anomalies: fit on reference photos of one person,
/// then say whether new photos support the claim "this is that person".
///
/// ```swift
/// let verifier = try await IdentityVerifier.fit(name: "Ada", references: adaPhotos)
/// for check in try await verifier.check(uploads) {
///   print(check.path, check.truth ?? .nan, check.supportsClaim ?? false)
/// }
/// ```
///
/// Faces are found, aligned and embedded by dlib's networks
/// (`FaceIdentityEncoder`); a photo's truth score is the cosine similarity
/// of its unit descriptor to the nearest reference,
/// `t(x) = max_r ⟨x̂, r̂⟩`, and it supports the claim when `t ≥ threshold`
/// (`IdentityBank.defaultThreshold`, dlib's 0.6 Euclidean distance on unit
/// vectors). The file is the one `anomalykit identity fit` writes from the
/// same photos, byte for byte.
public struct IdentityVerifier: Sendable {
  /// Where the three dlib weight files are; nil finds each bundled file.
  public struct Weights: Sendable {
    /// dlib's face ResNet (the 128-d descriptor).
    public var embedder: URL?
    /// dlib's MMOD face detector.
    public var detector: URL?
    /// dlib's 5-point shape predictor.
    public var landmarks: URL?

    /// Weights at the given paths (nil: bundled).
    public init(embedder: URL? = nil, detector: URL? = nil, landmarks: URL? = nil) {
      self.embedder = embedder
      self.detector = detector
      self.landmarks = landmarks
    }
  }

  /// The reference descriptors, threshold and provenance.
  public private(set) var bank: IdentityBank
  /// Finds, aligns and embeds faces.
  public let encoder: FaceIdentityEncoder
  /// Whether inputs are photos (detect and align) or aligned chips.
  public let input: FaceIdentityEncoder.Input

  /// Loads the face networks and records each weight file's SHA-256.
  ///
  /// - Returns: the encoder and the provenance a bank records.
  public static func encoder(
    weights: Weights = Weights(), input: FaceIdentityEncoder.Input = .photos, limits: ImageLimits = ImageLimits()
  ) throws -> (encoder: FaceIdentityEncoder, provenance: [String: String]) {
    let embedder = try FaceEmbedder(path: try weights.embedder?.path ?? BundledWeights.path("dlib-face-resnet-v1.safetensors"))
    let detector = try FaceDetector(path: try weights.detector?.path ?? BundledWeights.path("dlib-mmod-face-detector.safetensors"))
    let predictor = try ShapePredictor(path: try weights.landmarks?.path ?? BundledWeights.path("dlib-shape-predictor-5.safetensors"))
    let provenance = [
      "embedder": FaceEmbedder.architecture, "embedder_sha256": embedder.weightsSHA256,
      "detector": FaceDetector.architecture, "detector_sha256": detector.weightsSHA256,
      "landmarks": "dlib-shape-predictor-5", "landmarks_sha256": predictor.weightsSHA256,
      "alignment": FaceIdentityEncoder.alignmentDescription(input),
    ]
    return (FaceIdentityEncoder(detector: detector, predictor: predictor, embedder: embedder, limits: limits), provenance)
  }

  /// Fits on reference photos of one person.
  ///
  /// - Parameters:
  ///   - name: the identity claimed.
  ///   - references: photos (or chips) of that person; files without a
  ///     face throw `IdentityError.noFace` unless `skipNoFace`.
  ///   - threshold: the truth score from which a photo supports the claim.
  ///   - weights: the dlib weight files.
  ///   - input: photos or aligned chips.
  ///   - skipNoFace: leave files without a face out instead of throwing.
  public static func fit(
    name: String, references: [URL], threshold: Float = IdentityBank.defaultThreshold, weights: Weights = Weights(),
    input: FaceIdentityEncoder.Input = .photos, skipNoFace: Bool = false
  ) async throws -> IdentityVerifier {
    try await offloaded {
      let (encoder, provenance) = try encoder(weights: weights, input: input)
      let found = try encoder.encode(references.map(\.path), input: input)
      var kept: [FaceEncoding] = []
      for (url, face) in zip(references, found) {
        guard let face else {
          if skipNoFace { continue }
          throw IdentityError.noFace(path: url.path)
        }
        kept.append(face)
      }
      return try fit(name: name, faces: kept, threshold: threshold, encoder: encoder, input: input, provenance: provenance)
    }
  }

  /// A verifier from faces already encoded (`FaceIdentityEncoder.encode`).
  ///
  /// - Throws: `AnomalyKitError.invalidInput` when `faces` is empty.
  public static func fit(
    name: String, faces: [FaceEncoding], threshold: Float, encoder: FaceIdentityEncoder, input: FaceIdentityEncoder.Input,
    provenance: [String: String]
  ) throws -> IdentityVerifier {
    guard !faces.isEmpty else { throw AnomalyKitError.invalidInput("no face found in any reference; nothing to fit") }
    var bank = try IdentityBank(
      name: name, descriptors: faces.map(\.descriptor), sources: faces.map(\.path), threshold: threshold, metadata: provenance)
    bank.metadata["leave_one_out_truth"] = bank.leaveOneOutSummary().json.serialized
    return IdentityVerifier(bank: bank, encoder: encoder, input: input)
  }

  /// Checks photos against the claim: one result per photo, in order.
  public func check(_ images: [URL]) async throws -> [IdentityCheck] {
    try await offloaded { [self] in
      let found = try encoder.encode(images.map(\.path), input: input)
      return zip(images, found).map { url, face in
        guard let face else { return IdentityCheck(path: url.path, truth: nil, supportsClaim: nil, nearestReference: nil, facesFound: 0) }
        let (score, nearest) = bank.truth(face.descriptor)
        return IdentityCheck(
          path: url.path, truth: score, supportsClaim: bank.supportsClaim(score), nearestReference: bank.sources[nearest],
          facesFound: face.facesFound)
      }
    }
  }

  /// Writes the identity bank atomically (safetensors).
  public func save(to url: URL) throws {
    try IdentityBankFile.write(bank, to: url.path, toolkitVersion: ToolkitVersion.current)
  }

  /// Reads an identity bank, refusing one made with other embedder weights.
  public static func load(
    from url: URL, weights: Weights = Weights(), input: FaceIdentityEncoder.Input = .photos
  ) throws -> IdentityVerifier {
    let (encoder, _) = try encoder(weights: weights, input: input)
    return IdentityVerifier(bank: try IdentityBankFile.read(path: url.path, embedder: encoder.embedder), encoder: encoder, input: input)
  }
}

/// The verdict on one photo against an identity claim.
public struct IdentityCheck: Sendable, Equatable {
  /// The photo checked.
  public let path: String
  /// Cosine similarity to the nearest reference; nil when no face was found.
  public let truth: Float?
  /// Whether `truth ≥ threshold`; nil when no face was found.
  public let supportsClaim: Bool?
  /// The reference photo nearest to this face.
  public let nearestReference: String?
  /// Faces the detector found (the most confident one is used).
  public let facesFound: Int
}

extension IdentityBank {
  /// The references' leave-one-out truth scores, summarised: count, min,
  /// median, mean, max and how many fall below the threshold (as JSON and
  /// as a sentence). A reference below the threshold matches no other one:
  /// it may show someone else.
  ///
  /// - Parameter scores: `leaveOneOutScores()`, when the caller has them
  ///   already (they cost one comparison per pair of references).
  public func leaveOneOutSummary(_ scores: [Float]? = nil) -> (json: JSONValue, text: String) {
    let scores = scores ?? leaveOneOutScores()
    guard !scores.isEmpty else {
      return (.object([("count", .number(0))]), "leave-one-out truth scores: need ≥ 2 references")
    }
    let sorted = scores.sorted()
    let n = sorted.count
    let median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    let mean = sorted.reduce(0, +) / Float(n)
    let below = sorted.filter { $0 < threshold }.count
    let json = JSONValue.object([
      ("count", .number(Double(n))), ("min", .number(Double(sorted[0]))), ("median", .number(Double(median))),
      ("mean", .number(Double(mean))), ("max", .number(Double(sorted[n - 1]))),
      ("below_threshold", .number(Double(below))),
    ])
    let text = String(
      format: "leave-one-out truth scores of the references: min %.4f, median %.4f, max %.4f (%d of %d below the threshold)",
      sorted[0], median, sorted[n - 1], below, n)
    return (json, text)
  }
}
