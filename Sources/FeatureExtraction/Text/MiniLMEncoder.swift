import Foundation
import ParallelCompute
import TensorFiles

/// all-MiniLM-L6-v2 (sentence-transformers): a BERT encoder with masked mean
/// pooling, from `Weights/all-minilm-l6-v2.safetensors` (+ `.vocab.txt`).
///
/// For a sentence of T tokens with ids `t_i` (see `WordPieceTokenizer`):
///
/// ```
/// h⁰_i = LN(E_word[t_i] + E_pos[i] + E_type[0])                       (i < T)
/// per layer l = 1…L (L = 6, d = 384, H = 12 heads of d_h = 32, d_ff = 1536):
///   [Q K V] = h·[W_qᵀ W_kᵀ W_vᵀ] + [b_q b_k b_v]                      one d × 3d linear layer
///   A_h     = softmax(Q_h K_hᵀ / √d_h) V_h                             per head, rows over the T real tokens
///   a       = LN(h + ([A_1 … A_H]·W_oᵀ + b_o))
///   h       = LN(a + (GELU(a·W_1ᵀ + b_1)·W_2ᵀ + b_2)),  GELU(x) = x·½(1 + erf(x/√2))
/// LN(x) = γ ⊙ (x − μ)/√(σ² + ε) + β over the d features, ε = 1e-12, σ² biased
/// raw        = (1/T) Σ_i h^L_i                                         masked mean pooling
/// normalized = raw / max(‖raw‖₂, 1e-12)
/// ```
///
/// **Padding and masks.** In a padded batch, PyTorch adds the dtype's most
/// negative value to the attention scores of padding keys, so their softmax
/// weights are exactly 0, and the mean pooling sums only unmasked tokens. A
/// real token's output therefore depends only on the real tokens of its own
/// sentence. This encoder runs each sentence's attention at its own length
/// T, which is that masked computation with the padding removed: the mask is
/// implicit and nothing is spent on padding.
///
/// **Batches.** The sentences are cut into chunks of consecutive sentences
/// (`TokenChunk`: at most 512 token rows, fewer when the batch is small so
/// that every worker gets several) and `ParallelFor` workers take chunks
/// from a shared counter. Within a chunk the tokens of all its sentences are
/// stacked into one matrix and each linear layer is one matrix product over
/// all the rows, so the weights are streamed once per chunk rather than once
/// per sentence. Attention runs per sentence (per head, over that sentence's
/// real tokens); embeddings, LayerNorm and pooling per row or per sentence.
///
/// **Kernels.** With AVX2 + FMA, every
/// linear layer's weights and bias are packed once at load for
/// `ak_gemm_bias_activation`, which also applies the GELU (the vectorised
/// erf of `Sources/CKernels/vector_math.h`, within an ulp of glibc's
/// `erff`) and adds the residual in registers: `(A·W + b) + h` is rounded
/// exactly as the two separate steps would be. Attention (`ak_attention`, with a vectorised exp
/// in the softmax) and LayerNorm (`ak_layer_norm`, statistics in `Double`)
/// are AVX2 kernels too. On other CPUs, or with `ANOMALYKIT_KERNELS=portable`,
/// the linear layers are single-threaded OpenBLAS `sgemm`s onto an output
/// prefilled with bias (+ residual), followed by the GELU with the C
/// library's `erff`; attention (with `expf`) and LayerNorm are portable C
/// loops.
///
/// **Precision.** With `precision: .bf16` the linear layers' weights are
/// rounded to bfloat16 at load and run through
/// `ak_bf16_gemm_bias_activation` (each input row rounded as it enters,
/// float32 accumulation, the same GELU and residual epilogue); attention,
/// LayerNorm and pooling stay float32 (`ComputePrecision`). With
/// `precision: .int8` they run on 8-bit integers
/// (`ak_i8_gemm_bias_activation`): weights quantised per output column at
/// load, each input row coded by its own range as it enters
/// (`ak_i8_gemm_pack_per_row`), exact int32 sums, the same epilogue.
///
/// **Bit-for-bit independence of the batch.** An embedding is the same, bit
/// for bit, whatever batch it was computed in, wherever it sits in its
/// chunk, and however many workers ran:
/// - the packed kernels compute every output element the same way (float32
///   and bfloat16: FMAs over k = 0, 1, …, K−1; int8: exact integer sums with
///   the row's own code), then bias, activation, residual, whatever the
///   number of rows or the tile the row falls in, so a row depends only on
///   its own input row;
/// - OpenBLAS lacks that property (with OpenBLAS 0.3.21 on Zen, a row of
///   `X·W` changes in the last bits with the number of rows of `X` and the
///   row's position), so on the portable path each sentence's rows get their
///   own `sgemm` call, exactly as if the sentence were alone
///   (`FusedGEMMWeights.run(groups:…)`);
/// - attention, LayerNorm, embeddings and pooling read only the sentence's
///   own rows.
///
/// The AVX2 and portable paths round differently from each other; each is
/// within 1e-4 of sentence-transformers.
public final class MiniLMEncoder: Sendable {
  /// One encoder layer. Linear weights are held `[in, out]` (PyTorch keeps
  /// `[out, in]`) in `FusedGEMMWeights`, packed at load where the packed
  /// kernel runs.
  struct Layer: Sendable {
    /// `[d, 3d]`: the query, key and value weights side by side.
    let qkv: FusedGEMMWeights
    let attentionOutput: FusedGEMMWeights  // [d, d]
    let attentionNorm: LayerNorm
    let intermediate: FusedGEMMWeights  // [d, d_ff], GELU applied
    let output: FusedGEMMWeights  // [d_ff, d]
    let outputNorm: LayerNorm
  }

