import ParallelCompute

// The batched forward pass of `MiniLMEncoder` (see its documentation for the
// math, the chunking and why the results do not depend on the batch).

extension MiniLMEncoder {
  /// Embeds already tokenised sentences (each `[CLS] … [SEP]`, at most
  /// `maxSequenceLength` ids, every id in the vocabulary; longer sequences
  /// are cut to `maxSequenceLength`, out-of-range ids read as `[UNK]`, and an
  /// empty one is taken as `[CLS] [SEP]`).
  public func encode(tokenIDs: [[Int32]], workers: Int = ParallelFor.defaultWorkers)
    -> (raw: [Float], normalized: [Float], dimension: Int)
  {
    let d = dimension
    let n = tokenIDs.count
    var raw = [Float](repeating: 0, count: n * d)
    var normalized = [Float](repeating: 0, count: n * d)
    guard n > 0 else { return (raw, normalized, d) }
    let sequences = tokenIDs.map(sequence(for:))
    let lengths = sequences.map(\.count)
    let workerCount = max(1, workers)
    let chunks = TokenChunk.plan(
      lengths: lengths, rowBudget: TokenChunk.rowBudget(totalRows: lengths.reduce(0, +), workers: workerCount))
    let capacity = Workspace.Capacity(
      rows: chunks.map(\.rowCount).max() ?? 0, longestSentence: lengths.max() ?? 0)
    raw.withUnsafeMutableBufferPointer { rawBuffer in
      normalized.withUnsafeMutableBufferPointer { normBuffer in
        let rawOut = SharedBuffer(rawBuffer)
        let normOut = SharedBuffer(normBuffer)
        let next = WorkCounter()
        ParallelFor.run(workers: min(workerCount, chunks.count)) { _ in
          let workspace = Workspace(capacity, encoder: self)
          while let c = next.take(below: chunks.count) {
            let chunk = chunks[c]
            self.forward(chunk, sequences: sequences, workspace: workspace)
            self.pool(chunk, hidden: workspace.hidden, raw: rawOut, normalized: normOut)
          }
        }
      }
    }
    return (raw, normalized, d)
  }

  /// The ids the encoder runs for one input: cut to `maxSequenceLength`,
  /// `[CLS] [SEP]` when empty.
  func sequence(for ids: [Int32]) -> [Int32] {
    ids.isEmpty ? [tokenizer.clsID, tokenizer.sepID] : Array(ids.prefix(maxSequenceLength))
  }

  /// One worker's activations for a chunk of up to `rows` token rows, in one
  /// allocation. A class so that the memory is freed when the worker is done.
  final class Workspace {
    struct Capacity {
      let rows: Int
      let longestSentence: Int
    }

    /// rows × d: the hidden states, in and out of each layer.
    let hidden: UnsafeMutablePointer<Float>
    /// rows × 3d: [Q K V].
    let qkv: UnsafeMutablePointer<Float>
    /// rows × d: the attention heads, concatenated.
    let context: UnsafeMutablePointer<Float>
    /// rows × d: `a`, the layer's state after attention.
    let attended: UnsafeMutablePointer<Float>
    /// rows × d_ff: GELU of the intermediate layer.
    let intermediate: UnsafeMutablePointer<Float>
    /// `ak_attention`'s scratch for the longest sentence.
    let attentionScratch: UnsafeMutablePointer<Float>
    private let storage: UnsafeMutablePointer<Float>

