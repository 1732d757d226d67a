import CKernels
import ParallelCompute

/// The activation ranges that fix an `int8` backbone's quantisation: for
/// each product run in 8-bit integers, in the order the forward pass runs
/// them, the smallest and largest float32 value its input took over a
/// calibration set (min/max calibration).
///
/// Each range `[lo, hi]` becomes an affine 8-bit code (`ak_i8_activation_quantization`):
///
/// ```
/// lo' = min(lo, 0),  hi' = max(hi, 0)
/// s   = (hi' − lo') / 255,   z = clamp(rint(−lo' / s), 0, 255)
/// q(x) = clamp(rint(x / s) + z, 0, 255)
/// ```
///
/// so 0 is exact and values outside the calibrated range saturate. The
/// calibration is part of the feature space: a bank fitted in `int8` records
/// it (metadata key `int8_activation_ranges`) and queries are quantised
/// with the same ranges; a backbone calibrated differently is refused like
/// another precision.
public struct Int8Calibration: Sendable, Equatable {
  /// `[lo, hi]` per quantised product, in forward order.
  public let ranges: [ClosedRange<Float>]

  /// The metadata key banks and detectors record the ranges under.
  public static let metadataKey = "int8_activation_ranges"

  /// Ranges as measured; each must be finite.
  public init(ranges: [ClosedRange<Float>]) {
    self.ranges = ranges
  }

  /// The ranges as metadata: `lo:hi` pairs separated by spaces, each float
  /// written so that it reads back to the same bits.
  public var metadataValue: String {
    ranges.map { "\($0.lowerBound):\($0.upperBound)" }.joined(separator: " ")
  }

  /// The ranges recorded in `metadata`, nil when the key is absent.
  ///
  /// - Throws: `PrecisionError.badCalibration` naming `path` for a value that
  ///   is not a list of finite `lo:hi` pairs with `lo ≤ hi`.
  public init?(metadata: [String: String], path: String) throws {
    guard let value = metadata[Self.metadataKey] else { return nil }
    var ranges: [ClosedRange<Float>] = []
    for (index, pair) in value.split(separator: " ").enumerated() {
      let parts = pair.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count == 2, let lo = Float(parts[0]), let hi = Float(parts[1]), lo.isFinite, hi.isFinite, lo <= hi else {
        throw PrecisionError.badCalibration(
          path: path, reason: "range \(index + 1) of \(Self.metadataKey) is '\(pair)', expected lo:hi with finite lo ≤ hi")
      }
      ranges.append(lo...hi)
    }
    guard !ranges.isEmpty else { throw PrecisionError.badCalibration(path: path, reason: "\(Self.metadataKey) is empty") }
    self.ranges = ranges
  }
}

/// Collects `Int8Calibration` ranges while a float32 forward pass runs:
/// `observe(_:_:count:)` widens range `index` to cover `count` values.
/// Safe to call from several workers at once.
final class ActivationRangeRecorder: @unchecked Sendable {
  private var lows: [Float]
  private var highs: [Float]
  private let lock = Mutex()

  init(count: Int) {
    lows = Array(repeating: .infinity, count: count)
    highs = Array(repeating: -.infinity, count: count)
  }

  func observe(_ index: Int, _ values: UnsafePointer<Float>, count: Int) {
    var lo = Float.infinity
    var hi = -Float.infinity
    for i in 0..<count {
      let v = values[i]
      guard v.isFinite else { continue }
      if v < lo { lo = v }
      if v > hi { hi = v }
    }
    lock.withLock {
      lows[index] = min(lows[index], lo)
      highs[index] = max(highs[index], hi)
    }
  }

  /// The ranges seen (non-finite values are skipped); a product that saw
  /// no finite value gets `[0, 0]`.
  var calibration: Int8Calibration {
    lock.withLock {
      Int8Calibration(
        ranges: zip(lows, highs).map { lo, hi in lo.isFinite && hi.isFinite && lo <= hi ? lo...hi : 0...0 })
    }
  }
}

extension ImageBackbone {
  /// Throws unless an `int8` backbone quantises with the ranges recorded in
  /// `metadata` (a bank's or detector's, read from `path`): the same
  /// weights calibrated on other images make other features. Nothing to
  /// check for other precisions, for a file without ranges, or with
  /// `allowMixed`.
  public func checkCalibration(against metadata: [String: String], path: String, allowMixed: Bool) throws {
    guard precision == .int8, !allowMixed, let recorded = try Int8Calibration(metadata: metadata, path: path),
      recorded != int8Calibration
    else { return }
    throw PrecisionError.badCalibration(
      path: path,
      reason:
        "it was quantised with other activation ranges than this backbone (calibrated on other images); load it without a backbone to use its own ranges, or allow mixed precision")
  }
}
