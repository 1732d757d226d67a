import AnomalyKit
import ArgumentParser
import FeatureExtraction
import OODFront
import TensorFiles

/// Options `deepfake fit` and `deepfake score` share: the backbone, image
/// limits and the input-file budget.
struct DeepfakeImageOptions: ParsableArguments {
  @Option(name: .long, help: "EfficientNet-Lite0 weights for the network cues. Default: the bundled Weights/efficientnet-lite0.safetensors.")
  var weights: String?

  @Option(name: .customLong("tiny-ladeda"), help: "Tiny-LaDeDa weights (converted by Weights/convert.py tiny-ladeda; research licence, never bundled) for the cue tiny_ladeda.")
  var tinyLaDeDa: String?

  @Option(name: .long, help: "Refuse images with more pixels than this, before decoding.")
  var maxPixels: Int = ImageLimits.defaultMaxPixels

  @Option(name: .long, help: "Refuse runs with more input files than this.")
  var maxFiles: Int = 1_000_000

  @Flag(name: .customLong("keep-stored-orientation"), help: "Read pixels as stored, ignoring a photo's EXIF orientation.")
  var keepStoredOrientation = false

  var limits: ImageLimits { ImageLimits(maxPixels: maxPixels, orientation: keepStoredOrientation ? .asStored : .applyEXIF) }

  func validate() throws {
    guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive") }
    guard maxFiles > 0 else { throw ValidationError("--max-files must be positive") }
  }
}
