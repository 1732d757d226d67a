import Foundation
import FeatureExtraction
import TensorFiles
import Testing

/// The Swift tokenizer and encoder against sentence-transformers
/// (`Tests/Fixtures/minilm/make_fixtures.py`).
@Suite("all-MiniLM-L6-v2 parity with sentence-transformers")
struct MiniLMParityTests {
  static let weightsPath = TestPaths.repositoryRoot + "/Weights/all-minilm-l6-v2.safetensors"
  static let model: MiniLMEncoder? = try? MiniLMEncoder(path: weightsPath)

  struct Reference {
    let sentences: [String]
    let file: SafeTensorsFile
  }

  static func reference() throws -> Reference {
    let file = try SafeTensorsFile(path: TestPaths.fixture("minilm/reference.safetensors"))
    let json = try JSONValue.parse(try file.requireMetadata("sentences"))
    guard case .array(let items) = json else { throw TestFailure("sentences is not a JSON array") }
    let sentences = items.compactMap(\.stringValue)
    #expect(sentences.count == items.count)
    return Reference(sentences: sentences, file: file)
  }

  struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
  }

  @Test("the weights load with the documented configuration")
  func configuration() throws {
    let model = try #require(Self.model)
    #expect(model.dimension == 384)
    #expect(model.layerCount == 6)
    #expect(model.headCount == 12)
    #expect(model.intermediateSize == 1536)
    #expect(model.maxSequenceLength == 256)
    #expect(model.tokenizer.vocabulary.count == 30522)
  }

  @Test("token ids are identical to the fast BERT tokenizer for every sentence")
  func tokenIDs() throws {
    let model = try #require(Self.model)
    let ref = try Self.reference()
    #expect(ref.sentences.count >= 20)
    var mismatches = 0
    for (i, sentence) in ref.sentences.enumerated() {
      let expected = try ref.file.integers("s\(i).ids").map { Int32($0) }
      let got = model.tokenizer.encode(sentence)
      if got != expected { mismatches += 1 }
      #expect(got == expected, "sentence \(i): \(sentence.debugDescription)")
    }
    #expect(mismatches == 0)
    // The long text reaches exactly the 256-token limit, [SEP] last.
    let longest = try ref.sentences.indices.map { try ref.file.integers("s\($0).ids").count }.max()
    #expect(longest == 256)
  }

  @Test("raw and normalised embeddings within 3e-6 of sentence-transformers")
  func embeddings() throws {
    let model = try #require(Self.model)
    let ref = try Self.reference()
    let out = model.encode(ref.sentences)
    #expect(out.dimension == 384)
    let d = out.dimension
    var worstRaw: Float = 0
    var worstNormalized: Float = 0
    for i in ref.sentences.indices {
      let raw = try ref.file.floats("s\(i).raw", shape: [d])
      let normalized = try ref.file.floats("s\(i).normalized", shape: [d])
      for j in 0..<d {
        worstRaw = max(worstRaw, abs(out.raw[i * d + j] - raw[j]))
        worstNormalized = max(worstNormalized, abs(out.normalized[i * d + j] - normalized[j]))
      }
    }
    print("MiniLM parity: \(ref.sentences.count) sentences, max |Δ raw| = \(worstRaw), max |Δ normalized| = \(worstNormalized)")
    #expect(worstRaw <= 3e-6, "max |Δ raw| = \(worstRaw)")
    #expect(worstNormalized <= 3e-6, "max |Δ normalized| = \(worstNormalized)")
  }

  @Test("a batch gives the same embeddings, bit for bit, as sentences one at a time")
  func batchInvariance() throws {
    let model = try #require(Self.model)
    let sentences = try Self.reference().sentences
    let batch = model.encode(sentences, workers: 2)
    let d = batch.dimension
    for (i, s) in sentences.enumerated() {
      let single = model.encode([s], workers: 1)
      #expect(Array(batch.raw[(i * d)..<((i + 1) * d)]) == single.raw, "sentence \(i)")
      #expect(Array(batch.normalized[(i * d)..<((i + 1) * d)]) == single.normalized, "sentence \(i)")
    }
    // Another composition: reversed, with duplicates.
    let other = model.encode(sentences.reversed() + sentences.prefix(3), workers: 3)
    for i in sentences.indices {
      let j = sentences.count - 1 - i
      #expect(Array(other.raw[(j * d)..<((j + 1) * d)]) == Array(batch.raw[(i * d)..<((i + 1) * d)]))
    }
  }

  @Test("a sentence alone and inside a big mixed batch gives identical bits, whatever the workers and chunking")
  func bigMixedBatchInvariance() throws {
    let model = try #require(Self.model)
    let reference = try Self.reference().sentences
    // Filler sentences of 1…31 words between the reference sentences (each
    // of which appears twice), so that the batch spans many token chunks
    // and every reference sentence starts at a different row offset.
    let words = [
      "the", "card", "transfer", "pending", "why", "is", "my", "refund", "exchange", "rate", "top-up", "failed",
      "abroad", "ATM", "cash", "PIN", "blocked", "verify", "identity", "😀", "café", "2024-01-05", "¿qué?", "£20",
    ]
    var state: UInt64 = 0x5EED
    func next(_ bound: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((state >> 33) % UInt64(bound))
    }
    var batch: [String] = []
    var positions: [(sentence: Int, index: Int)] = []
    for round in 0..<2 {
      for (i, sentence) in reference.enumerated() {
        for _ in 0..<next(8 + round) {
          batch.append((0...next(30)).map { _ in words[next(words.count)] }.joined(separator: " "))
        }
        positions.append((i, batch.count))
        batch.append(sentence)
      }
    }
    let rows = batch.reduce(0) { $0 + model.tokenizer.encode($1).count }
    #expect(rows > 4 * 512, "the batch should span several chunks (\(rows) rows)")
    let d = model.dimension
    // 2 and 3 workers cut chunks of 512 rows; 16 workers cut smaller ones.
    let runs = [2, 3, 16].map { model.encode(batch, workers: $0) }
    // Compared as Bool so that a failure names the sentence instead of printing vectors.
    let sameAcrossWorkers = runs[1...].allSatisfy { $0.raw == runs[0].raw && $0.normalized == runs[0].normalized }
    #expect(sameAcrossWorkers)
    for (i, index) in positions {
      let alone = model.encode([reference[i]], workers: 1)
      let rows = (index * d)..<((index + 1) * d)
      let same = Array(runs[0].raw[rows]) == alone.raw && Array(runs[0].normalized[rows]) == alone.normalized
      #expect(same, "sentence \(i) at batch index \(index) differs from the sentence alone")
    }
  }

  @Test("UTF-8 bytes: valid ones match the String path, invalid ones are an error with the offset")
  func utf8Validation() throws {
    let model = try #require(Self.model)
    let text = "Café déjà vu 😀"
    let fromBytes = try model.encode(utf8: [Array(text.utf8)])
    #expect(fromBytes.raw == model.encode([text]).raw)
    let invalid: [[UInt8]] = [
      [0x61, 0x62, 0xFF, 0x63],  // 0xFF never appears in UTF-8
      [0x61, 0xC3],  // truncated two-byte sequence
      [0xED, 0xA0, 0x80],  // an encoded surrogate
      [0xC0, 0xAF],  // overlong '/'
    ]
    let offsets = [2, 1, 0, 0]
    for (bytes, offset) in zip(invalid, offsets) {
      #expect(throws: TextEncoderError.invalidUTF8(offset: offset)) {
        _ = try model.tokenizer.encode(utf8: bytes)
      }
      #expect(throws: TextEncoderError.self) { _ = try model.encode(utf8: [Array("fine".utf8), bytes]) }
    }
  }

  @Test("tokenizer rules: accents, punctuation, CJK, [UNK], truncation")
  func tokenizerRules() throws {
    let tokenizer = try #require(Self.model).tokenizer
    #expect(tokenizer.basicTokens("Café, DÉJÀ-vu!") == ["cafe", ",", "deja", "-", "vu", "!"])
    #expect(tokenizer.basicTokens("我喜欢") == ["我", "喜", "欢"])
    #expect(tokenizer.basicTokens("a\u{0}b\u{FFFD}c\u{200B}d\te") == ["abcd", "e"])
    #expect(tokenizer.encode("") == [tokenizer.clsID, tokenizer.sepID])
    #expect(tokenizer.encode(String(repeating: "a", count: 101)) == [tokenizer.clsID, tokenizer.unkID, tokenizer.sepID])
    let long = tokenizer.encode(String(repeating: "hello ", count: 1000))
    #expect(long.count == 256 && long.first == tokenizer.clsID && long.last == tokenizer.sepID)
  }

  @Test("a weights file with a wrong tensor shape is an error naming the file and the tensor")
  func wrongShape() throws {
    let source = try SafeTensorsFile(path: Self.weightsPath)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("minilm-shape-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let bad = "encoder.layer.3.intermediate.dense.bias"
    // Rewrite the header only, declaring the bias as [768, 2] (same byte count).
    let data = try Data(contentsOf: URL(fileURLWithPath: Self.weightsPath))
    let n = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
    let header = try #require(String(data: data[8..<(8 + n)], encoding: .utf8))
    let info = try source.info(bad)
    let old = "\"\(bad)\":{\"data_offsets\":[\(info.dataOffsets.lowerBound),\(info.dataOffsets.upperBound)],\"dtype\":\"F32\",\"shape\":[1536]}"
    #expect(header.contains(old))
    let new = old.replacingOccurrences(of: "[1536]", with: "[768,2]")
    var newHeader = header.replacingOccurrences(of: old, with: new)
    while (8 + newHeader.utf8.count) % 8 != 0 { newHeader += " " }
    var out = Data()
    var length = UInt64(newHeader.utf8.count).littleEndian
    withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
    out.append(contentsOf: Array(newHeader.utf8))
    out.append(data[(8 + n)...])
    let badPath = directory.appendingPathComponent("all-minilm-l6-v2.safetensors").path
    try out.write(to: URL(fileURLWithPath: badPath))
    // The vocabulary next to it, as the weights' metadata names it.
    try FileManager.default.copyItem(
      atPath: TestPaths.repositoryRoot + "/Weights/all-minilm-l6-v2.vocab.txt",
      toPath: directory.appendingPathComponent("all-minilm-l6-v2.vocab.txt").path)
    do {
      _ = try MiniLMEncoder(path: badPath)
      Issue.record("loading a file with a wrong shape succeeded")
    } catch let error as TensorFileError {
      #expect(error == .unexpectedShape(path: badPath, tensor: bad, expected: [1536], actual: [768, 2]))
      #expect(error.description.contains(bad) && error.description.contains(badPath))
    }
  }

  @Test("a missing vocabulary is an error naming it")
  func missingVocabulary() throws {
    #expect(throws: TextEncoderError.self) {
      _ = try MiniLMEncoder(path: Self.weightsPath, vocabularyPath: "/nonexistent/vocab.txt")
    }
  }
}