  /// The weights file the encoder was loaded from.
  public let path: String
  /// The arithmetic of the linear layers (`ComputePrecision`; attention,
  /// LayerNorm and pooling stay float32).
  public let precision: ComputePrecision
  /// The weights file's safetensors metadata (`architecture`, `hidden`,
  /// `vocab_file`, …).
  public let metadata: [String: String]
  /// The tokenizer built from the model's vocabulary, limited to
  /// `maxSequenceLength` tokens.
  public let tokenizer: WordPieceTokenizer
  /// Embedding width d (384).
  public let dimension: Int
  /// Number of encoder layers L (6).
  public let layerCount: Int
  /// Attention heads H per layer (12); each has d / H features.
  public let headCount: Int
  /// Width d_ff of each layer's feed-forward hidden layer (1536).
  public let intermediateSize: Int
  /// Rows of the position-embedding table: the longest sequence the
  /// weights can represent (512).
  public let maxPositions: Int
  /// Maximum tokens per sentence, `[CLS]` and `[SEP]` included (256).
  public let maxSequenceLength: Int
  /// ε of every LayerNorm (1e-12).
  public let layerNormEpsilon: Float
  let wordEmbeddings: [Float]
  let positionEmbeddings: [Float]
  let tokenTypeEmbedding: [Float]
  let embeddingNorm: LayerNorm
  let attention: SelfAttention
  let layers: [Layer]
  private let file: SafeTensorsFile

  /// Loads `path` and the vocabulary named by its `vocab_file` metadata
  /// (next to it), checking the vocabulary's SHA-256 and every tensor shape.
  ///
  /// - Parameters:
  ///   - path: the `.safetensors` weights file.
  ///   - vocabularyPath: use this `vocab.txt` instead.
  ///   - precision: the arithmetic of the linear layers.
  /// - Throws: `TextEncoderError` for a file that is not a BERT weights file
  ///   or a bad vocabulary; `TensorFileError.unexpectedShape` /
  ///   `.missingTensor` naming the file and the tensor;
  ///   `PrecisionError.unsupported` for a precision this CPU cannot run.
  public convenience init(path: String, vocabularyPath: String? = nil, precision: ComputePrecision = .fp32) throws {
    try self.init(weights: SafeTensorsFile(path: path), vocabularyPath: vocabularyPath, precision: precision)
  }

