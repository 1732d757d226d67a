import Foundation
import TensorFiles

/// Errors of the text side: tokenizer input and text-encoder weights.
public enum TextEncoderError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The bytes given as text are not valid UTF-8; `offset` is the first bad byte.
  case invalidUTF8(offset: Int)
  /// The vocabulary file is missing, unreadable, or does not fit the weights.
  case invalidVocabulary(path: String, reason: String)
  /// The weights file is not a BERT text-encoder weights file this code reads.
  case notATextEncoder(path: String, reason: String)

  public var description: String {
    switch self {
    case .invalidUTF8(let offset):
      return "text is not valid UTF-8: bad byte sequence at byte offset \(offset)"
    case .invalidVocabulary(let p, let reason):
      return "\(p): invalid WordPiece vocabulary: \(reason)"
    case .notATextEncoder(let p, let reason):
      return "\(p): not a BERT text-encoder weights file: \(reason)"
    }
  }
}

/// BERT's tokenizer as run by Hugging Face `tokenizers` (the "fast"
/// `BertTokenizerFast` that sentence-transformers uses), for uncased models.
///
/// The pipeline, on Unicode scalars (never grapheme clusters):
///
/// 1. **Special tokens**: the literal strings `[CLS]`, `[SEP]`, `[UNK]`,
///    `[PAD]`, `[MASK]` in the raw text (case-sensitive, leftmost-longest)
///    become their own ids and are not normalised.
/// 2. **Clean-up**: drop U+0000, U+FFFD and "other" scalars (categories
///    Cc, Cf, Co, except `\t \n \r`; unassigned ones are kept); map
///    every White_Space scalar to a space.
/// 3. **CJK spacing**: surround each CJK unified ideograph (the blocks BERT
///    lists) with spaces, so each becomes its own word.
/// 4. **Accent stripping**: NFD, then remove nonspacing marks (Mn):
///    `é` = `e` + U+0301 → `e`.
/// 5. **Lowercasing**: each scalar's full Unicode lowercase mapping.
/// 6. **Pre-tokenisation**: split on whitespace (dropped) and isolate each
///    punctuation scalar: ASCII 33–47, 58–64, 91–96, 123–126, or any Unicode
///    P* category.
/// 7. **WordPiece**: per word, greedy longest-match-first against the
///    vocabulary, continuation pieces prefixed with `##`; a word longer than
///    100 scalars, or one with any unmatched remainder, becomes one `[UNK]`.
/// 8. `[CLS] pieces… [SEP]`, with the pieces truncated so the total is at
///    most `maxLength` (256 for all-MiniLM-L6-v2).
///
/// The category tests of steps 2, 4 and 6 use Unicode 8.0's assignments, as
/// `tokenizers` does (see `inUnicode8`); whitespace, lowercasing and NFD use
/// the current Unicode data.
public struct WordPieceTokenizer: Sendable {
  /// The special tokens; each must be in the vocabulary, and each is
  /// recognised literally in raw text (step 1).
  public static let specialTokens = ["[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]"]

  /// Token string → id (the line number in `vocab.txt`, from 0).
  public let vocabulary: [String: Int32]
  /// Id of `[CLS]`, which starts every sequence.
  public let clsID: Int32
  /// Id of `[SEP]`, which ends every sequence.
  public let sepID: Int32
  /// Id of `[UNK]`, for words WordPiece cannot split into vocabulary pieces.
  public let unkID: Int32
  /// Id of `[PAD]`. Sequences are never padded, so it appears only where
  /// the text itself contains `[PAD]`.
  public let padID: Int32
  /// Maximum sequence length including `[CLS]` and `[SEP]`.
  public let maxLength: Int
  /// Words longer than this many Unicode scalars become one `[UNK]`
  /// (default 100).
  public let maxCharactersPerWord: Int
  /// Ids of the special tokens recognised in raw text.
  private let specialIDs: [(String, Int32)]

  /// Builds a tokenizer from the tokens of `vocab.txt`, in id order.
  public init(tokens: [String], maxLength: Int = 256, maxCharactersPerWord: Int = 100, source: String = "vocabulary") throws {
    guard maxLength >= 2 else {
      throw TextEncoderError.invalidVocabulary(path: source, reason: "maxLength \(maxLength) leaves no room for [CLS] and [SEP]")
    }
    var vocabulary: [String: Int32] = [:]
    vocabulary.reserveCapacity(tokens.count)
    for (i, t) in tokens.enumerated() where vocabulary[t] == nil { vocabulary[t] = Int32(i) }
    func id(_ t: String) throws -> Int32 {
      guard let v = vocabulary[t] else { throw TextEncoderError.invalidVocabulary(path: source, reason: "no \(t) token") }
      return v
    }
    self.vocabulary = vocabulary
    clsID = try id("[CLS]")
    sepID = try id("[SEP]")
    unkID = try id("[UNK]")
    padID = try id("[PAD]")
    specialIDs = try Self.specialTokens.map { ($0, try id($0)) }
    self.maxLength = maxLength
    self.maxCharactersPerWord = maxCharactersPerWord
  }

