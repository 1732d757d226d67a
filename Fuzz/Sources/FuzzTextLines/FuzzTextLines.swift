import AnomalyKit
import FeatureExtraction
import Foundation

/// The MiniLM tokenizer with its real 30522-token vocabulary, loaded once.
/// `AK_VOCAB` overrides the path; by default it is found from this file.
let tokenizer: WordPieceTokenizer = {
  var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
  parts.removeLast(4)  // Fuzz/Sources/FuzzTextLines/FuzzTextLines.swift
  let path = ProcessInfo.processInfo.environment["AK_VOCAB"] ?? parts.joined(separator: "/") + "/Weights/all-minilm-l6-v2.vocab.txt"
  do {
    return try WordPieceTokenizer(vocabularyPath: path)
  } catch {
    fatalError("fuzz harness setup: \(error)")
  }
}()

/// Text files one record per line (`TextLines.read(bytes:path:)`), then
/// every record through the WordPiece tokenizer. (`TextLines` decodes with
/// the tokenizer's strict UTF-8 decoder, the one `encode(utf8:)` uses.)
/// The toolkit has no CSV reader (CSV is output only); this
/// line reader is its line-oriented input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  let vocabularySize = Int32(tokenizer.vocabulary.count)
  func check(_ ids: [Int32]) {
    precondition(ids.count >= 2 && ids.count <= tokenizer.maxLength, "token count \(ids.count) outside 2…\(tokenizer.maxLength)")
    precondition(ids.first == tokenizer.clsID && ids.last == tokenizer.sepID, "missing [CLS] or [SEP]")
    precondition(ids.allSatisfy { $0 >= 0 && $0 < vocabularySize }, "token id outside the vocabulary")
  }
  if let (records, _) = try? TextLines.read(bytes: bytes, path: "fuzz-input.txt", keepBlank: true) {
    for record in records { check(tokenizer.tokenize(record.text).ids) }
  }
  return 0
}
