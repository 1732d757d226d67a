import CBLAS
import Foundation
import ParallelCompute
import TensorFiles

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// all-MiniLM-L6-v2 (sentence-transformers): a BERT encoder with masked mean
/// pooling, from `Weights/all-minilm-l6-v2.safetensors` (+ `.vocab.txt`).
///
/// For a sentence of T tokens with ids `t_i` (see `WordPieceTokenizer`):
///
/// ```
/// h⁰_i = LN(E_word[t_i] + E_pos[i] + E_type[0])                       (i < T)
/// per layer l = 1…L (L = 6, d = 384, H = 12 heads of d_h = 32, d_ff = 1536):
///   [Q K V] = h·[W_qᵀ W_kᵀ W_vᵀ] + [b_q b_k b_v]                      one T×d by d×3d GEMM
///   A_h     = softmax(Q_h K_hᵀ / √d_h) V_h                             per head, rows over the T real tokens
///   a       = LN(h + [A_1 … A_H]·W_oᵀ + b_o)
///   h       = LN(a + GELU(a·W_1ᵀ + b_1)·W_2ᵀ + b_2),  GELU(x) = x·½(1 + erf(x/√2))
/// LN(x) = γ ⊙ (x − μ)/√(σ² + ε) + β over the d features, ε = 1e-12, σ² biased
/// raw        = (1/T) Σ_i h^L_i                                         masked mean pooling
/// normalized = raw / max(‖raw‖₂, 1e-12)
/// ```
///
/// **Padding and masks.** In a padded batch, PyTorch adds the dtype's most
/// negative value to the attention scores of padding keys, so their softmax
/// weights are exactly 0, and the mean pooling sums only unmasked tokens. A
/// real token's output therefore depends only on the real tokens of its own
/// sentence. This encoder runs each sentence at its own length T, which is
/// that masked computation with the padding removed: the mask is implicit
/// and nothing is spent on padding.
///
/// **Batches.** Sentences are spread over `ParallelFor` workers, which take
/// the next unprocessed sentence from a shared counter; each worker runs
/// single-threaded OpenBLAS `sgemm`s on its own sentence. Every GEMM's shape
/// depends only on that sentence, so an embedding is bit-for-bit the same
/// whatever batch it was computed in and however many workers ran.
///
/// Sentences are deliberately not stacked into one taller GEMM: with
/// OpenBLAS 0.3.21 (Zen kernels), a row of `X·Wᵀ` comes out different in the
/// last bits depending on how many rows `X` has and where the row sits
/// (measured for all three shapes used here, M = 7…600), so stacking would
/// make an embedding depend on its batch mates. The price is that OpenBLAS
/// repacks each weight matrix on every call, which at T ≈ 16 tokens costs
/// about as much as the multiplication itself.
public final class MiniLMEncoder: Sendable {
  /// One encoder layer. Linear weights are stored transposed, `[in, out]`
  /// row-major (PyTorch keeps `[out, in]`): a non-transposed `sgemm` is
  /// about 17% faster here at T ≈ 16 rows than one with `CblasTrans`.
  struct Layer: Sendable {
    /// `[d, 3d]`: the query, key and value weights side by side.
    let qkvWeight: [Float]
    let qkvBias: [Float]
    let attentionOutputWeight: [Float]  // [d, d]
    let attentionOutputBias: [Float]
    let attentionNormWeight: [Float]
    let attentionNormBias: [Float]
    let intermediateWeight: [Float]  // [d, d_ff]
    let intermediateBias: [Float]
    let outputWeight: [Float]  // [d_ff, d]
    let outputBias: [Float]
    let outputNormWeight: [Float]
    let outputNormBias: [Float]
  }

  public let path: String
  public let metadata: [String: String]
  public let tokenizer: WordPieceTokenizer
  /// Embedding width d (384).
  public let dimension: Int
  public let layerCount: Int
  public let headCount: Int
  public let intermediateSize: Int
  public let maxPositions: Int
  /// Maximum tokens per sentence, `[CLS]` and `[SEP]` included (256).
  public let maxSequenceLength: Int
  public let layerNormEpsilon: Float
  let wordEmbeddings: [Float]
  let positionEmbeddings: [Float]
  let tokenTypeEmbedding: [Float]
  let embeddingNormWeight: [Float]
  let embeddingNormBias: [Float]
  let layers: [Layer]
  private let file: SafeTensorsFile

