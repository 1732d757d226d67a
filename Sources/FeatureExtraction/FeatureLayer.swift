/// Which activations of a backbone to return.
public enum FeatureLayer: Sendable, Hashable, CustomStringConvertible {
  /// The globally average-pooled head output (1280-d for EfficientNet-Lite),
  /// the image embedding used by DN2/PANDA-style banks.
  case pooled
  /// The 1000 ImageNet logits (before softmax).
  case logits
  /// The output map of stage `n` (1-based), i.e. of its last block.
  case stage(Int)

  public var description: String {
    switch self {
    case .pooled: return "pooled"
    case .logits: return "logits"
    case .stage(let n): return "stage\(n)"
    }
  }

  /// Parses `pooled`, `logits` or `stage1`…`stage7`.
  public init?(_ text: String) {
    switch text {
    case "pooled": self = .pooled
    case "logits": self = .logits
    default:
      guard text.hasPrefix("stage"), let n = Int(text.dropFirst(5)), n >= 1 else { return nil }
      self = .stage(n)
    }
  }
}

/// A batch of feature maps in channels-last layout: `count × height × width × channels`.
public struct FeatureMaps: Sendable {
  /// Number of images (maps) in the batch.
  public let count: Int
  /// Rows of each map.
  public let height: Int
  /// Columns of each map.
  public let width: Int
  /// Channels at each location.
  public let channels: Int
  /// `count × height × width × channels` values, channels-last (NHWC).
  public var values: [Float]

  /// Wraps `values` as a batch of maps; traps unless
  /// `values.count == count × height × width × channels`.
  ///
  /// - Parameters:
  ///   - count: number of images.
  ///   - height: rows of each map.
  ///   - width: columns of each map.
  ///   - channels: channels at each location.
  ///   - values: the maps back to back, channels-last.
  public init(count: Int, height: Int, width: Int, channels: Int, values: [Float]) {
    precondition(values.count == count * height * width * channels, "FeatureMaps needs count × height × width × channels values")
    self.count = count
    self.height = height
    self.width = width
    self.channels = channels
    self.values = values
  }

  /// Values in one image's map: `height × width × channels`.
  public var elementsPerImage: Int { height * width * channels }

  /// Image `i`'s map flattened in PyTorch's C×H×W order.
  public func chwFlattened(image i: Int) -> [Float] {
    var out = [Float](repeating: 0, count: elementsPerImage)
    let base = i * elementsPerImage
    for y in 0..<height {
      for x in 0..<width {
        for c in 0..<channels { out[(c * height + y) * width + x] = values[base + (y * width + x) * channels + c] }
      }
    }
    return out
  }
}

/// What one forward pass over a batch returns.
public struct BackboneOutput: Sendable {
  /// `count × featureDimension`, if `.pooled` was requested.
  public var pooled: [Float]?
  /// `count × classes`, if `.logits` was requested.
  public var logits: [Float]?
  /// Requested stage maps, keyed by 1-based stage number.
  public var stages: [Int: FeatureMaps] = [:]

  /// Bundles the outputs of one forward pass; anything not requested stays
  /// nil or empty.
  ///
  /// - Parameters:
  ///   - pooled: `count × featureDimension` pooled features.
  ///   - logits: `count × classes` logits.
  ///   - stages: stage maps keyed by 1-based stage number.
  public init(pooled: [Float]? = nil, logits: [Float]? = nil, stages: [Int: FeatureMaps] = [:]) {
    self.pooled = pooled
    self.logits = logits
    self.stages = stages
  }
}