  /// Reads `vocab.txt` (UTF-8, one token per line, id = line number).
  public init(vocabularyPath path: String, maxLength: Int = 256, expectedSHA256: String? = nil) throws {
    let mapped: MappedFile
    do {
      mapped = try MappedFile(path: path)
    } catch {
      throw TextEncoderError.invalidVocabulary(path: path, reason: "cannot read it (\(error))")
    }
    let (text, sha): (String?, String) = mapped.withBytes { bytes in
      (String(validating: bytes, as: UTF8.self), SHA256.hex(of: bytes))
    }
    if let expectedSHA256, sha != expectedSHA256 {
      throw TextEncoderError.invalidVocabulary(path: path, reason: "sha256 \(sha), expected \(expectedSHA256) (the one the weights were converted with)")
    }
    guard let text else { throw TextEncoderError.invalidVocabulary(path: path, reason: "not valid UTF-8") }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    try self.init(tokens: lines, maxLength: maxLength, source: path)
  }

  // MARK: - Entry points

  /// Token ids `[CLS] … [SEP]` of `text`, at most `maxLength` of them.
  public func encode(_ text: String) -> [Int32] { tokenize(text).ids }

  /// `encode(_:)`, also telling whether word pieces were cut off to fit
  /// `maxLength` (so callers can warn about over-long texts).
  public func tokenize(_ text: String) -> (ids: [Int32], truncated: Bool) {
    var pieces: [Int32] = []
    let budget = maxLength - 2
    // Tokenise one piece past the budget: if it exists, the text was cut.
    for segment in splitOnSpecialTokens(text) {
      if pieces.count > budget { break }
      switch segment {
      case .special(let id): pieces.append(id)
      case .text(let scalars): appendWordPieces(of: scalars, to: &pieces, budget: budget + 1)
      }
    }
    let truncated = pieces.count > budget
    if truncated { pieces.removeLast(pieces.count - budget) }
    return ([clsID] + pieces + [sepID], truncated)
  }

  /// Like `encode(_:)` for UTF-8 bytes, which are validated first.
  ///
  /// - Throws: `TextEncoderError.invalidUTF8` with the offset of the first
  ///   byte that does not start or continue a valid sequence.
  public func encode<Bytes: Collection>(utf8 bytes: Bytes) throws -> [Int32] where Bytes.Element == UInt8 {
    try encode(Self.decodeUTF8(bytes))
  }

