import AnomalyKit
import ArgumentParser
import Density
import FeatureExtraction

extension PixelPatchDescriptor.Residual: ExpressibleByArgument {}

/// `fit --preset NAME`: a named library configuration for a kind of bank.
/// Any option given explicitly on the command line wins over the preset's
/// value; the values themselves live in `BankConfiguration`.
enum PatchPreset: String, ExpressibleByArgument, CaseIterable {
  /// `BankConfiguration.deepfakePatches`: a real-only forensic patch bank.
  /// Held out (issue 14) it flags an image's source more than generation,
  /// so `anomalykit deepfake fit` is the front door; this stays for patch
  /// heatmaps and comparison.
  case deepfake

  static let defaultStride = 8
  static func defaultPatch(for residual: PixelPatchDescriptor.Residual) -> Int { residual == .npr ? 8 : 9 }

  /// The library configuration the preset names.
  var configuration: BankConfiguration {
    switch self {
    case .deepfake: return .deepfakePatches
    }
  }

  /// Residual pixel patches, for presets built on them (none is, today).
  var descriptor: PixelPatchDescriptor? {
    if case .pixelPatches(let d, _) = configuration.features { return d }
    return nil
  }
}
