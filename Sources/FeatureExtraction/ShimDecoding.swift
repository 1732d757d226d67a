/// The decode sequence the PNG and JPEG C shims share: read the header,
/// check the pixel budget before any pixel buffer exists, decode into 8-bit
/// RGB, and turn the shim's status codes into `ImageError`s naming the file.
struct ShimDecoding {
  /// The format's name in messages ("PNG") and its library ("libpng").
  let format: String
  let library: String
  let ok: Int32
  let truncated: Int32

  func decode(
    _ data: UnsafeRawBufferPointer, path: String, limits: ImageLimits,
    readInfo: (UnsafePointer<UInt8>, Int, UnsafeMutablePointer<CChar>, Int) -> (status: Int32, width: Int, height: Int),
    decodeRGB: (UnsafePointer<UInt8>, Int, UnsafeMutableBufferPointer<UInt8>, UnsafeMutablePointer<CChar>, Int) -> Int32
  ) throws -> RGBImage {
    guard let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
      throw ImageError.empty(path: path)
    }
    var message = [CChar](repeating: 0, count: 256)
    let info = message.withUnsafeMutableBufferPointer { readInfo(base, data.count, $0.baseAddress.unsafelyUnwrapped, $0.count) }
    try check(info.status, message, path: path)
    try limits.check(path: path, width: info.width, height: info.height)
    var rgb = [UInt8](repeating: 0, count: info.width * info.height * 3)
    let status = rgb.withUnsafeMutableBufferPointer { out in
      message.withUnsafeMutableBufferPointer { decodeRGB(base, data.count, out, $0.baseAddress.unsafelyUnwrapped, $0.count) }
    }
    try check(status, message, path: path)
    return RGBImage(width: info.width, height: info.height, pixels: rgb)
  }

  private func check(_ status: Int32, _ message: [CChar], path: String) throws {
    if status == ok { return }
    let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress.unsafelyUnwrapped) }
    if status == truncated {
      throw ImageError.truncated(path: path, format: format, reason: text.isEmpty ? "data ended early" : text)
    }
    throw ImageError.corrupt(path: path, format: format, reason: text.isEmpty ? "\(library) refused the file" : text)
  }
}