  /// Strict UTF-8 decoding (no replacement characters).
  public static func decodeUTF8<Bytes: Collection>(_ bytes: Bytes) throws -> String where Bytes.Element == UInt8 {
    var iterator = bytes.makeIterator()
    var parser = Unicode.UTF8.ForwardParser()
    var scalars = String.UnicodeScalarView()
    var offset = 0
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded):
        scalars.append(Unicode.UTF8.decode(encoded))
        offset += encoded.count
      case .emptyInput:
        return String(scalars)
      case .error:
        throw TextEncoderError.invalidUTF8(offset: offset)
      }
    }
  }

  /// The normalised words of `text` (steps 2–6 above), for inspection.
  public func basicTokens(_ text: String) -> [String] {
    words(of: normalize(Array(text.unicodeScalars))).map { String(String.UnicodeScalarView($0)) }
  }

  // MARK: - Steps

  private enum Segment {
    case special(Int32)
    case text([Unicode.Scalar])
  }

  /// Step 1: cuts out the literal special tokens (leftmost, then longest).
  private func splitOnSpecialTokens(_ text: String) -> [Segment] {
    let scalars = Array(text.unicodeScalars)
    let patterns = specialIDs.map { (Array($0.0.unicodeScalars), $0.1) }
    var segments: [Segment] = []
    var start = 0
    var i = 0
    while i < scalars.count {
      var match: (length: Int, id: Int32)?
      if scalars[i] == "[" {
        for (p, id) in patterns where i + p.count <= scalars.count && scalars[i..<(i + p.count)].elementsEqual(p) {
          if match.map({ p.count > $0.length }) ?? true { match = (p.count, id) }
        }
      }
      if let match {
        if start < i { segments.append(.text(Array(scalars[start..<i]))) }
        segments.append(.special(match.id))
        i += match.length
        start = i
      } else {
        i += 1
      }
    }
    if start < scalars.count { segments.append(.text(Array(scalars[start...]))) }
    return segments
  }

  /// Steps 2–5: clean-up, CJK spacing, accent stripping, lowercasing.
  func normalize(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
    var cleaned = String.UnicodeScalarView()
    for s in input {
      if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { continue }
      if Self.isWhitespace(s) {
        cleaned.append(" ")
      } else if Self.isCJK(s) {
        cleaned.append(" ")
        cleaned.append(s)
        cleaned.append(" ")
      } else {
        cleaned.append(s)
      }
    }
    // NFD: canonical decomposition (and canonical reordering of marks).
    let decomposed = String(cleaned).decomposedStringWithCanonicalMapping
    var out: [Unicode.Scalar] = []
    out.reserveCapacity(decomposed.unicodeScalars.count)
    for s in decomposed.unicodeScalars where !Self.isNonspacingMark(s) {
      if s.properties.changesWhenLowercased {
        out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
      } else {
        out.append(s)
      }
    }
    return out
  }

  /// Step 6: whitespace split, punctuation isolated.
  func words(of scalars: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
    var words: [ArraySlice<Unicode.Scalar>] = []
    var start = 0
    for (i, s) in scalars.enumerated() {
      if Self.isWhitespace(s) {
        if start < i { words.append(scalars[start..<i]) }
        start = i + 1
      } else if Self.isPunctuation(s) {
        if start < i { words.append(scalars[start..<i]) }
        words.append(scalars[i...i])
        start = i + 1
      }
    }
    if start < scalars.count { words.append(scalars[start...]) }
    return words
  }

  /// Steps 2–7 on one text segment, appending at most until `budget` pieces.
  private func appendWordPieces(of scalars: [Unicode.Scalar], to pieces: inout [Int32], budget: Int) {
    for word in words(of: normalize(scalars)) {
      if pieces.count >= budget { return }
      wordPiece(word, into: &pieces)
    }
  }

  /// Step 7: greedy longest-match-first WordPiece on one word.
  ///
  /// From position `start`, the longest vocabulary entry `word[start..<end]`
  /// (with `##` prepended when `start > 0`) is taken and `start = end`; if no
  /// prefix matches, the whole word is `[UNK]`.
  func wordPiece(_ word: ArraySlice<Unicode.Scalar>, into pieces: inout [Int32]) {
    if word.count > maxCharactersPerWord {
      pieces.append(unkID)
      return
    }
    var found: [Int32] = []
    var start = word.startIndex
    while start < word.endIndex {
      var end = word.endIndex
      var match: Int32?
      while start < end {
        var candidate = String.UnicodeScalarView()
        if start > word.startIndex { candidate.append(contentsOf: "##".unicodeScalars) }
        candidate.append(contentsOf: word[start..<end])
        if let id = vocabulary[String(candidate)] {
          match = id
          break
        }
        end -= 1
      }
      guard let match else {
        pieces.append(unkID)
        return
      }
      found.append(match)
      start = end
    }
    pieces.append(contentsOf: found)
  }

  // MARK: - Character classes

  /// Whether `s` was assigned by Unicode 8.0.
  ///
  /// `tokenizers` takes the categories behind "control", "punctuation" and
  /// "nonspacing mark" from the `unicode_categories` crate, whose tables are
  /// Unicode 8.0: a scalar assigned later (U+2E43 `⹃`, Po since 9.0; U+1DF6,
  /// Mn since 10.0; U+061D, Po since 14.0) is none of these there, so it is
  /// kept inside words (and usually makes the word `[UNK]`). Checked against
  /// `tokenizers` 0.23 for U+2E42 (8.0, split) and U+2E43 (9.0, not split).
  @inline(__always)
  static func inUnicode8(_ s: Unicode.Scalar) -> Bool {
    guard let age = s.properties.age else { return false }
    return age.major < 8 || (age.major == 8 && age.minor == 0)
  }

  /// Category Mn in Unicode 8.0 (see `inUnicode8`); removed after NFD.
  static func isNonspacingMark(_ s: Unicode.Scalar) -> Bool {
    s.properties.generalCategory == .nonspacingMark && inUnicode8(s)
  }

  /// `tokenizers`' `is_control` (`is_other` of the `unicode_categories`
  /// crate): categories Cc, Cf, Co (and Cs), except tab, newline and CR.
  /// Unassigned scalars (Cn) are kept, as `tokenizers` keeps them.
  static func isControl(_ s: Unicode.Scalar) -> Bool {
    if s == "\t" || s == "\n" || s == "\r" { return false }
    guard inUnicode8(s) else { return false }
    switch s.properties.generalCategory {
    case .control, .format, .privateUse, .surrogate: return true
    default: return false
    }
  }

  /// Tab, newline, CR, or the Unicode White_Space property (Rust's `char::is_whitespace`).
  static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
    s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
  }

  /// BERT's punctuation: the ASCII ranges 33–47, 58–64, 91–96, 123–126
  /// (which include `$ + < = > ^ \` |` ~`, symbols in Unicode) or any P* category.
  static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
    let v = s.value
    if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
    guard inUnicode8(s) else { return false }
    switch s.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
      .initialPunctuation, .finalPunctuation, .otherPunctuation:
      return true
    default: return false
    }
  }

  /// The CJK Unified Ideograph blocks of BERT's `_is_chinese_char` (as in `tokenizers`).
  static func isCJK(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
      0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
      return true
    default: return false
    }
  }
}
