import AnomalyKit

/// Class descriptions (`ClassDescriptions.read(bytes:path:)`): the JSON form
/// and the one-per-line form.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  if let descriptions = try? ClassDescriptions.read(bytes: bytes, path: "fuzz-input.json") {
    precondition(!descriptions.texts.isEmpty && descriptions.classNames.count == descriptions.texts.count, "inconsistent descriptions")
  }
  return 0
}
