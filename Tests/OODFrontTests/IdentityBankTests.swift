import Foundation
import OODFront
import TensorFiles
import Testing

/// Identity banks: the truth score on vectors with known angles, the file
/// round trip, and refusal of files that are not (intact) identity banks.
@Suite("Identity bank")
struct IdentityBankTests {
  static func temporary(_ name: String) -> String {
    NSTemporaryDirectory() + "ak-identity-\(ProcessInfo.processInfo.processIdentifier)-\(name)"
  }

  @Test("Truth score is the cosine to the nearest reference")
  func truth() throws {
    // References at 0° and 90°; raw lengths differ (normalisation must not care).
    let bank = try IdentityBank(name: "P", descriptors: [[2, 0], [0, 0.5]], sources: ["a.png", "b.png"])
    let (s1, n1) = bank.truth([1, 1])  // 45° from both
    #expect(abs(s1 - Float(0.5).squareRoot()) < 1e-6)
    let (s2, n2) = bank.truth([-1, 3])  // nearest is the 90° reference
    #expect(n2 == 1)
    #expect(abs(s2 - 3 / Float(10).squareRoot()) < 1e-6)
    #expect(n1 == 0)  // an exact tie goes to the first reference
    let (s4, n4) = bank.truth([3, -1])  // nearest is the 0° reference, not the first by accident of a tie
    #expect(n4 == 0)
    #expect(abs(s4 - 3 / Float(10).squareRoot()) < 1e-6)
    let reversed = try IdentityBank(name: "P", descriptors: [[0, 0.5], [2, 0]], sources: ["b.png", "a.png"])
    #expect(reversed.truth([3, -1]).nearest == 1)
    let (s3, _) = bank.truth([-1, -1e-3])  // opposite the first, nearly orthogonal to the second
    #expect(s3 < 0)
    #expect(bank.supportsClaim(0.95) && !bank.supportsClaim(0.5))
    // dlib's 0.6 Euclidean rule at the descriptors' typical norm 1.52: 1 − 0.36 / (2 · 1.52²) ≈ 0.922.
    #expect(abs(IdentityBank.defaultThreshold - (1 - 0.36 / (2 * 1.52 * 1.52))) < 0.005)
  }

  @Test("Leave-one-out scores among references")
  func leaveOneOut() throws {
    let bank = try IdentityBank(name: "P", descriptors: [[1, 0], [1, 1], [0, 1]], sources: ["a", "b", "c"])
    let loo = bank.leaveOneOutScores()
    let c45 = Float(0.5).squareRoot()
    #expect(loo.count == 3 && loo.allSatisfy { abs($0 - c45) < 1e-6 })
  }

  @Test("Round trip through a file")
  func roundTrip() throws {
    let path = Self.temporary("rt.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let bank = try IdentityBank(
      name: "Ada Lovelace", descriptors: [[0.3, -0.2, 0.9], [0.1, 0.1, 0.1]], sources: ["x/1.png", "y/2.jpg"], threshold: 0.75,
      metadata: ["embedder_sha256": "abc"])
    try IdentityBankFile.write(bank, to: path, toolkitVersion: "test")
    let back = try IdentityBankFile.read(path: path)
    #expect(back.name == "Ada Lovelace" && back.sources == ["x/1.png", "y/2.jpg"] && back.threshold == 0.75)
    #expect(back.references == bank.references)
    #expect(back.metadata["embedder_sha256"] == "abc")
  }

  @Test("Files that are not intact identity banks are refused, naming the file")
  func refusals() throws {
    let path = Self.temporary("bad.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    // A bank-like file with another format.
    var w = SafeTensorsWriter(metadata: ["format": "bank"])
    try w.add("references", floats: [1, 0], shape: [1, 2])
    try w.write(to: path)
    #expect { try IdentityBankFile.read(path: path) } throws: { "\($0)".contains(path) && "\($0)".contains("expected 'identity'") }
    // An identity file whose reference was edited (no longer unit-norm).
    var e = SafeTensorsWriter(metadata: [
      "format": "identity", "format_version": "1", "name": "P", "threshold": "0.8", "sources": "[\"a.png\"]",
    ])
    try e.add("references", floats: [3, 0], shape: [1, 2])
    try e.write(to: path)
    #expect { try IdentityBankFile.read(path: path) } throws: { "\($0)".contains(path) && "\($0)".contains("unit-norm") }
    // Rows and sources disagree.
    var r = SafeTensorsWriter(metadata: [
      "format": "identity", "format_version": "1", "name": "P", "threshold": "0.8", "sources": "[\"a.png\", \"b.png\"]",
    ])
    try r.add("references", floats: [1, 0], shape: [1, 2])
    try r.write(to: path)
    #expect { try IdentityBankFile.read(path: path) } throws: { "\($0)".contains("one row per source") }
  }

  @Test("A bank of other embedder weights, or none recorded, is refused naming the file and both hashes")
  func incompatible() throws {
    let embedder = try FaceEmbedder(path: TestPaths.weights("dlib-face-resnet-v1.safetensors"))
    let path = Self.temporary("other.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let descriptor = [Float](repeating: 0.1, count: 128)
    let other = String(repeating: "ab", count: 32)
    try IdentityBankFile.write(
      try IdentityBank(name: "P", descriptors: [descriptor], sources: ["a.png"], metadata: ["embedder_sha256": other]),
      to: path, toolkitVersion: "test")
    #expect { try IdentityBankFile.read(path: path, embedder: embedder) } throws: { error in
      guard case IdentityError.incompatibleBank = error else { return false }
      return "\(error)".contains(path) && "\(error)".contains(other) && "\(error)".contains(embedder.weightsSHA256)
    }
    try IdentityBankFile.write(
      try IdentityBank(name: "P", descriptors: [descriptor], sources: ["a.png"]), to: path, toolkitVersion: "test")
    #expect { try IdentityBankFile.read(path: path, embedder: embedder) } throws: { "\($0)".contains("no embedder_sha256") }
    try IdentityBankFile.write(
      try IdentityBank(
        name: "P", descriptors: [descriptor], sources: ["a.png"], metadata: ["embedder_sha256": embedder.weightsSHA256]),
      to: path, toolkitVersion: "test")
    #expect(try IdentityBankFile.read(path: path, embedder: embedder).count == 1)
  }

  @Test("Empty or malformed fits are refused")
  func badFits() {
    #expect(throws: IdentityError.self) { try IdentityBank(name: "", descriptors: [[1]], sources: ["a"]) }
    #expect(throws: IdentityError.self) { try IdentityBank(name: "P", descriptors: [], sources: []) }
    #expect(throws: IdentityError.self) { try IdentityBank(name: "P", descriptors: [[1, 2], [1]], sources: ["a", "b"]) }
  }
}