    init(_ capacity: Capacity, encoder: MiniLMEncoder) {
      let rows = capacity.rows
      let d = encoder.dimension
      let sizes = [
        rows * d, rows * 3 * d, rows * d, rows * d, rows * encoder.intermediateSize,
        encoder.attention.scratchCount(tokens: capacity.longestSentence),
      ]
      // Each buffer starts on a 64-byte boundary.
      let padded = sizes.map { ($0 + 15) / 16 * 16 }
      let total = padded.reduce(0, +)
      let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, total) * MemoryLayout<Float>.stride, alignment: 64)
      storage = raw.bindMemory(to: Float.self, capacity: max(1, total))
      var offsets: [Int] = []
      var offset = 0
      for size in padded {
        offsets.append(offset)
        offset += size
      }
      hidden = storage + offsets[0]
      qkv = storage + offsets[1]
      context = storage + offsets[2]
      attended = storage + offsets[3]
      intermediate = storage + offsets[4]
      attentionScratch = storage + offsets[5]
    }

    deinit { storage.deallocate() }
  }

  /// Runs the embeddings and every layer over the stacked rows of `chunk`;
  /// the last hidden states end in `workspace.hidden`.
  func forward(_ chunk: TokenChunk, sequences: [[Int32]], workspace w: Workspace) {
    let d = dimension
    let rows = chunk.rowCount
    embed(chunk, sequences: sequences, into: w.hidden)
    embeddingNorm.normalize(rows: rows, w.hidden)
    for layer in layers {
      // [Q K V] = h·W_qkv + b
      layer.qkv.run(groups: chunk.rows, a: w.hidden, lda: d, c: w.qkv, activation: .none)
      // Attention per sentence, over its own rows only.
      for sentence in chunk.rows {
        attention.run(
          tokens: sentence.count, qkv: w.qkv + sentence.lowerBound * 3 * d, context: w.context + sentence.lowerBound * d,
          scratch: w.attentionScratch)
      }
      // a = LN((A·W_o + b_o) + h)
      layer.attentionOutput.run(
        groups: chunk.rows, a: w.context, lda: d, c: w.attended, residual: w.hidden, activation: .none)
      layer.attentionNorm.normalize(rows: rows, w.attended)
      // h = LN((GELU(a·W_1 + b_1)·W_2 + b_2) + a)
      layer.intermediate.run(groups: chunk.rows, a: w.attended, lda: d, c: w.intermediate, activation: .geluErf)
      layer.output.run(
        groups: chunk.rows, a: w.intermediate, lda: intermediateSize, c: w.hidden, residual: w.attended,
        activation: .none)
      layer.outputNorm.normalize(rows: rows, w.hidden)
    }
  }

  /// Writes `E_word[t_i] + E_pos[i] + E_type[0]` for every token of the
  /// chunk's sentences (out-of-range ids read as `[UNK]`).
  func embed(_ chunk: TokenChunk, sequences: [[Int32]], into hidden: UnsafeMutablePointer<Float>) {
    let d = dimension
    let vocabularySize = wordEmbeddings.count / d
    let unknown = Int(tokenizer.unkID)
    wordEmbeddings.withUnsafeBufferPointer { word in
      positionEmbeddings.withUnsafeBufferPointer { position in
        tokenTypeEmbedding.withUnsafeBufferPointer { type in
          for (sentence, rows) in zip(chunk.sentences, chunk.rows) {
            for (i, id) in sequences[sentence].enumerated() {
              let wordRow = (id >= 0 && Int(id) < vocabularySize) ? Int(id) : unknown
              let out = hidden + (rows.lowerBound + i) * d
              for j in 0..<d { out[j] = word[wordRow * d + j] + position[i * d + j] + type[j] }
            }
          }
        }
      }
    }
  }

  /// Masked mean pooling of each sentence of the chunk (its own rows, summed
  /// in `Double`) and the L2-normalised copy, written to the sentence's row
  /// of `raw` and `normalized`.
  func pool(
    _ chunk: TokenChunk, hidden: UnsafeMutablePointer<Float>, raw: SharedBuffer<Float>,
    normalized: SharedBuffer<Float>
  ) {
    let d = dimension
    var sums = [Double](repeating: 0, count: d)
    for (sentence, rows) in zip(chunk.sentences, chunk.rows) {
      for j in 0..<d { sums[j] = 0 }
      for r in rows {
        let row = hidden + r * d
        for j in 0..<d { sums[j] += Double(row[j]) }
      }
      var squared: Double = 0
      for j in 0..<d {
        let pooled = Float(sums[j] / Double(rows.count))
        raw[sentence * d + j] = pooled
        squared += Double(pooled) * Double(pooled)
      }
      let norm = max(Float(squared.squareRoot()), 1e-12)
      for j in 0..<d { normalized[sentence * d + j] = raw[sentence * d + j] / norm }
    }
  }
}
