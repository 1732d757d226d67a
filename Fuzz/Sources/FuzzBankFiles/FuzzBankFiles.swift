import Density
import OODFront
import TensorFiles

/// The three loaders on top of safetensors: reference banks
/// (`BankFile.read`), cold-start detectors (`DetectorFile.read`) and
/// identity banks (`IdentityBankFile.read`), each given the same in-memory
/// `SafeTensorsFile`. Each must load or throw.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let mapped = MappedFile(copying: UnsafeRawBufferPointer(start: data, count: size), path: "fuzz-input.safetensors")
  guard let file = try? SafeTensorsFile(mapped: mapped) else { return 0 }
  _ = try? BankFile.read(file)
  _ = try? DetectorFile.read(file)
  _ = try? IdentityBankFile.read(file)
  return 0
}
