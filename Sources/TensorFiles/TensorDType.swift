/// Element types a tensor file can hold, spelled as safetensors spells them.
///
/// The reader understands all of these; the networks read floating tensors as
/// `Float` (F16 and BF16 are widened exactly, F64 is rounded to nearest).
public enum TensorDType: String, Sendable, CaseIterable, Codable {
  /// IEEE 754 single precision, 4 bytes.
  case f32 = "F32"
  /// IEEE 754 half precision, 2 bytes.
  case f16 = "F16"
  /// bfloat16 (the upper half of a float32), 2 bytes.
  case bf16 = "BF16"
  /// IEEE 754 double precision, 8 bytes.
  case f64 = "F64"
  /// Signed 64-bit integer.
  case i64 = "I64"
  /// Signed 32-bit integer.
  case i32 = "I32"
  /// Unsigned 8-bit integer.
  case u8 = "U8"

  /// Bytes per element.
  public var size: Int {
    switch self {
    case .f64, .i64: return 8
    case .f32, .i32: return 4
    case .f16, .bf16: return 2
    case .u8: return 1
    }
  }

  /// Whether `Float` values can be read from this type.
  public var isFloatingPoint: Bool {
    switch self {
    case .f32, .f16, .bf16, .f64: return true
    case .i64, .i32, .u8: return false
    }
  }
}
