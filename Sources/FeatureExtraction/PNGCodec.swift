import CPNG

/// PNG decoding and encoding through libpng's simplified API
/// (`png_image_*`), which reports errors by return code, never by longjmp.
///
/// Decoding turns every PNG colour type into 8-bit RGB:
/// - 8- and 16-bit gray, gray+alpha, palette (with or without tRNS), RGB and
///   RGBA are all accepted;
/// - 16-bit samples are treated as sRGB-encoded (`PNG_IMAGE_FLAG_16BIT_sRGB`),
///   as nearly all 16-bit PNGs in the wild are, and scaled to 8 bits;
/// - **alpha is dropped**, keeping the stored colour of every pixel, as
///   PIL's `Image.convert("RGB")` does. Features therefore match those of a
///   PyTorch pipeline that opens images with PIL. (Compositing onto a
///   background would change the colours of semi-transparent pixels.)
enum PNGCodec {
  static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  static func decode(_ data: UnsafeRawBufferPointer, path: String, limits: ImageLimits) throws -> RGBImage {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    defer { png_image_free(&image) }
    guard png_image_begin_read_from_memory(&image, data.baseAddress, data.count) != 0 else {
      throw error(image, path: path)
    }
    let width = Int(image.width)
    let height = Int(image.height)
    try limits.check(path: path, width: width, height: height)
    image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
    image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
    var rgba = [UInt8](repeating: 0, count: width * height * 4)
    let ok = rgba.withUnsafeMutableBytes { buffer in
      png_image_finish_read(&image, nil, buffer.baseAddress, Int32(width * 4), nil)
    }
    guard ok != 0 else { throw error(image, path: path) }
    var rgb = [UInt8](repeating: 0, count: width * height * 3)
    rgba.withUnsafeBufferPointer { src in
      rgb.withUnsafeMutableBufferPointer { dst in
        for i in 0..<(width * height) {
          dst[3 * i] = src[4 * i]
          dst[3 * i + 1] = src[4 * i + 1]
          dst[3 * i + 2] = src[4 * i + 2]
        }
      }
    }
    return RGBImage(width: width, height: height, pixels: rgb)
  }

  private static func error(_ image: png_image, path: String) -> ImageError {
    var message = image.message
    let text = withUnsafeBytes(of: &message) { raw -> String in
      let bytes = raw.prefix { $0 != 0 }
      return String(decoding: bytes, as: UTF8.self)
    }
    let lower = text.lowercased()
    if lower.contains("read error") || lower.contains("eof") || lower.contains("truncat") || lower.contains("not enough") {
      return .truncated(path: path, format: "PNG", reason: text.isEmpty ? "data ended early" : text)
    }
    return .corrupt(path: path, format: "PNG", reason: text.isEmpty ? "libpng refused the file" : text)
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
