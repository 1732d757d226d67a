import Density
import FeatureExtraction

/// Texts → raw MiniLM sentence embeddings (masked mean pooling, not
/// normalised: the cold-start methods use squared L2 on raw vectors, as the
/// official ColdFusion code does), with warnings for texts that lose words.
public struct TextEmbedder: Sendable {
  /// The sentence encoder (tokenizer and MiniLM weights).
  public let encoder: MiniLMEncoder

  /// An embedder that runs `encoder`.
  ///
  /// - Parameter encoder: the sentence encoder to embed with.
  public init(encoder: MiniLMEncoder) { self.encoder = encoder }

  /// Row `i` embeds `records[i]`. `warn` hears about each text cut to the
  /// encoder's `maxSequenceLength` tokens and each text that yields no
  /// tokens at all (only control characters, say), by origin.
  /// `progress(done)` is called after each chunk of `chunk` texts.
  public func embed(
    _ records: [TextRecord], chunk: Int = 1024, warn: (String) -> Void = { _ in }, progress: (Int) -> Void = { _ in }
  ) -> FeatureMatrix {
    let limit = encoder.maxSequenceLength
    var ids: [[Int32]] = []
    ids.reserveCapacity(records.count)
    for r in records {
      let tokens = encoder.tokenizer.tokenize(r.text)
      if tokens.truncated {
        warn("\(r.origin): text is longer than \(limit) tokens; only the first \(limit) are used")
      } else if tokens.ids.count <= 2 {
        warn("\(r.origin): text has no tokens after normalisation; it embeds as an empty sentence")
      }
      ids.append(tokens.ids)
    }
    var values: [Float] = []
    values.reserveCapacity(records.count * encoder.dimension)
    for start in stride(from: 0, to: ids.count, by: max(1, chunk)) {
      let part = Array(ids[start..<min(ids.count, start + max(1, chunk))])
      values += encoder.encode(tokenIDs: part).raw
      progress(start + part.count)
    }
    return FeatureMatrix(rows: records.count, columns: encoder.dimension, values: values)
  }
}