  /// Builds the encoder from an already opened weights file, as
  /// `init(path:vocabularyPath:precision:)` does from its path.
  ///
  /// - Parameters:
  ///   - file: the weights; its metadata must describe a BERT encoder
  ///     (`architecture` `bert`, `activation` `gelu-erf`, `pooling`
  ///     `masked-mean`, `do_lower_case` `true`).
  ///   - vocabularyPath: use this `vocab.txt` instead of the one named by the
  ///     `vocab_file` metadata, next to the weights.
  ///   - precision: the arithmetic of the linear layers (`int8` codes each
  ///     input row by its own range, so it needs no calibration).
  /// - Throws: as `init(path:vocabularyPath:precision:)`; also
  ///   `TensorFileError.invalidMetadata` for a hyperparameter out of range
  ///   or an activation, pooling or casing other than the above.
  public init(weights file: SafeTensorsFile, vocabularyPath: String? = nil, precision: ComputePrecision = .fp32) throws {
    try precision.checkSupported()
    self.precision = precision
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
    embeddingNorm = LayerNorm(
      weight: try file.floats("embeddings.LayerNorm.weight", shape: [d]),
      bias: try file.floats("embeddings.LayerNorm.bias", shape: [d]), epsilon: eps)
    attention = SelfAttention(heads: heads, headDimension: d / heads)

    var layers: [Layer] = []
    for l in 0..<layerCount {
      let p = "encoder.layer.\(l)."
      func t(_ name: String, _ shape: [Int]) throws -> [Float] { try file.floats(p + name, shape: shape) }
      let qkvWeight =
        try t("attention.self.query.weight", [d, d]) + t("attention.self.key.weight", [d, d])
        + t("attention.self.value.weight", [d, d])  // [3d, d]
      let qkvBias =
        try t("attention.self.query.bias", [d]) + t("attention.self.key.bias", [d]) + t("attention.self.value.bias", [d])
      func linear(_ weight: [Float], _ bias: [Float], inFeatures: Int, outFeatures: Int) -> FusedGEMMWeights {
        FusedGEMMWeights(
          weights: transposed(weight, rows: outFeatures, columns: inFeatures), bias: bias, k: inFeatures, n: outFeatures,
          precision: precision)
      }
      func norm(_ name: String) throws -> LayerNorm {
        LayerNorm(weight: try t(name + ".weight", [d]), bias: try t(name + ".bias", [d]), epsilon: eps)
      }
      layers.append(
        Layer(
          qkv: linear(qkvWeight, qkvBias, inFeatures: d, outFeatures: 3 * d),
          attentionOutput: linear(
            try t("attention.output.dense.weight", [d, d]), try t("attention.output.dense.bias", [d]), inFeatures: d,
            outFeatures: d),
          attentionNorm: try norm("attention.output.LayerNorm"),
          intermediate: linear(
            try t("intermediate.dense.weight", [ff, d]), try t("intermediate.dense.bias", [ff]), inFeatures: d,
            outFeatures: ff),
          output: linear(
            try t("output.dense.weight", [d, ff]), try t("output.dense.bias", [d]), inFeatures: ff, outFeatures: d),
          outputNorm: try norm("output.LayerNorm")))
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
}

/// `w` (`rows × columns`, row-major) transposed to `columns × rows`.
func transposed(_ w: [Float], rows: Int, columns: Int) -> [Float] {
  var out = [Float](repeating: 0, count: w.count)
  for r in 0..<rows {
    for c in 0..<columns { out[c * rows + r] = w[r * columns + c] }
  }
  return out
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
