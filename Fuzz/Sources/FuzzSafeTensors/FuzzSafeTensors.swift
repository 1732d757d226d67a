import TensorFiles

/// The safetensors header and tensor table (`SafeTensorsFile(mapped:)` on an
/// in-memory copy), then every accessor on every tensor the header admits:
/// a file that passes validation must be readable without a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let mapped = MappedFile(copying: UnsafeRawBufferPointer(start: data, count: size), path: "fuzz-input.safetensors")
  guard let file = try? SafeTensorsFile(mapped: mapped) else { return 0 }
  for name in file.names {
    guard let info = try? file.info(name) else { preconditionFailure("listed tensor '\(name)' has no info") }
    let byteCount = try? file.withRawBytes(name) { $0.count }
    precondition(byteCount == info.elementCount * info.dtype.size, "tensor '\(name)' bytes disagree with its shape")
    switch info.dtype {
    case .f32:
      let viewed = try? file.withFloats(name) { $0.count }
      precondition(viewed == info.elementCount, "withFloats count")
      _ = try? file.floats(name)
      _ = try? file.doubles(name)
    case .f16, .bf16, .f64:
      precondition((try? file.floats(name))?.count == info.elementCount, "floats count")
      _ = try? file.doubles(name)
    case .i64, .i32, .u8:
      precondition((try? file.integers(name))?.count == info.elementCount, "integers count")
    }
  }
  _ = try? file.requireMetadata("format")
  return 0
}
