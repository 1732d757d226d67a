import CPNG
import CPNGShim

/// PNG decoding through libpng's classic API, via a C shim (`ak_png.c`) whose
/// error handler longjmps only inside C and returns a status; encoding
/// through libpng's simplified API (`png_image_*`).
///
/// Decoding turns every PNG into 8-bit RGB with the same values as Pillow's
/// `Image.open(f).convert("RGB")`, so features match those of a PyTorch
/// pipeline that opens images with PIL:
/// - every colour type and bit depth is accepted: gray (1, 2, 4, 8, 16 bits,
///   scaled to 8 bits as 0/255, ×85, ×17), gray+alpha, palette (with or
///   without tRNS), RGB and RGBA, interlaced (Adam7) or not;
/// - **stored samples are not gamma-corrected**: gAMA, cHRM, sRGB and iCCP
///   are ignored, as Pillow ignores them (libpng's simplified API would
///   convert a gAMA 1.0 file to sRGB);
/// - **16-bit samples keep their high byte** (`v >> 8`), which is exactly
///   Pillow's result for 16-bit RGB and RGBA. (For 16-bit gray Pillow clips
///   the samples to 0…255, which turns nearly every pixel white; we keep the
///   high byte there too.) The high byte is within 1 of `round(v·255/65535)`;
/// - **alpha is dropped**, tRNS included, keeping the stored colour of every
///   pixel, as `convert("RGB")` does. (Compositing onto a background would
///   change the colours of semi-transparent pixels.)
///
/// A CRC mismatch in any chunk is refused as corrupt. A file whose data ends
/// before the last row (and the CRC of its last IDAT) is refused as
/// truncated; chunks after the image data, IEND included, are not read, since
/// they cannot change a pixel and Pillow does not require them either.
enum PNGCodec {
  static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  private static let shim = ShimDecoding(format: "PNG", library: "libpng", ok: Int32(AK_PNG_OK), truncated: Int32(AK_PNG_TRUNCATED))

  static func decode(_ data: UnsafeRawBufferPointer, path: String, limits: ImageLimits) throws -> RGBImage {
    try shim.decode(
      data, path: path, limits: limits,
      readInfo: { bytes, count, message, capacity in
        var info = ak_png_info()
        let status = ak_png_read_info(bytes, count, &info, message, capacity)
        return (status, Int(info.width), Int(info.height))
      },
      decodeRGB: { bytes, count, out, message, capacity in
        ak_png_decode_rgb(bytes, count, out.baseAddress, out.count, message, capacity)
      })
  }

  /// Encodes 8-bit RGB as PNG bytes.
  static func encode(_ rgb: RGBImage, path: String) throws -> [UInt8] {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    image.width = UInt32(rgb.width)
    image.height = UInt32(rgb.height)
    image.format = UInt32(PNG_FORMAT_FLAG_COLOR)
    defer { png_image_free(&image) }
    var size = 0
    // First call measures, second call writes.
    let measured = rgb.pixels.withUnsafeBytes {
      png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, Int32(rgb.width * 3), nil)
    }
    guard measured != 0, size > 0 else { throw ImageError.cannotWrite(path: path, reason: "libpng could not size the PNG") }
    var out = [UInt8](repeating: 0, count: size)
    let written = out.withUnsafeMutableBytes { dst in
      rgb.pixels.withUnsafeBytes {
        png_image_write_to_memory(&image, dst.baseAddress, &size, 0, $0.baseAddress, Int32(rgb.width * 3), nil)
      }
    }
    guard written != 0 else { throw ImageError.cannotWrite(path: path, reason: "libpng failed to encode") }
    return Array(out.prefix(size))
  }
}
