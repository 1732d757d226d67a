import CJPEG

/// JPEG decoding through libjpeg-turbo, via a C shim whose error manager
/// returns a status instead of calling `exit()`.
///
/// Baseline, progressive, grayscale and RGB files decode to 8-bit RGB (gray
/// is replicated). CMYK and YCCK files are converted with
/// `r = (255 − c)(255 − k) / 255` (Adobe's inverted storage is detected from
/// its APP14 marker); no ICC profile is applied. A file whose data ends
/// before the last scanline is refused as truncated rather than padded with
/// gray, since a half-gray image would be scored as an anomaly.
enum JPEGCodec {
  static func decode(_ data: UnsafeRawBufferPointer, path: String, limits: ImageLimits) throws -> RGBImage {
    guard let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
      throw ImageError.empty(path: path)
    }
    var message = [CChar](repeating: 0, count: 256)
    var info = ak_jpeg_info()
    let status = ak_jpeg_read_info(base, data.count, &info, &message, message.count)
    try check(status, message, path: path)
    let width = Int(info.width)
    let height = Int(info.height)
    try limits.check(path: path, width: width, height: height)
    var rgb = [UInt8](repeating: 0, count: width * height * 3)
    let decoded = rgb.withUnsafeMutableBufferPointer {
      ak_jpeg_decode_rgb(base, data.count, $0.baseAddress, $0.count, &message, message.count)
    }
    try check(decoded, message, path: path)
    return RGBImage(width: width, height: height, pixels: rgb)
  }

  private static func check(_ status: Int32, _ message: [CChar], path: String) throws {
    if status == Int32(AK_JPEG_OK) { return }
    let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress.unsafelyUnwrapped) }
    if status == Int32(AK_JPEG_TRUNCATED) {
      throw ImageError.truncated(path: path, format: "JPEG", reason: text.isEmpty ? "data ended early" : text)
    }
    throw ImageError.corrupt(path: path, format: "JPEG", reason: text.isEmpty ? "libjpeg refused the file" : text)
  }
}
