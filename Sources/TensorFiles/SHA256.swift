/// SHA-256 (FIPS 180-4), used to pin weight files and to record in banks and
/// detectors which weights made them.
public struct SHA256: Sendable {
  private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
  )
  private var buffer = [UInt8](repeating: 0, count: 64)
  private var buffered = 0
  private var length: UInt64 = 0

  private static let k: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
  ]

  /// A hasher that has seen no bytes yet.
  public init() {}

  /// Hex digest of `bytes` in one call.
  public static func hex(of bytes: UnsafeRawBufferPointer) -> String {
    var h = SHA256()
    h.update(bytes)
    return h.finalizeHex()
  }

  /// Hex digest of the bytes of an array in one call.
  public static func hex(of bytes: [UInt8]) -> String {
    bytes.withUnsafeBytes { hex(of: $0) }
  }

  /// Feeds `bytes` to the hash; the digest is that of all bytes fed, in order.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    length &+= UInt64(bytes.count)
    var index = 0
    if buffered > 0 {
      let take = min(64 - buffered, bytes.count)
      for i in 0..<take { buffer[buffered + i] = bytes[i] }
      buffered += take
      index = take
      if buffered == 64 {
        buffer.withUnsafeBytes { compress($0.baseAddress.unsafelyUnwrapped) }
        buffered = 0
      }
    }
    if let base = bytes.baseAddress {
      while index + 64 <= bytes.count {
        compress(base + index)
        index += 64
      }
    }
    while index < bytes.count {
      buffer[buffered] = bytes[index]
      buffered += 1
      index += 1
    }
  }

  /// The digest of every byte fed so far, as 64 lowercase hex digits.
  ///
  /// This pads the message into the hash state, so call it once, after the
  /// last `update(_:)`.
  public mutating func finalizeHex() -> String {
    let bitLength = length &* 8
    var pad: [UInt8] = [0x80]
    let padZeros = (55 &- buffered + 64) % 64
    pad += [UInt8](repeating: 0, count: padZeros)
    for i in (0..<8).reversed() { pad.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
    let savedLength = length
    pad.withUnsafeBytes { update($0) }
    length = savedLength
    let words = [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7]
    let digits = Array("0123456789abcdef")
    var out = ""
    for w in words {
      for shift in stride(from: 28, through: 0, by: -4) { out.append(digits[Int((w >> UInt32(shift)) & 0xF)]) }
    }
    return out
  }

  @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

  private mutating func compress(_ block: UnsafeRawPointer) {
    var w = (0..<64).map { _ in UInt32(0) }
    for i in 0..<16 { w[i] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
    for i in 16..<64 {
      let s0 = Self.rotr(w[i - 15], 7) ^ Self.rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
      let s1 = Self.rotr(w[i - 2], 17) ^ Self.rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
      w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
    }
    var (a, b, c, d, e, f, g, h) = state
    for i in 0..<64 {
      let s1 = Self.rotr(e, 6) ^ Self.rotr(e, 11) ^ Self.rotr(e, 25)
      let ch = (e & f) ^ (~e & g)
      let t1 = h &+ s1 &+ ch &+ Self.k[i] &+ w[i]
      let s0 = Self.rotr(a, 2) ^ Self.rotr(a, 13) ^ Self.rotr(a, 22)
      let maj = (a & b) ^ (a & c) ^ (b & c)
      let t2 = s0 &+ maj
      h = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
    }
    state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h)
  }
}
