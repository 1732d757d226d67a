import CKernels
import Foundation

/// The family of CPU kernels this process runs for the matrix products,
/// convolutions and transformer layers.
///
/// Chosen once per process: the widest the CPU supports, unless the
/// `ANOMALYKIT_KERNELS` environment variable names a narrower one (for
/// tests and benchmarks that compare paths on one machine):
///
/// - `avx512`: the float32 GEMM in 12×32 ZMM tiles, the depthwise
///   convolution sixteen channels at a time (channel counts that are
///   multiples of 16), the bfloat16 kernels
///   (`ComputePrecision.bf16`, bfloat16 banks) where AVX-512 BF16 exists,
///   and the int8 kernels (`ComputePrecision.int8`) where AVX-512 VNNI does;
/// - `avx2`: AVX2 + FMA kernels (6×16 YMM GEMM tiles), no bfloat16 or int8
///   products;
/// - `portable`: OpenBLAS `sgemm` and plain C loops.
///
/// The float32 GEMM and depthwise convolution give the same bits on the
/// `avx512` and `avx2` paths (each output is the same FMA chain); `portable`
/// rounds differently.
public enum KernelPath: String, CaseIterable, Sendable {
  /// AVX-512 F/BW/DQ kernels (with AVX-512 BF16 where present).
  case avx512
  /// AVX2 + FMA kernels.
  case avx2
  /// OpenBLAS and plain C loops; every CPU.
  case portable

  /// The environment variable that narrows the choice.
  public static let environmentVariable = "ANOMALYKIT_KERNELS"

  /// The path this process runs.
  public static var active: KernelPath {
    if ak_cpu_has_avx512f() != 0 { return .avx512 }
    if ak_cpu_has_avx2_fma() != 0 { return .avx2 }
    return .portable
  }

  /// The instructions the path needs (nil for `portable`).
  public var requiredInstructionSet: String? {
    switch self {
    case .avx512: return "AVX-512 (avx512f, avx512bw, avx512dq) with AVX2 and FMA"
    case .avx2: return "AVX2 and FMA"
    case .portable: return nil
    }
  }

  /// The path `ANOMALYKIT_KERNELS` names, nil when it is unset or names none.
  static var requested: KernelPath? { environmentValue.flatMap(KernelPath.init(rawValue:)) }

  /// `ANOMALYKIT_KERNELS` as set, nil when unset.
  private static var environmentValue: String? { getenv(environmentVariable).map { String(cString: $0) } }

  /// Throws unless `ANOMALYKIT_KERNELS` is unset, or names a path this CPU
  /// can run.
  ///
  /// - Throws: `KernelPathError.unknown` for another value,
  ///   `KernelPathError.unsupported` for a path whose instructions the CPU
  ///   lacks (the kernels would otherwise fall back silently).
  public static func checkEnvironment() throws {
    guard let value = environmentValue else { return }
    guard let path = KernelPath(rawValue: value) else { throw KernelPathError.unknown(value: value) }
    let supported: Bool
    switch path {
    case .avx512: supported = ak_cpu_has_avx512f() != 0
    case .avx2: supported = ak_cpu_has_avx2_fma() != 0
    case .portable: supported = true
    }
    if !supported, let instructions = path.requiredInstructionSet {
      throw KernelPathError.unsupported(path: path, instructionSet: instructions)
    }
  }
}

/// A bad `ANOMALYKIT_KERNELS` setting.
public enum KernelPathError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The value names no kernel path.
  case unknown(value: String)
  /// The path needs instructions this CPU does not have.
  case unsupported(path: KernelPath, instructionSet: String)

  public var description: String {
    switch self {
    case .unknown(let value):
      return "ANOMALYKIT_KERNELS='\(value)' is not a kernel path (expected \(KernelPath.allCases.map(\.rawValue).joined(separator: ", ")), or unset)"
    case .unsupported(let path, let instructions):
      return "ANOMALYKIT_KERNELS=\(path.rawValue) needs \(instructions), which this CPU does not have; unset it to use the best path this CPU has"
    }
  }
}
