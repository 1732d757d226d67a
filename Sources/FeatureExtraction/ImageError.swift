/// Why an image could not be read. Every case names the file.
public enum ImageError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file could not be opened or mapped; `reason` is the system's explanation.
  case cannotRead(path: String, reason: String)
  /// The file (or byte buffer) holds 0 bytes.
  case empty(path: String)
  /// The bytes start with neither the PNG nor the JPEG signature.
  case unknownFormat(path: String)
  /// The header declares `width × height` pixels, more than the pixel
  /// budget `limit` (`ImageLimits.maxPixels`); refused before any pixel
  /// buffer is allocated.
  case tooManyPixels(path: String, width: Int, height: Int, limit: Int)
  /// The decoder (`format` is "PNG", "JPEG" or "image") refused the data,
  /// e.g. a CRC mismatch or a zero width or height; `reason` is its message.
  case corrupt(path: String, format: String, reason: String)
  /// The data of a `format` ("PNG" or "JPEG") file ends before the last
  /// row of pixels.
  case truncated(path: String, format: String, reason: String)
  /// A setting the image code cannot honour, such as a JPEG quality outside
  /// 1…100 for `CompressionHarmonizer` (`path` then names the option).
  case unsupported(path: String, reason: String)
  /// Encoding or writing an image failed; `reason` says why.
  case cannotWrite(path: String, reason: String)

  /// The file the error is about (or the name given for in-memory bytes).
  public var path: String {
    switch self {
    case .cannotRead(let p, _), .empty(let p), .unknownFormat(let p), .tooManyPixels(let p, _, _, _),
      .corrupt(let p, _, _), .truncated(let p, _, _), .unsupported(let p, _), .cannotWrite(let p, _):
      return p
    }
  }

  public var description: String {
    switch self {
    case .cannotRead(let p, let reason): return "\(p): cannot read image: \(reason)"
    case .empty(let p): return "\(p): empty file (0 bytes), expected a PNG or JPEG image"
    case .unknownFormat(let p): return "\(p): not a PNG or JPEG image (unrecognised signature)"
    case .tooManyPixels(let p, let w, let h, let limit):
      return "\(p): image is \(w)×\(h) = \(w * h) pixels, above the pixel budget of \(limit) (raise it with --max-pixels)"
    case .corrupt(let p, let format, let reason): return "\(p): corrupt \(format): \(reason)"
    case .truncated(let p, let format, let reason): return "\(p): truncated \(format): \(reason)"
    case .unsupported(let p, let reason): return "\(p): unsupported image: \(reason)"
    case .cannotWrite(let p, let reason): return "\(p): cannot write image: \(reason)"
    }
  }
}
