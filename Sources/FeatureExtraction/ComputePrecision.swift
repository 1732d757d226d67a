import CKernels

/// The arithmetic of a backbone's or a text encoder's matrix products.
///
/// - `fp32`: float32 operands, float32 fused multiply-adds (the default).
/// - `bf16`: every convolution lowered to a matrix product (1×1, and the
///   im2col stem) and every linear layer runs in bfloat16. The weights are
///   rounded once, at load; each input row is rounded as it enters the
///   product; the products, exact in float32, are summed in float32:
///
///   ```
///   y[j] = act(b[j] + Σ_p bf16(x[p]) · bf16(W[p, j]))
///   ```
///
///   where `bf16(v)` keeps 8 significand bits, rounding to nearest even (a
///   relative error of at most 2⁻⁹ per operand). Depthwise convolutions,
///   attention, LayerNorm, pooling and the classifier stay float32.
/// - `int8`: the stem and every 1×1 convolution of the image backbone run on
///   8-bit integers with exact int32 sums (`ak_i8_gemm_bias_activation`). Weights
///   are quantised symmetrically per output channel at load
///   (`s_c = max|W[·, c]| / 127`); each product's input is quantised with an
///   affine scale and zero point fixed by a calibration pass
///   (`Int8Calibration`: the float32 range each input took over the images
///   the bank is fitted on):
///
///   ```
///   y[j] = act(b[j] + s_a·s_j · Σ_p (q(x[p]) − z) · q_j(W[p, j]))
///   ```
///
///   Depthwise convolutions, pooling and the classifier stay float32.
///
///   The text encoder's linear layers run on the same kernel, but a text
///   detector has no corpus to calibrate on (a cold start begins from a
///   class name), so each input row (one token's activations) is coded by
///   its own range instead (`ak_i8_gemm_pack_per_row`):
///   `s_i = (max(0, max x_i) − min(0, min x_i)) / 255`, the same formula as a
///   calibrated range, so an embedding still depends only on its own text.
///   Attention, LayerNorm and pooling stay float32.
///
/// A bank or detector records the precision its features were made in
/// (metadata key `precision`; files without it were made in `fp32`).
/// Features of another precision are refused unless mixing is asked for
/// explicitly, because their rounding shifts every distance a little: the
/// threshold was calibrated on the bank's own arithmetic.
public enum ComputePrecision: String, CaseIterable, Sendable, Codable {
  /// float32 operands and sums; runs on every CPU.
  case fp32
  /// bfloat16 operands at every matrix product, float32 sums; needs AVX-512 BF16.
  case bf16
  /// 8-bit integer operands at the stem, every 1×1 convolution (calibrated
  /// activation scales) and every linear layer of the text encoder (per-row
  /// scales), int32 sums; needs AVX-512 VNNI.
  case int8

  /// The metadata key banks and detectors record the precision under.
  public static let metadataKey = "precision"

  /// The instruction set this precision needs (nil for `fp32`, which runs
  /// everywhere).
  public var requiredInstructionSet: String? {
    switch self {
    case .fp32: return nil
    case .bf16: return "AVX-512 BF16 (avx512f, avx512bw and avx512_bf16's vdpbf16ps)"
    case .int8: return "AVX-512 VNNI (avx512f, avx512bw, avx512dq and avx512_vnni's vpdpbusd)"
    }
  }

  /// Whether this process may run the precision: the CPU has the
  /// instructions and `ANOMALYKIT_KERNELS` does not turn them off.
  public var isSupported: Bool {
    switch self {
    case .fp32: return true
    case .bf16: return ak_cpu_has_avx512_bf16() != 0
    case .int8: return ak_cpu_has_avx512_vnni() != 0
    }
  }

  /// Throws `PrecisionError.unsupported` unless `isSupported`.
  public func checkSupported() throws {
    guard !isSupported, let instructions = requiredInstructionSet else { return }
    throw PrecisionError.unsupported(precision: self, instructionSet: instructions, kernels: PrecisionError.kernelsOverride)
  }