  /// Loads `path` and the vocabulary named by its `vocab_file` metadata
  /// (next to it), checking the vocabulary's SHA-256 and every tensor shape.
  ///
  /// - Parameter vocabularyPath: use this `vocab.txt` instead.
  /// - Throws: `TextEncoderError` for a file that is not a BERT weights file
  ///   or a bad vocabulary; `TensorFileError.unexpectedShape` /
  ///   `.missingTensor` naming the file and the tensor.
  public convenience init(path: String, vocabularyPath: String? = nil) throws {
    try self.init(weights: SafeTensorsFile(path: path), vocabularyPath: vocabularyPath)
  }

  public init(weights file: SafeTensorsFile, vocabularyPath: String? = nil) throws {
    let path = file.path
    self.path = path
    self.file = file
    metadata = file.metadata
    func meta(_ key: String) throws -> String {
      guard let v = file.metadata[key] else {
        throw TextEncoderError.notATextEncoder(path: path, reason: "no '\(key)' in metadata")
      }
      return v
    }
    func integer(_ key: String, _ range: ClosedRange<Int>) throws -> Int {
      let text = try meta(key)
      guard let v = Int(text), range.contains(v) else {
        throw TensorFileError.invalidMetadata(path: path, key: key, value: text, expected: "an integer in \(range)")
      }
      return v
    }
    guard try meta("format") == "weights" else {
      throw TextEncoderError.notATextEncoder(path: path, reason: "format is '\(file.metadata["format"] ?? "")', expected 'weights'")
    }
    guard try meta("format_version") == "1" else {
      throw TextEncoderError.notATextEncoder(path: path, reason: "format_version '\(file.metadata["format_version"] ?? "")' is not supported (expected 1)")
    }
    guard try meta("architecture") == "bert" else {
      throw TextEncoderError.notATextEncoder(path: path, reason: "architecture '\(file.metadata["architecture"] ?? "")', expected 'bert'")
    }
    for (key, expected) in [("activation", "gelu-erf"), ("pooling", "masked-mean"), ("do_lower_case", "true")] {
      let v = try meta(key)
      guard v == expected else {
        throw TensorFileError.invalidMetadata(path: path, key: key, value: v, expected: "'\(expected)'")
      }
    }
    let d = try integer("hidden", 1...65536)
    let heads = try integer("heads", 1...d)
    guard d % heads == 0 else {
      throw TensorFileError.invalidMetadata(path: path, key: "heads", value: String(heads), expected: "a divisor of hidden = \(d)")
    }
    let layerCount = try integer("layers", 1...1000)
    let ff = try integer("intermediate", 1...1 << 20)
    let positions = try integer("max_positions", 2...1 << 20)
    let maxSeq = try integer("max_seq_length", 2...positions)
    let epsText = try meta("layer_norm_eps")
    guard let eps = Float(epsText), eps > 0 else {
      throw TensorFileError.invalidMetadata(path: path, key: "layer_norm_eps", value: epsText, expected: "a positive number")
    }
    dimension = d
    headCount = heads
    self.layerCount = layerCount
    intermediateSize = ff
    maxPositions = positions
    maxSequenceLength = maxSeq
    layerNormEpsilon = eps

    // Vocabulary: next to the weights unless given.
    let vocabPath: String
    if let vocabularyPath {
      vocabPath = vocabularyPath
    } else {
      let name = try meta("vocab_file")
      guard !name.contains("/") else {
        throw TensorFileError.invalidMetadata(path: path, key: "vocab_file", value: name, expected: "a file name without '/'")
      }
      let directory = (path as NSString).deletingLastPathComponent
      vocabPath = directory.isEmpty ? name : directory + "/" + name
    }
    tokenizer = try WordPieceTokenizer(vocabularyPath: vocabPath, maxLength: maxSeq, expectedSHA256: file.metadata["vocab_sha256"])

    let wordInfo = try file.info("embeddings.word_embeddings.weight")
    guard wordInfo.shape.count == 2, wordInfo.shape[1] == d, wordInfo.shape[0] == tokenizer.vocabulary.count else {
      throw TensorFileError.unexpectedShape(
        path: path, tensor: wordInfo.name, expected: [tokenizer.vocabulary.count, d], actual: wordInfo.shape)
    }
    wordEmbeddings = try file.floats(wordInfo.name)
    positionEmbeddings = try file.floats("embeddings.position_embeddings.weight", shape: [positions, d])
    let types = try file.info("embeddings.token_type_embeddings.weight")
    guard types.shape.count == 2, types.shape[0] >= 1, types.shape[1] == d else {
      throw TensorFileError.unexpectedShape(path: path, tensor: types.name, expected: [2, d], actual: types.shape)
    }
    tokenTypeEmbedding = Array(try file.floats(types.name).prefix(d))
    embeddingNormWeight = try file.floats("embeddings.LayerNorm.weight", shape: [d])
    embeddingNormBias = try file.floats("embeddings.LayerNorm.bias", shape: [d])

    var layers: [Layer] = []
    for l in 0..<layerCount {
      let p = "encoder.layer.\(l)."
      func t(_ name: String, _ shape: [Int]) throws -> [Float] { try file.floats(p + name, shape: shape) }
      let qkvWeight =
        try t("attention.self.query.weight", [d, d]) + t("attention.self.key.weight", [d, d])
        + t("attention.self.value.weight", [d, d])  // [3d, d]
      let qkvBias =
        try t("attention.self.query.bias", [d]) + t("attention.self.key.bias", [d]) + t("attention.self.value.bias", [d])
      layers.append(
        Layer(
          qkvWeight: transposed(qkvWeight, rows: 3 * d, columns: d), qkvBias: qkvBias,
          attentionOutputWeight: transposed(try t("attention.output.dense.weight", [d, d]), rows: d, columns: d),
          attentionOutputBias: try t("attention.output.dense.bias", [d]),
          attentionNormWeight: try t("attention.output.LayerNorm.weight", [d]),
          attentionNormBias: try t("attention.output.LayerNorm.bias", [d]),
          intermediateWeight: transposed(try t("intermediate.dense.weight", [ff, d]), rows: ff, columns: d),
          intermediateBias: try t("intermediate.dense.bias", [ff]),
          outputWeight: transposed(try t("output.dense.weight", [d, ff]), rows: d, columns: ff),
          outputBias: try t("output.dense.bias", [d]),
          outputNormWeight: try t("output.LayerNorm.weight", [d]),
          outputNormBias: try t("output.LayerNorm.bias", [d])))
    }
    self.layers = layers
  }

