import Density
import FeatureExtraction

/// What a bank is made of: which features (pooled image embedding, or
/// per-location patch features), how images are resized, and how patch
/// scores are pooled. Saved in the bank's metadata and read back, so that
/// `score` always extracts features exactly as `fit` did.
public struct BankRecipe: Sendable, Equatable {
  public enum Features: Sendable, Equatable {
    case pooled
    case patches(stages: [Int], pooling: PatchPooling)
  }

  public var features: Features
  public var resize: ResizePolicy
  /// Average pooled features over the image and its mirror (image banks).
  public var flipAverage: Bool

  public init(features: Features = .pooled, resize: ResizePolicy = .crop, flipAverage: Bool = false) {
    self.features = features
    self.resize = resize
    self.flipAverage = flipAverage
  }

  public var isPatchBank: Bool {
    if case .patches = features { return true }
    return false
  }

  /// Metadata keys describing the recipe.
  public var metadata: [String: String] {
    var m = ["resize": resize.rawValue, "tta": flipAverage ? "hflip" : "none"]
    switch features {
    case .pooled:
      m["layer"] = "pooled"
      m["patches"] = "false"
    case .patches(let stages, let pooling):
      m["layer"] = "patches:" + stages.map(String.init).joined(separator: ",")
      m["patches"] = "true"
      m["patch_stages"] = stages.map(String.init).joined(separator: ",")
      m["patch_pooling"] = pooling.description
    }
    return m
  }

  /// Reads a recipe back from bank metadata.
  public init(metadata m: [String: String], path: String) throws {
    guard let r = m["resize"], let resize = ResizePolicy(rawValue: r) else {
      throw DensityError.invalidBank(path: path, reason: "metadata 'resize' is missing or unknown")
    }
    self.resize = resize
    flipAverage = m["tta"] == "hflip"
    if m["patches"] == "true" {
      let stages = (m["patch_stages"] ?? "").split(separator: ",").compactMap { Int($0) }
      guard !stages.isEmpty, let pooling = PatchPooling(m["patch_pooling"] ?? "") else {
        throw DensityError.invalidBank(path: path, reason: "patch bank without valid 'patch_stages' / 'patch_pooling'")
      }
      features = .patches(stages: stages, pooling: pooling)
    } else {
      features = .pooled
    }
  }
}
