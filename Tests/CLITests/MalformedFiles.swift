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

  // MARK: PNG

  static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  /// One PNG chunk: length, type, data and the CRC of type + data
  /// (`corruptCRC` flips the CRC's last bit).
  static func pngChunk(_ type: String, _ data: [UInt8], corruptCRC: Bool = false) -> [UInt8] {
    let body = Array(type.utf8) + data
    let crc = crc32(body) ^ (corruptCRC ? 1 : 0)
    return bigEndian(UInt32(data.count)) + body + bigEndian(crc)
  }

  static func ihdr(width: UInt32, height: UInt32, bitDepth: UInt8 = 8, colorType: UInt8 = 2) -> [UInt8] {
    bigEndian(width) + bigEndian(height) + [bitDepth, colorType, 0, 0, 0]
  }

  /// A zlib stream holding `data` in stored (uncompressed) deflate blocks.
  static func zlibStored(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x78, 0x01]
    var rest = data[...]
    repeat {
      let block = rest.prefix(65_535)
      rest = rest.dropFirst(block.count)
      let n = UInt16(block.count)
      out += [rest.isEmpty ? 1 : 0, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)]
      out += block
    } while !rest.isEmpty
    var a: UInt32 = 1
    var b: UInt32 = 0
    for byte in data {
      a = (a + UInt32(byte)) % 65_521
      b = (b + a) % 65_521
    }
    return out + bigEndian(b << 16 | a)
  }

  /// A valid 8-bit RGB PNG of `width × height` grey pixels, as its parts,
  /// so that tests can drop, cut or corrupt one of them.
  static func pngParts(width: Int = 8, height: Int = 8) -> (signature: [UInt8], ihdr: [UInt8], idat: [UInt8], iend: [UInt8]) {
    var raw: [UInt8] = []
    for _ in 0..<height { raw += [0] + Array(repeating: 128, count: width * 3) }
    return (
      pngSignature, pngChunk("IHDR", ihdr(width: UInt32(width), height: UInt32(height))), pngChunk("IDAT", zlibStored(raw)),
      pngChunk("IEND", [])
    )
  }

  static func png(width: Int = 8, height: Int = 8) -> [UInt8] {
    let p = pngParts(width: width, height: height)
    return p.signature + p.ihdr + p.idat + p.iend
  }

  // MARK: JPEG

  /// `jpeg` with the height and width of its first SOF0…SOF2 frame header replaced.
  static func jpeg(_ jpeg: [UInt8], settingWidth width: UInt16, height: UInt16) -> [UInt8] {
    var out = jpeg
    var i = 2
    while i + 9 < out.count {
      guard out[i] == 0xFF else { return out }
      let marker = out[i + 1]
      let length = Int(out[i + 2]) << 8 | Int(out[i + 3])
      if (0xC0...0xC2).contains(marker) {
        out[i + 5] = UInt8(height >> 8)
        out[i + 6] = UInt8(height & 0xFF)
        out[i + 7] = UInt8(width >> 8)
        out[i + 8] = UInt8(width & 0xFF)
        return out
      }
      i += 2 + length
    }
    return out
  }

  /// The offset of the first byte after the SOS marker segment (the scan data).
  static func jpegScanStart(_ jpeg: [UInt8]) -> Int? {
    var i = 2
    while i + 3 < jpeg.count, jpeg[i] == 0xFF {
      let length = Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3])
      if jpeg[i + 1] == 0xDA { return i + 2 + length }
      i += 2 + length
    }
    return nil
  }

  // MARK: NumPy

  /// A version-1.0 `.npy` with `header` (the Python dict literal, padded
  /// here) and raw `data`; `magic` and `version` can be overridden.
  static func npy(header: String, data: [UInt8] = [], magic: [UInt8] = [0x93] + Array("NUMPY".utf8), version: UInt8 = 1) -> [UInt8] {
    var h = header
    let unpadded = 10 + h.utf8.count + 1
    h += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    let n = UInt16(h.utf8.count)
    return magic + [version, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(h.utf8) + data
  }

  /// Little-endian float32 bytes.
  static func float32(_ values: [Float]) -> [UInt8] {
    values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Array($0) }
  }

  /// A valid `rows × columns` float32 `.npy`.
  static func npy(rows: Int, columns: Int, values: [Float]? = nil) -> [UInt8] {
    let v = values ?? (0..<(rows * columns)).map { Float($0 % 7) + Float($0) * 0.01 }
    return npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }", data: float32(v))
  }
}