  /// SHA-256 of the weights file (to record in detectors).
  public var weightsSHA256: String { file.sha256() }

  // MARK: - Public API

  /// Embeds `texts`: row `i` of `raw` (the masked mean of the last hidden
  /// states) and of `normalized` (its L2-normalised copy) belongs to
  /// `texts[i]`; both are `texts.count × dimension`, row-major.
  public func encode(_ texts: [String], workers: Int = ParallelFor.defaultWorkers)
    -> (raw: [Float], normalized: [Float], dimension: Int)
  {
    encode(tokenIDs: texts.map { tokenizer.encode($0) }, workers: workers)
  }

  /// `encode(_:)` for UTF-8 byte strings, each validated first.
  ///
  /// - Throws: `TextEncoderError.invalidUTF8` for the first invalid text.
  public func encode(utf8 texts: [[UInt8]], workers: Int = ParallelFor.defaultWorkers) throws
    -> (raw: [Float], normalized: [Float], dimension: Int)
  {
    try encode(texts.map { try WordPieceTokenizer.decodeUTF8($0) }, workers: workers)
  }

  /// Embeds already tokenised sentences (each `[CLS] … [SEP]`, at most
  /// `maxSequenceLength` ids, every id in the vocabulary; longer sequences
  /// are cut to `maxSequenceLength` and out-of-range ids read as `[UNK]`).
  public func encode(tokenIDs: [[Int32]], workers: Int = ParallelFor.defaultWorkers)
    -> (raw: [Float], normalized: [Float], dimension: Int)
  {
    let d = dimension
    let n = tokenIDs.count
    var raw = [Float](repeating: 0, count: n * d)
    var normalized = [Float](repeating: 0, count: n * d)
    guard n > 0 else { return (raw, normalized, d) }
    raw.withUnsafeMutableBufferPointer { rawBuffer in
      normalized.withUnsafeMutableBufferPointer { normBuffer in
        let rawOut = SharedBuffer(rawBuffer)
        let normOut = SharedBuffer(normBuffer)
        let next = WorkCounter()
        ParallelFor.run(workers: max(1, min(workers, n))) { _ in
          while let i = next.take(below: n) {
            let pooled = self.embed(tokenIDs[i])
            var squared: Double = 0
            for j in 0..<d { squared += Double(pooled[j]) * Double(pooled[j]) }
            let norm = max(Float(squared.squareRoot()), 1e-12)
            for j in 0..<d {
              rawOut[i * d + j] = pooled[j]
              normOut[i * d + j] = pooled[j] / norm
            }
          }
        }
      }
    }
    return (raw, normalized, d)
  }

