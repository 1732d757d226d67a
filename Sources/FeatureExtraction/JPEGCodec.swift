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
}
