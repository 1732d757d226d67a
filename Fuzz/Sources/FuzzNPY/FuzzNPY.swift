import TensorFiles

/// `.npy` reading (`NPYFile.read(bytes:path:)`, the path reader's parser).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let matrix = try? NPYFile.read(bytes: UnsafeRawBufferPointer(start: data, count: size), path: "fuzz-input.npy") {
    precondition(matrix.values.count == matrix.rows * matrix.columns, "values disagree with the shape")
  }
  return 0
}
