import TensorFiles
import Testing

@Suite("SHA-256")
struct SHA256Tests {
  static func hex(_ s: String) -> String { SHA256.hex(of: Array(s.utf8)) }

  @Test("FIPS 180-4 / NIST example vectors")
  func knownVectors() {
    #expect(Self.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(Self.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    // The 448-bit (two-block) message.
    #expect(
      Self.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    // The 896-bit message.
    #expect(
      Self.hex(
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
        == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
  }

  @Test("one million 'a's, one-shot and streamed")
  func millionA() {
    let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    #expect(SHA256.hex(of: bytes) == expected)
    var h = SHA256()
    var offset = 0
    var step = 1
    while offset < bytes.count {
      let end = min(offset + step, bytes.count)
      bytes[offset..<end].withUnsafeBytes { h.update($0) }
      offset = end
      step = step % 997 + 7  // 1, 8, 15, … odd sizes crossing block edges
    }
    #expect(h.finalizeHex() == expected)
  }

  @Test("padding boundaries: 'a' × n for n around one and two blocks (hashlib values)", arguments: [
    (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
    (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
    (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
    (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
    (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
    (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
    (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
    (127, "c57e9278af78fa3cab38667bef4ce29d783787a2f731d4e12200270f0c32320a"),
    (128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"),
  ])
  func boundaries(n: Int, digest: String) {
    let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: n)
    #expect(SHA256.hex(of: bytes) == digest)
    // Byte by byte.
    var h = SHA256()
    for b in bytes { [b].withUnsafeBytes { h.update($0) } }
    #expect(h.finalizeHex() == digest)
  }

  @Test("any chunking of a buffer gives the one-shot digest", arguments: [1, 3, 7, 13, 63, 64, 65, 100, 127, 1000])
  func chunked(chunk: Int) {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    let bytes = (0..<5_003).map { _ -> UInt8 in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt8(truncatingIfNeeded: state >> 56)
    }
    let oneShot = SHA256.hex(of: bytes)
    var h = SHA256()
    var i = 0
    var size = chunk
    while i < bytes.count {
      let end = min(i + size, bytes.count)
      bytes[i..<end].withUnsafeBytes { h.update($0) }
      i = end
      size = size == chunk ? chunk + 2 : chunk  // alternate two sizes
    }
    // Empty updates change nothing.
    [UInt8]().withUnsafeBytes { h.update($0) }
    #expect(h.finalizeHex() == oneShot)
    #expect(oneShot.count == 64 && oneShot.allSatisfy { "0123456789abcdef".contains($0) })
  }
}
