import Density
import FeatureExtraction

/// What a bank is made of: which features (pooled image embedding, or
/// per-location patch features), how images are resized, and how patch
/// scores are pooled. Saved in the bank's metadata and read back, so that
/// `score` always extracts features exactly as `fit` did.
public struct BankRecipe: Sendable, Equatable {
  /// The features a bank holds.
  public enum Features: Sendable, Equatable {
    /// One pooled backbone feature per image: an image bank.
    case pooled
    /// Patch features joined from the backbone's `stages`
    /// (`PatchFeatureBuilder`), one row per location; an image's score pools
    /// its location scores with `pooling`.
    case patches(stages: [Int], pooling: PatchPooling)
    /// Residual pixel patches (`PixelPatchDescriptor`): forensic banks.
    case pixelPatches(PixelPatchDescriptor, pooling: PatchPooling)
  }

  /// Which features the bank holds (default `.pooled`).
  public var features: Features
  /// How images are brought to the backbone's square input (default `.crop`).
  public var resize: ResizePolicy
  /// Average pooled features over the image and its mirror (image banks).
  public var flipAverage: Bool
  /// JPEG quality every image is re-encoded at before features
  /// (`CompressionHarmonizer`); nil = images as decoded.
  public var harmonizeJPEG: Int?
  /// Where stage maps of a patch bank meet (`PatchFeatureBuilder.Grid`).
  public var patchGrid: PatchFeatureBuilder.Grid

  /// Creates a recipe; the defaults make a plain image bank.
  ///
  /// - Parameters:
  ///   - features: pooled, patch or pixel-patch features.
  ///   - resize: how images are brought to the square input.
  ///   - flipAverage: average pooled features over each image and its mirror.
  ///   - harmonizeJPEG: JPEG quality to re-encode images at first, or nil.
  ///   - patchGrid: where the stage maps of a patch bank meet.
  public init(
    features: Features = .pooled, resize: ResizePolicy = .crop, flipAverage: Bool = false, harmonizeJPEG: Int? = nil,
    patchGrid: PatchFeatureBuilder.Grid = .finest
  ) {
    self.features = features
    self.resize = resize
    self.flipAverage = flipAverage
    self.harmonizeJPEG = harmonizeJPEG
    self.patchGrid = patchGrid
  }

  /// Whether the bank holds one row per location (`.patches` or
  /// `.pixelPatches`) rather than one per image.
  public var isPatchBank: Bool {
    if case .pooled = features { return false }
    return true
  }

  /// Metadata keys describing the recipe.
  public var metadata: [String: String] {
    var m = ["resize": resize.rawValue, "tta": flipAverage ? "hflip" : "none"]
    m["harmonize_jpeg"] = harmonizeJPEG.map(String.init) ?? "none"
    switch features {
    case .pooled:
      m["layer"] = "pooled"
      m["patches"] = "false"
    case .patches(let stages, let pooling):
      m["layer"] = "patches:" + stages.map(String.init).joined(separator: ",")
      m["patches"] = "true"
      m["patch_stages"] = stages.map(String.init).joined(separator: ",")
      m["patch_pooling"] = pooling.description
      m["patch_grid"] = patchGrid.rawValue
    case .pixelPatches(let d, let pooling):
      m["layer"] = "pixels:\(d.residual.rawValue)"
      m["patches"] = "true"
      m["patch_residual"] = d.residual.rawValue
      m["patch_size"] = String(d.patch)
      m["patch_stride"] = String(d.stride)
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
    // Banks written before the grid option joined maps at the finest grid.
    guard let grid = PatchFeatureBuilder.Grid(rawValue: m["patch_grid"] ?? "finest") else {
      throw DensityError.invalidBank(path: path, reason: "metadata 'patch_grid' must be finest or coarsest, found '\(m["patch_grid"] ?? "")'")
    }
    patchGrid = grid
    switch m["harmonize_jpeg"] {
    case nil, "none": harmonizeJPEG = nil
    case let text?:
      guard let q = Int(text), (1...100).contains(q) else {
        throw DensityError.invalidBank(path: path, reason: "metadata 'harmonize_jpeg' must be none or a JPEG quality 1…100, found '\(text)'")
      }
      harmonizeJPEG = q
    }
    if m["patches"] == "true", let residual = m["patch_residual"] {
      guard let r = PixelPatchDescriptor.Residual(rawValue: residual), let size = Int(m["patch_size"] ?? ""),
        let stride = Int(m["patch_stride"] ?? ""), size > 0, stride > 0, let pooling = PatchPooling(m["patch_pooling"] ?? "")
      else {
        throw DensityError.invalidBank(
          path: path, reason: "pixel-patch bank without valid 'patch_residual' / 'patch_size' / 'patch_stride' / 'patch_pooling'")
      }
      features = .pixelPatches(PixelPatchDescriptor(residual: r, patch: size, stride: stride), pooling: pooling)
    } else if m["patches"] == "true" {
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
