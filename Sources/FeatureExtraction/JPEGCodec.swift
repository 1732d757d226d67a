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
  private static let shim = ShimDecoding(format: "JPEG", library: "libjpeg", ok: Int32(AK_JPEG_OK), truncated: Int32(AK_JPEG_TRUNCATED))

  static func decode(_ data: UnsafeRawBufferPointer, path: String, limits: ImageLimits) throws -> RGBImage {
    try shim.decode(
      data, path: path, limits: limits,
      readInfo: { bytes, count, message, capacity in
        var info = ak_jpeg_info()
        let status = ak_jpeg_read_info(bytes, count, &info, message, capacity)
        return (status, Int(info.width), Int(info.height))
      },
      decodeRGB: { bytes, count, out, message, capacity in
        ak_jpeg_decode_rgb(bytes, count, out.baseAddress, out.count, message, capacity)
      })
  }

  /// Encodes 8-bit RGB as a baseline JPEG at `quality` (1…100) with
  /// libjpeg's defaults: 4:2:0 chroma subsampling and the Annex K tables
  /// scaled by `quality`, the settings of Pillow's `save(quality=q)`.
  static func encode(_ image: RGBImage, quality: Int, path: String) throws -> [UInt8] {
    guard (1...100).contains(quality) else {
      throw ImageError.cannotWrite(path: path, reason: "JPEG quality \(quality) is outside 1…100")
    }
    guard image.width > 0, image.height > 0, image.width <= 65_500, image.height <= 65_500 else {
      throw ImageError.cannotWrite(path: path, reason: "JPEG cannot hold a \(image.width)×\(image.height) image (sides 1…65500)")
    }
    var output: UnsafeMutablePointer<UInt8>?
    var length = 0
    var message = [CChar](repeating: 0, count: 256)
    let status = image.pixels.withUnsafeBufferPointer { rgb in
      message.withUnsafeMutableBufferPointer { m in
        ak_jpeg_encode_rgb(
          rgb.baseAddress, Int32(image.width), Int32(image.height), Int32(quality), &output, &length, m.baseAddress, m.count)
      }
    }
    defer { ak_jpeg_free(output) }
    guard status == Int32(AK_JPEG_OK), let output else {
      let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress.unsafelyUnwrapped) }
      throw ImageError.cannotWrite(path: path, reason: text.isEmpty ? "libjpeg failed to encode" : text)
    }
    return Array(UnsafeBufferPointer(start: output, count: length))
  }
}
