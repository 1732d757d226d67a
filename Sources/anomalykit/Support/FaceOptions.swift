import AnomalyKit
import ArgumentParser
import FeatureExtraction
import Foundation
import OODFront

/// Options the `identity` commands share: where the dlib weights are, what
/// the inputs are, and what to do with a file without a face.
struct FaceOptions: ParsableArguments {
  @Flag(name: .long, help: "Inputs are aligned 150×150 face chips (dlib get_face_chip layout): skip detection and alignment.")
  var chips = false

  @Flag(name: .customLong("skip-no-face"), help: "Warn about files with no face and go on without them (default: stop with an error naming the file).")
  var skipNoFace = false

  @Option(name: .customLong("embedder-weights"), help: "dlib face ResNet weights. Default: the bundled Weights/dlib-face-resnet-v1.safetensors.")
  var embedderWeights: String?

  @Option(name: .customLong("detector-weights"), help: "dlib MMOD face detector weights. Default: the bundled Weights/dlib-mmod-face-detector.safetensors.")
  var detectorWeights: String?

  @Option(name: .customLong("landmarks-weights"), help: "dlib 5-point shape predictor weights. Default: the bundled Weights/dlib-shape-predictor-5.safetensors.")
  var landmarksWeights: String?

  @Option(name: .long, help: "Refuse images with more pixels than this, before decoding.")
  var maxPixels: Int = ImageLimits.defaultMaxPixels

  @Option(name: .long, help: "Refuse runs with more input files than this.")
  var maxFiles: Int = 1_000_000

  func validate() throws {
    guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive") }
    guard maxFiles > 0 else { throw ValidationError("--max-files must be positive") }
  }

  var input: FaceIdentityEncoder.Input { chips ? .chips : .photos }

  /// The loaded networks and the SHA-256 of each weight file.
  func encoder() throws -> (encoder: FaceIdentityEncoder, provenance: [String: String]) {
    let url = { (path: String?) in path.map { URL(fileURLWithPath: $0) } }
    return try IdentityVerifier.encoder(
      weights: IdentityVerifier.Weights(embedder: url(embedderWeights), detector: url(detectorWeights), landmarks: url(landmarksWeights)),
      input: input, limits: ImageLimits(maxPixels: maxPixels))
  }

  /// Encodes `paths`, one entry per path: stops at the first file without a
  /// face, or (with `--skip-no-face`) warns and leaves nil in its place;
  /// warns about files with more than one face.
  func encode(_ paths: [String], with encoder: FaceIdentityEncoder, label: String) throws -> [FaceEncoding?] {
    let progress = Progress(label, total: paths.count)
    let found = try encoder.encode(paths, input: input) { progress.update($0) }
    var missing: [String] = []
    for (path, face) in zip(paths, found) {
      guard let face else {
        guard skipNoFace else {
          throw CLIError("\(IdentityError.noFace(path: path)); or pass --skip-no-face to leave such files out")
        }
        missing.append(path)
        continue
      }
      if face.facesFound > 1 {
        warn("warning: \(path): \(face.facesFound) faces found; using the most confident one")
      }
    }
    if !missing.isEmpty {
      let preview = missing.prefix(5).joined(separator: ", ")
      let more = missing.count > 5 ? " and \(missing.count - 5) more" : ""
      warn("warning: skipped \(missing.count) file(s) with no face: \(preview)\(more)")
    }
    return found
  }
}
