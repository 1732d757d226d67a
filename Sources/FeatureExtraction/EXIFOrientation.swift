/// The EXIF orientation of a photo (TIFF tag 0x0112): how the stored pixels
/// must be turned to be seen upright.
///
/// Phone cameras store the sensor's pixels as they come and record the
/// phone's attitude in this tag, so a portrait photo is typically stored
/// sideways with orientation 6. Viewers, browsers and OpenCV's `imread`
/// apply it; Pillow's `Image.open` does not (`ImageOps.exif_transpose` does).
/// The values, as `ImageOps.exif_transpose` applies them:
///
/// | value | stored → upright |
/// |---|---|
/// | 1 | as stored |
/// | 2 | mirror left–right |
/// | 3 | rotate 180° |
/// | 4 | mirror top–bottom |
/// | 5 | transpose (mirror across the main diagonal) |
/// | 6 | rotate 90° clockwise |
/// | 7 | transverse (mirror across the anti-diagonal) |
/// | 8 | rotate 90° counter-clockwise |
///
/// The tag is read from a JPEG's APP1 `Exif` segment or a PNG's `eXIf`
/// chunk. Anything malformed, truncated or out of range reads as "no
/// orientation": the tag is advice, never a reason to refuse an image.
public enum EXIFOrientation {
  /// The orientation (2…8) recorded in an encoded PNG or JPEG, or nil when
  /// there is none, it is 1, or it cannot be read.
  public static func read(_ bytes: UnsafeRawBufferPointer) -> Int? {
    let value: Int?
    if bytes.starts(with: PNGCodec.signature) {
      value = pngEXIF(bytes).flatMap { tiffOrientation(bytes, start: $0.lowerBound, end: $0.upperBound) }
    } else if bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 {
      value = jpegEXIF(bytes).flatMap { tiffOrientation(bytes, start: $0.lowerBound, end: $0.upperBound) }
    } else {
      value = nil
    }
    guard let value, (2...8).contains(value) else { return nil }
    return value
  }

  /// `image` turned upright according to `orientation` (1…8; any other
  /// value leaves it as stored).
  ///
  /// With `W × H` the stored size, output pixel `(x', y')` comes from
  /// stored pixel `(x, y)`:
  /// ```
  /// 2: (W−1−x', y')      3: (W−1−x', H−1−y')   4: (x', H−1−y')
  /// 5: (y', x')          6: (y', H−1−x')        7: (W−1−y', H−1−x')
  /// 8: (W−1−y', x')
  /// ```
  /// 5 to 8 swap the sides: the output is `H × W`.
  public static func apply(_ orientation: Int, to image: RGBImage) -> RGBImage {
    guard (2...8).contains(orientation) else { return image }
    let w = image.width
    let h = image.height
    let swaps = orientation >= 5
    let outW = swaps ? h : w
    let outH = swaps ? w : h
    var out = [UInt8](repeating: 0, count: outW * outH * 3)
    image.pixels.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for y2 in 0..<outH {
          for x2 in 0..<outW {
            let (x, y): (Int, Int)
            switch orientation {
            case 2: (x, y) = (w - 1 - x2, y2)
            case 3: (x, y) = (w - 1 - x2, h - 1 - y2)
            case 4: (x, y) = (x2, h - 1 - y2)
            case 5: (x, y) = (y2, x2)
            case 6: (x, y) = (y2, h - 1 - x2)
            case 7: (x, y) = (w - 1 - y2, h - 1 - x2)
            default: (x, y) = (w - 1 - y2, x2)
            }
            let s = (y * w + x) * 3
            let d = (y2 * outW + x2) * 3
            dst[d] = src[s]
            dst[d + 1] = src[s + 1]
            dst[d + 2] = src[s + 2]
          }
        }
      }
    }
    return RGBImage(width: outW, height: outH, pixels: out)
  }

  /// The byte range of the TIFF structure inside a JPEG's first APP1
  /// `Exif\0\0` segment, scanning markers up to the first scan.
  static func jpegEXIF(_ b: UnsafeRawBufferPointer) -> Range<Int>? {
    var i = 2
    while i + 4 <= b.count {
      guard b[i] == 0xFF else { return nil }
      let marker = b[i + 1]
      if marker == 0xFF {  // fill byte
        i += 1
        continue
      }
      if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) {  // no length
        i += 2
        continue
      }
      if marker == 0xDA || marker == 0xD9 { return nil }  // scan data or end: no EXIF before it
      let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
      guard length >= 2, i + 2 + length <= b.count else { return nil }
      let payload = (i + 4)..<(i + 2 + length)
      if marker == 0xE1, payload.count >= 14, Array(b[payload.lowerBound..<(payload.lowerBound + 6)]) == Array("Exif\0\0".utf8) {
        return (payload.lowerBound + 6)..<payload.upperBound
      }
      i += 2 + length
    }
    return nil
  }

  /// The byte range of a PNG's `eXIf` chunk data (a TIFF structure).
  static func pngEXIF(_ b: UnsafeRawBufferPointer) -> Range<Int>? {
    var i = PNGCodec.signature.count
    while i + 12 <= b.count {
      let length = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
      let type = Array(b[(i + 4)..<(i + 8)])
      guard length <= b.count - i - 12 else { return nil }
      if type == Array("eXIf".utf8) { return (i + 8)..<(i + 8 + length) }
      if type == Array("IEND".utf8) { return nil }
      i += 12 + length
    }
    return nil
  }

  /// Tag 0x0112 of IFD0 in the TIFF structure at `start..<end`.
  static func tiffOrientation(_ b: UnsafeRawBufferPointer, start: Int, end: Int) -> Int? {
    guard end - start >= 8, end <= b.count else { return nil }
    let little: Bool
    switch (b[start], b[start + 1]) {
    case (0x49, 0x49): little = true  // "II"
    case (0x4D, 0x4D): little = false  // "MM"
    default: return nil
    }
    func u16(_ at: Int) -> Int? {
      guard at >= start, at + 2 <= end else { return nil }
      return little ? Int(b[at]) | Int(b[at + 1]) << 8 : Int(b[at]) << 8 | Int(b[at + 1])
    }
    func u32(_ at: Int) -> Int? {
      guard let lo = u16(little ? at : at + 2), let hi = u16(little ? at + 2 : at) else { return nil }
      return hi << 16 | lo
    }
    guard u16(start + 2) == 42, let ifd = u32(start + 4), ifd <= end - start, let entries = u16(start + ifd) else { return nil }
    for e in 0..<entries {
      let entry = start + ifd + 2 + 12 * e
      guard let tag = u16(entry), let type = u16(entry + 2) else { return nil }
      if tag == 0x0112 {
        guard type == 3, u32(entry + 4) == 1 else { return nil }  // SHORT × 1
        return u16(entry + 8)
      }
    }
    return nil
  }
}