  // MARK: - Forward pass (one sentence)

  /// The mean-pooled last hidden state of one sentence.
  func embed(_ ids: [Int32]) -> [Float] {
    let d = dimension
    let vocabularySize = wordEmbeddings.count / d
    var tokens = Array(ids.prefix(maxSequenceLength))
    if tokens.isEmpty { tokens = [tokenizer.clsID, tokenizer.sepID] }
    let t = tokens.count
    // Embeddings: word + position + token type 0, then LayerNorm.
    var hidden = [Float](repeating: 0, count: t * d)
    for (i, id) in tokens.enumerated() {
      let row = (id >= 0 && Int(id) < vocabularySize) ? Int(id) : Int(tokenizer.unkID)
      for j in 0..<d {
        hidden[i * d + j] = wordEmbeddings[row * d + j] + positionEmbeddings[i * d + j] + tokenTypeEmbedding[j]
      }
    }
    layerNorm(&hidden, rows: t, weight: embeddingNormWeight, bias: embeddingNormBias)

    var scratch = Scratch(tokens: t, dimension: d, intermediate: intermediateSize)
    for layer in layers {
      encoderLayer(layer, hidden: &hidden, tokens: t, scratch: &scratch)
    }
    // Masked mean pooling over the t real tokens.
    var pooled = [Float](repeating: 0, count: d)
    for j in 0..<d {
      var sum: Double = 0
      for i in 0..<t { sum += Double(hidden[i * d + j]) }
      pooled[j] = Float(sum / Double(t))
    }
    return pooled
  }

  /// Per-sentence work buffers.
  struct Scratch {
    var qkv: [Float]  // t × 3d
    var scores: [Float]  // t × t
    var context: [Float]  // t × d
    var projected: [Float]  // t × d
    var intermediate: [Float]  // t × d_ff

    init(tokens t: Int, dimension d: Int, intermediate ff: Int) {
      qkv = [Float](repeating: 0, count: t * 3 * d)
      scores = [Float](repeating: 0, count: t * t)
      context = [Float](repeating: 0, count: t * d)
      projected = [Float](repeating: 0, count: t * d)
      intermediate = [Float](repeating: 0, count: t * ff)
    }
  }

  /// One transformer layer, in place on `hidden` (t × d).
  func encoderLayer(_ layer: Layer, hidden: inout [Float], tokens t: Int, scratch: inout Scratch) {
    let d = dimension
    let dh = d / headCount
    let ff = intermediateSize
    // [Q K V] = h · W_qkvᵀ + b   (t × 3d)
    linear(input: hidden, rows: t, inFeatures: d, weight: layer.qkvWeight, bias: layer.qkvBias, outFeatures: 3 * d, output: &scratch.qkv)

    // Per head: S = Q_h K_hᵀ / √d_h, P = softmax_rows(S), A_h = P V_h.
    let scale = 1 / Float(dh).squareRoot()
    scratch.qkv.withUnsafeBufferPointer { qkv in
      scratch.scores.withUnsafeMutableBufferPointer { scores in
        scratch.context.withUnsafeMutableBufferPointer { context in
          guard let q = qkv.baseAddress, let s = scores.baseAddress, let c = context.baseAddress else { return }
          for h in 0..<headCount {
            let qh = q + h * dh
            let kh = q + d + h * dh
            let vh = q + 2 * d + h * dh
            cblas_sgemm(
              CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(t), Int32(dh), scale, qh, Int32(3 * d), kh,
              Int32(3 * d), 0, s, Int32(t))
            for i in 0..<t { softmax(s + i * t, count: t) }
            cblas_sgemm(
              CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(t), Int32(dh), Int32(t), 1, s, Int32(t), vh, Int32(3 * d),
              0, c + h * dh, Int32(d))
          }
        }
      }
    }
    // a = LN(h + A · W_oᵀ + b_o)
    linear(input: scratch.context, rows: t, inFeatures: d, weight: layer.attentionOutputWeight, bias: layer.attentionOutputBias, outFeatures: d, output: &scratch.projected)
    for k in 0..<(t * d) { hidden[k] += scratch.projected[k] }
    layerNorm(&hidden, rows: t, weight: layer.attentionNormWeight, bias: layer.attentionNormBias)

    // h = LN(a + GELU(a · W_1ᵀ + b_1) · W_2ᵀ + b_2)
    linear(input: hidden, rows: t, inFeatures: d, weight: layer.intermediateWeight, bias: layer.intermediateBias, outFeatures: ff, output: &scratch.intermediate)
    for k in 0..<(t * ff) { scratch.intermediate[k] = gelu(scratch.intermediate[k]) }
    linear(input: scratch.intermediate, rows: t, inFeatures: ff, weight: layer.outputWeight, bias: layer.outputBias, outFeatures: d, output: &scratch.projected)
    for k in 0..<(t * d) { hidden[k] += scratch.projected[k] }
    layerNorm(&hidden, rows: t, weight: layer.outputNormWeight, bias: layer.outputNormBias)
  }

