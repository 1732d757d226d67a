/// Consecutive sentences whose tokens are stacked, one row per token, into
/// one matrix, so that each linear layer of the encoder is a single matrix
/// product over all their rows.
struct TokenChunk: Sendable, Equatable {
  /// The sentences, by index into the batch.
  let sentences: Range<Int>
  /// Each sentence's rows in the stacked matrix, in order, back to back
  /// from row 0.
  let rows: [Range<Int>]

  /// Total number of rows.
  var rowCount: Int { rows.last?.upperBound ?? 0 }

  /// The most rows in a chunk. Large enough that the weights (7 MB per
  /// all-MiniLM-L6-v2 layer) are streamed rarely relative to the
  /// arithmetic; small enough that a chunk's activations (about 15 KB a
  /// row) stay in the last-level cache.
  static let maxRows = 512
  /// The fewest rows a chunk is cut to when the batch is small.
  static let minRows = 64

  /// Row budget of a chunk for `totalRows` rows on `workers` workers: about
  /// four chunks per worker (so that workers finish together), within
  /// `minRows…maxRows`. Affects speed only: results never depend on how the
  /// sentences were grouped.
  static func rowBudget(totalRows: Int, workers: Int) -> Int {
    let perChunk = (totalRows + 4 * max(1, workers) - 1) / (4 * max(1, workers))
    return min(maxRows, max(minRows, perChunk))
  }

  /// Groups sentences of `lengths` tokens (each ≥ 1), in order, into chunks
  /// of at most `rowBudget` rows; a sentence longer than that gets a chunk
  /// of its own.
  static func plan(lengths: [Int], rowBudget: Int) -> [TokenChunk] {
    var chunks: [TokenChunk] = []
    var first = 0
    var rows: [Range<Int>] = []
    var used = 0
    for (i, length) in lengths.enumerated() {
      if !rows.isEmpty && used + length > rowBudget {
        chunks.append(TokenChunk(sentences: first..<i, rows: rows))
        first = i
        rows = []
        used = 0
      }
      rows.append(used..<(used + length))
      used += length
    }
    if !rows.isEmpty { chunks.append(TokenChunk(sentences: first..<lengths.count, rows: rows)) }
    return chunks
  }
}
