import ArgumentParser
import Density
import FeatureExtraction

extension PixelPatchDescriptor.Residual: ExpressibleByArgument {}

/// Named bundles of `fit` options for a kind of bank. Any option given
/// explicitly on the command line wins over the preset's value.
enum PatchPreset: String, ExpressibleByArgument, CaseIterable {
  /// A real-only forensic bank for generated-image detection: the early,
  /// local stages 1–3 of EfficientNet-Lite0 at the image's own resolution,
  /// joined on the stage-3 grid (one 80-d feature per 8×8 pixel block, with
  /// its 3×3 neighbourhood: LaDeDa-sized patches), squared-L2 kNN against
  /// real patches only, mean-pooled (LaDeDa pools patch logits by their
  /// mean). Chosen in issue 5 on one real source. Held out (issue 14) it
  /// flags an image's source more than generation, so `anomalykit deepfake
  /// fit` is the front door; this stays for patch heatmaps and comparison
  /// (Notebooks-export/explorations/deepfake-patch-preset.md).
  case deepfake

  static let defaultStride = 8
  static func defaultPatch(for residual: PixelPatchDescriptor.Residual) -> Int { residual == .npr ? 8 : 9 }

  /// Residual pixel patches, for presets built on them (none is, today).
  var descriptor: PixelPatchDescriptor? {
    switch self {
    case .deepfake: return nil
    }
  }

  var stages: [Int] {
    switch self {
    case .deepfake: return [1, 2, 3]
    }
  }

  var grid: PatchFeatureBuilder.Grid { .coarsest }

  var pooling: PatchPooling {
    switch self {
    case .deepfake: return .mean
    }
  }

  /// Central crop at native resolution: resampling would smooth away the
  /// pixel-grid traces the bank looks for.
  var resize: ResizePolicy { .native }

  /// 256 px: LaDeDa's test size and the size of most images in the
  /// evaluation data, so no image is resampled.
  var inputSize: Int { 256 }

  var coreset: Double { 0.1 }

  /// A random 10% of the real patches: on the harmonised evaluation it scored
  /// 0.676 AUROC against 0.686 for k-center greedy (inside the bootstrap
  /// interval) and fitted 17× faster (1.2 s vs 20.7 s for 124 images), and it
  /// stays linear in the number of patches where greedy is quadratic.
  var coresetMethod: Coreset.Method { .random }

  var transform: FeatureTransform { .none }

  /// Harmonise compression by default: a bank of real JPEGs otherwise flags
  /// any PNG as "generated".
  var harmonizeJPEG: Int? { 90 }
}
