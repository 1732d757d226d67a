/// Why an image could not be read. Every case names the file.
public enum ImageError: Error, CustomStringConvertible, Equatable, Sendable {
  case cannotRead(path: String, reason: String)
  case empty(path: String)
  case unknownFormat(path: String)
  case tooManyPixels(path: String, width: Int, height: Int, limit: Int)
  case corrupt(path: String, format: String, reason: String)
  case truncated(path: String, format: String, reason: String)
  case unsupported(path: String, reason: String)
  case cannotWrite(path: String, reason: String)

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
