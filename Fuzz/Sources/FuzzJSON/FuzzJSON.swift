import TensorFiles

/// `JSONValue.parse` at the default nesting limit and at the safetensors
/// header's limit of 4; whatever parses must serialise to JSON that parses
/// back to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  _ = try? JSONValue.parse(bytes, maxDepth: 4)
  guard let value = try? JSONValue.parse(bytes) else { return 0 }
  let text = value.serialized
  guard let again = try? JSONValue.parse(text) else { preconditionFailure("serialised JSON does not parse: \(text)") }
  precondition(again == value, "JSON round trip changed the value: \(text)")
  return 0
}
