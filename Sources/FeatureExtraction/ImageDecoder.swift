import TensorFiles

/// Reads PNG and JPEG files into `RGBImage`s.
///
/// The format is chosen from the file's signature, not its extension. The
/// pixel budget in `limits` is checked against the header before any pixel
/// buffer is allocated. An EXIF orientation is applied unless
/// `limits.orientation` is `.asStored`.
public enum ImageDecoder {
  /// Reads and decodes the PNG or JPEG file at `path` (memory-mapped).
  ///
  /// - Throws: `ImageError.cannotRead` when the file cannot be opened, and
  ///   the errors of `decode(bytes:path:limits:)`.
  public static func decode(path: String, limits: ImageLimits = ImageLimits()) throws -> RGBImage {
    let file: MappedFile
    do {
      file = try MappedFile(path: path)
    } catch let error as TensorFileError {
      if case .cannotOpen(_, let reason) = error { throw ImageError.cannotRead(path: path, reason: reason) }
      throw ImageError.cannotRead(path: path, reason: error.description)
    }
    return try file.withBytes { try decode(bytes: $0, path: path, limits: limits) }
  }

  /// Decodes an image held in memory; `path` is only used in messages.
  ///
  /// - Throws: `ImageError.empty`, `.unknownFormat`, `.tooManyPixels`,
  ///   `.corrupt` or `.truncated`.
  public static func decode(bytes: UnsafeRawBufferPointer, path: String, limits: ImageLimits = ImageLimits()) throws -> RGBImage {
    if bytes.isEmpty { throw ImageError.empty(path: path) }
    let stored: RGBImage
    if bytes.starts(with: PNGCodec.signature) {
      stored = try PNGCodec.decode(bytes, path: path, limits: limits)
    } else if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF {
      stored = try JPEGCodec.decode(bytes, path: path, limits: limits)
    } else {
      throw ImageError.unknownFormat(path: path)
    }
    guard limits.orientation == .applyEXIF, let orientation = EXIFOrientation.read(bytes) else { return stored }
    return EXIFOrientation.apply(orientation, to: stored)
  }

  /// Decodes an image held in a byte array; `path` is only used in messages.
  public static func decode(bytes: [UInt8], path: String, limits: ImageLimits = ImageLimits()) throws -> RGBImage {
    try bytes.withUnsafeBytes { try decode(bytes: $0, path: path, limits: limits) }
  }
}

/// Encodes images as PNG (lossless) or JPEG, and writes them atomically.
public enum ImageEncoder {
  /// Baseline JPEG bytes at `quality` (1…100), 4:2:0, libjpeg's tables.
  public static func jpegBytes(_ image: RGBImage, quality: Int, path: String = "(memory)") throws -> [UInt8] {
    try JPEGCodec.encode(image, quality: quality, path: path)
  }

  /// Lossless 8-bit RGB PNG bytes of `image`; `path` names it in errors.
  public static func pngBytes(_ image: RGBImage, path: String = "(memory)") throws -> [UInt8] {
    try PNGCodec.encode(image, path: path)
  }

  /// Writes `image` to `path` as PNG through a temp file and rename.
  public static func writePNG(_ image: RGBImage, to path: String) throws {
    let bytes = try PNGCodec.encode(image, path: path)
    do {
      try AtomicFile.write(bytes, to: path)
    } catch let error as TensorFileError {
      throw ImageError.cannotWrite(path: path, reason: error.description)
    }
  }
}
