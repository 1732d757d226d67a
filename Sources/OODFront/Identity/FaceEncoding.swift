import FeatureExtraction

/// The identity descriptor of the face in one file, with how it was found.
public struct FaceEncoding: Sendable {
  /// The file, as given.
  public let path: String
  /// dlib's raw 128-d descriptor `f(x)` of the face (not normalised).
  public let descriptor: [Float]
  /// How many faces the detector found in the file (1 for a chip). Only the
  /// most confident one is described; callers warn when there were more,
  /// because the claim may be about another face in the picture.
  public let facesFound: Int
  /// The described face's box in the file's pixels (nil for a chip).
  public let box: FaceDetection?
  /// Whether the face was only found after doubling the image once (the
  /// small-image retry of `FaceIdentityEncoder`).
  public let upsampled: Bool

  /// An encoding with the given fields.
  public init(path: String, descriptor: [Float], facesFound: Int, box: FaceDetection?, upsampled: Bool) {
    self.path = path
    self.descriptor = descriptor
    self.facesFound = facesFound
    self.box = box
    self.upsampled = upsampled
  }
}

/// One file after detection and alignment, before embedding.
struct AlignedFace: Sendable {
  let chip: RGBImage
  let facesFound: Int
  let box: FaceDetection?
  let upsampled: Bool
}
