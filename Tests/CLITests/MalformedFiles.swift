import Foundation

/// Byte-level builders for malformed inputs, so the CLI tests need no
/// fixture files.
enum MalformedFiles {
  static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
      crc ^= UInt32(b)
      for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
  }

  static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

  /// A PNG signature plus a valid IHDR claiming `width × height` 8-bit RGB,
  /// then a tiny IDAT and IEND: the header is well-formed, the pixels are not there.
  static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
    var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    func chunk(_ type: String, _ data: [UInt8]) {
      let body = Array(type.utf8) + data
      out += bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }
    chunk("IHDR", bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0])
    chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
    chunk("IEND", [])
    return out
  }

  /// A safetensors file from a header string and a data section.
  static func safetensors(header: String, data: [UInt8] = [], claimedLength: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    let n = claimedLength ?? UInt64(h.count)
    var out: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) }
    out += h
    out += data
    return out
  }
}
