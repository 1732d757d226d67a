import FeatureExtraction

/// PNG decoding through `ImageDecoder.decode(bytes:)` (signature dispatch,
/// the libpng shim, the pixel budget). The budget is 1 megapixel so that a
/// header claiming a huge image is refused before any pixel buffer exists:
/// only an allocation the budget fails to stop is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  if let image = try? ImageDecoder.decode(bytes: bytes, path: "fuzz-input.png", limits: ImageLimits(maxPixels: 1_000_000)) {
    precondition(image.width > 0 && image.height > 0 && image.pixels.count == image.width * image.height * 3, "inconsistent RGBImage")
  }
  return 0
}