  /// The precision recorded in `metadata` (`fp32` when the key is absent).
  ///
  /// - Throws: `PrecisionError.unknown` for a value that is not a precision.
  public init(metadata: [String: String], path: String) throws {
    guard let value = metadata[Self.metadataKey] else {
      self = .fp32
      return
    }
    guard let precision = ComputePrecision(rawValue: value) else { throw PrecisionError.unknown(path: path, value: value) }
    self = precision
  }

  /// The precision to run a stored bank or detector in: `requested` when
  /// given, else the one it was made in.
  ///
  /// - Parameters:
  ///   - requested: the precision asked for, nil to follow the file.
  ///   - recorded: the file's precision.
  ///   - path: the file, for the message.
  ///   - allowMixed: accept a `requested` precision other than `recorded`.
  /// - Throws: `PrecisionError.mixed` when both are known, differ, and
  ///   `allowMixed` is false; `.unsupported` when the chosen precision cannot
  ///   run here.
  public static func resolve(
    requested: ComputePrecision?, recorded: ComputePrecision, path: String, allowMixed: Bool
  ) throws -> ComputePrecision {
    let chosen = requested ?? recorded
    try chosen.checkMatches(recorded, path: path, allowMixed: allowMixed)
    try chosen.checkSupported()
    return chosen
  }

  /// Throws `PrecisionError.mixed` when this precision (the one running) is
  /// not `recorded`, the one the file at `path` was made in, unless
  /// `allowMixed`.
  public func checkMatches(_ recorded: ComputePrecision, path: String, allowMixed: Bool) throws {
    if self != recorded, !allowMixed { throw PrecisionError.mixed(path: path, recorded: recorded, requested: self) }
  }
}

/// Errors choosing a `ComputePrecision`.
public enum PrecisionError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The precision needs instructions this CPU lacks, or that
  /// `ANOMALYKIT_KERNELS` (`kernels`, when set) turns off.
  case unsupported(precision: ComputePrecision, instructionSet: String, kernels: String?)
  /// A file was made in one precision and another was requested.
  case mixed(path: String, recorded: ComputePrecision, requested: ComputePrecision)
  /// A file records a precision this version does not know.
  case unknown(path: String, value: String)
  /// `int8` was asked of something that has no int8 path (`what`: e.g.
  /// cold-start image detectors, which fit no images to calibrate on).
  case unavailable(precision: ComputePrecision, what: String)
  /// `int8` features need the activation ranges of a calibration pass and
  /// `source` (a file, or the call) gave none.
  case needsCalibration(source: String)
  /// The calibration recorded in `path` cannot be read or does not fit the
  /// backbone.
  case badCalibration(path: String, reason: String)

  /// `ANOMALYKIT_KERNELS` when it turns the AVX-512 kernels off, for messages.
  static var kernelsOverride: String? {
    guard let path = KernelPath.requested, path != .avx512 else { return nil }
    return path.rawValue
  }

  public var description: String {
    switch self {
    case .unsupported(let precision, let instructions, let kernels):
      let reason = kernels.map { "which ANOMALYKIT_KERNELS=\($0) turns off" } ?? "which this CPU does not have"
      return
        "--precision \(precision.rawValue) needs \(instructions), \(reason); use --precision fp32 (with --allow-mixed-precision for a bank or detector made in \(precision.rawValue))"
    case .mixed(let path, let recorded, let requested):
      return
        "\(path): made with --precision \(recorded.rawValue), but this run asks for \(requested.rawValue); drop --precision to use \(recorded.rawValue), or pass --allow-mixed-precision to compare \(requested.rawValue) features with it"
    case .unavailable(let precision, let what):
      return "--precision \(precision.rawValue) is not available for \(what); use --precision fp32 or bf16"
    case .needsCalibration(let source):
      return
        "\(source): --precision int8 needs the activation ranges of a calibration pass, and none are recorded; fit the bank with --precision int8 (it calibrates on the images it fits on)"
    case .badCalibration(let path, let reason):
      return "\(path): bad int8 calibration: \(reason)"
    case .unknown(let path, let value):
      return "\(path): unknown precision '\(value)' in the metadata (expected \(ComputePrecision.allCases.map(\.rawValue).joined(separator: " or ")))"
    }
  }
}
