import FeatureExtraction
import ParallelCompute

/// Image files → one identity descriptor each: the face pipeline of the
/// identity fact-check, dlib's `face_recognition` recipe end to end.
///
/// **Photos** (`Input.photos`), per file:
/// 1. decode (PNG/JPEG, refused above `limits` before any pixel is allocated);
/// 2. detect faces with the MMOD CNN (`FaceDetector`) at `upsample = 0`,
///    which finds faces from ≈ 80 px. **Small-image retry:** when it finds
///    none and the image has fewer than `smallImagePixels` (0.5 MP) pixels,
///    detect again at `upsample = 1` (faces from ≈ 40 px, for 4× the pixels).
///    Large images are not retried: their faces are rarely that small, and
///    doubling a 12 MP photo costs 48 MP of feature maps for little gain;
/// 3. keep the most confident face `d* = argmax_d conf(d)` and count the
///    others (`FaceEncoding.facesFound`; the CLI warns when > 1);
/// 4. 5 landmarks in `d*` (`ShapePredictor`), then the 150 × 150 chip of
///    `FaceChip.extract` (dlib's `get_face_chip`, padding 0.25);
/// 5. the 128-d descriptor `f(x)` of the chip (`FaceEmbedder`).
///
/// **Chips** (`Input.chips`): the file already is an aligned 150 × 150 chip
/// (as made by step 4, e.g. a dataset of aligned faces); steps 2–4 are
/// skipped and any other size is refused (`IdentityError.wrongChipSize`).
///
/// A file with no face gives nil (the caller decides between an error,
/// `IdentityError.noFace`, and skipping it). Decoding errors name the file
/// (`ImageError`); detection and alignment errors are wrapped in
/// `IdentityError.faceProcessing` with the file's path.
///
/// **Parallelism.** Steps 1–4 run one file per worker (`ParallelFor`, each
/// detection single-threaded: with small images, whole files parallelise
/// better than one image's rows); step 5 runs on each batch of
/// `batchSize` chips, one chip per worker. Descriptors do not depend on the
/// worker count or the batch. Memory: `workers` images in flight, each
/// ≈ 50 bytes a pixel during detection (`FaceDetector.defaultMaxPixels`
/// caps one image).
public struct FaceIdentityEncoder: Sendable {
  /// What the input files are.
  public enum Input: String, Sendable {
    /// Photos: detect, landmark and align the face first.
    case photos
    /// Aligned 150 × 150 face chips, embedded as they are.
    case chips
  }

  /// Below this many pixels (width × height), an image without a face at
  /// `upsample = 0` is searched again at `upsample = 1`.
  public static let smallImagePixels = 500_000

  /// The face detector (step 2).
  public let detector: FaceDetector
  /// The landmark predictor (step 4).
  public let predictor: ShapePredictor
  /// The descriptor network (step 5); its chip size is the one `Input.chips`
  /// requires.
  public let embedder: FaceEmbedder
  /// Pixel budget checked before decoding each file.
  public var limits: ImageLimits
  /// Worker threads for alignment and embedding (at least 1).
  public var workers: Int
  /// Files aligned and embedded per round (bounds memory; progress is
  /// reported after each round).
  public var batchSize: Int

  /// An encoder from loaded networks; `workers` and `batchSize` below 1 are
  /// raised to 1.
  public init(
    detector: FaceDetector, predictor: ShapePredictor, embedder: FaceEmbedder, limits: ImageLimits = ImageLimits(),
    workers: Int = ParallelFor.defaultWorkers, batchSize: Int = 32
  ) {
    self.detector = detector
    self.predictor = predictor
    self.embedder = embedder
    self.limits = limits
    self.workers = max(1, workers)
    self.batchSize = max(1, batchSize)
  }

  /// How faces are found and aligned, for a bank's provenance.
  public static func alignmentDescription(_ input: Input) -> String {
    switch input {
    case .photos:
      return "dlib MMOD CNN detector (upsample 0; upsample 1 when no face and < \(smallImagePixels) pixels), "
        + "most confident face, 5-point shape predictor, get_face_chip 150x150 padding 0.25"
    case .chips:
      return "pre-aligned 150x150 face chips (dlib get_face_chip layout), embedded as given"
    }
  }

  /// One descriptor per file, in order; nil where no face was found.
  ///
  /// - Parameters:
  ///   - paths: the image files.
  ///   - input: whether the files are photos or aligned chips.
  ///   - progress: called after each batch with the number of files done.
  public func encode(_ paths: [String], input: Input, progress: ((Int) -> Void)? = nil) throws -> [FaceEncoding?] {
    var out: [FaceEncoding?] = []
    out.reserveCapacity(paths.count)
    var start = 0
    while start < paths.count {
      let batch = Array(paths[start..<min(paths.count, start + batchSize)])
      let aligned = try align(batch, input: input)
      let found = aligned.compactMap { $0 }
      let descriptors = try embedder.embed(found.map(\.chip), workers: workers)
      var next = 0
      for (path, face) in zip(batch, aligned) {
        guard let face else {
          out.append(nil)
          continue
        }
        out.append(
          FaceEncoding(
            path: path, descriptor: descriptors[next], facesFound: face.facesFound, box: face.box, upsampled: face.upsampled))
        next += 1
      }
      start += batch.count
      progress?(start)
    }
    return out
  }

  /// Steps 1–4 for each file, in parallel.
  func align(_ paths: [String], input: Input) throws -> [AlignedFace?] {
    let slots = ResultSlots<AlignedFace?>(count: paths.count)
    let this = self
    ParallelFor.chunks(count: paths.count, workers: workers) { range in
      for i in range {
        slots.set(i, Result { try this.align(path: paths[i], input: input) })
      }
    }
    return try slots.values()
  }

  /// Steps 1–4 for one file.
  func align(path: String, input: Input) throws -> AlignedFace? {
    let image = try ImageDecoder.decode(path: path, limits: limits)
    switch input {
    case .chips:
      let size = embedder.chipSize
      guard image.width == size, image.height == size else {
        throw IdentityError.wrongChipSize(path: path, width: image.width, height: image.height, expected: size)
      }
      return AlignedFace(chip: image, facesFound: 1, box: nil, upsampled: false)
    case .photos:
      do {
        return try align(image)
      } catch let error as FaceNetworkError {
        throw IdentityError.faceProcessing(path: path, reason: error.description)
      } catch let error as FaceAlignmentError {
        throw IdentityError.faceProcessing(path: path, reason: error.description)
      }
    }
  }

  /// Steps 2–4 on a decoded photo.
  func align(_ image: RGBImage) throws -> AlignedFace? {
    var faces = try detector.detect(image, upsample: 0, workers: 1)
    var upsampled = false
    if faces.isEmpty, image.width * image.height < Self.smallImagePixels {
      faces = try detector.detect(image, upsample: 1, workers: 1)
      upsampled = true
    }
    guard let best = faces.first else { return nil }  // `detect` sorts by confidence, highest first
    let box = FaceRect(left: best.left, top: best.top, right: best.right, bottom: best.bottom)
    let points = try predictor.landmarks(in: image, box: box)
    let chip = try FaceChip.extract(from: image, landmarks: points, size: embedder.chipSize)
    return AlignedFace(chip: chip, facesFound: faces.count, box: best, upsampled: upsampled)
  }
}