  /// `Y[rows × out] = X[rows × in] · W + b`, with `W` stored `[in, out]`
  /// (PyTorch's weight transposed); Y is prefilled with the bias and the
  /// product added (β = 1).
  func linear(input: [Float], rows: Int, inFeatures: Int, weight: [Float], bias: [Float], outFeatures: Int, output: inout [Float]) {
    for r in 0..<rows {
      for o in 0..<outFeatures { output[r * outFeatures + o] = bias[o] }
    }
    input.withUnsafeBufferPointer { x in
      weight.withUnsafeBufferPointer { w in
        output.withUnsafeMutableBufferPointer { y in
          guard let x = x.baseAddress, let w = w.baseAddress, let y = y.baseAddress else { return }
          cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(outFeatures), Int32(inFeatures), 1, x,
            Int32(inFeatures), w, Int32(outFeatures), 1, y, Int32(outFeatures))
        }
      }
    }
  }

  /// Row-wise LayerNorm in place: `x ← γ ⊙ (x − μ)/√(σ² + ε) + β`, with
  /// μ and the biased σ² accumulated in `Double`.
  func layerNorm(_ x: inout [Float], rows: Int, weight: [Float], bias: [Float]) {
    let d = dimension
    let eps = Double(layerNormEpsilon)
    for r in 0..<rows {
      let base = r * d
      var sum: Double = 0
      for j in 0..<d { sum += Double(x[base + j]) }
      let mean = sum / Double(d)
      var squares: Double = 0
      for j in 0..<d {
        let c = Double(x[base + j]) - mean
        squares += c * c
      }
      let inverse = 1 / (squares / Double(d) + eps).squareRoot()
      for j in 0..<d {
        x[base + j] = Float((Double(x[base + j]) - mean) * inverse) * weight[j] + bias[j]
      }
    }
  }
}

/// `w` (`rows × columns`, row-major) transposed to `columns × rows`.
func transposed(_ w: [Float], rows: Int, columns: Int) -> [Float] {
  var out = [Float](repeating: 0, count: w.count)
  for r in 0..<rows {
    for c in 0..<columns { out[c * rows + r] = w[r * columns + c] }
  }
  return out
}

/// Numerically stable softmax of `count` floats in place:
/// `p_j = exp(s_j − max s) / Σ_k exp(s_k − max s)`.
@inline(__always)
func softmax(_ row: UnsafeMutablePointer<Float>, count: Int) {
  var top = -Float.infinity
  for j in 0..<count { top = max(top, row[j]) }
  var sum: Float = 0
  for j in 0..<count {
    let e = expf(row[j] - top)
    row[j] = e
    sum += e
  }
  let inverse = 1 / sum
  for j in 0..<count { row[j] *= inverse }
}

/// Exact (erf) GELU: `x · ½ · (1 + erf(x / √2))`, with the C library's
/// single-precision `erff` (within an ulp or two, like PyTorch's own
/// float32 erf; not the tanh approximation).
@inline(__always)
func gelu(_ x: Float) -> Float {
  0.5 * x * (1 + erff(x * 0.70710678118654752))
}

/// Hands out indices `0, 1, 2, …` to workers, one at a time.
///
/// `@unchecked Sendable`: `next` is only touched under `lock`.
final class WorkCounter: @unchecked Sendable {
  private let lock = Mutex()
  private var next = 0

  /// The next index below `limit`, or nil when all are taken.
  func take(below limit: Int) -> Int? {
    lock.withLock {
      guard next < limit else { return nil }
      defer { next += 1 }
      return next
    }
  }
}
