import Density
import FeatureExtraction
import Foundation
import TensorFiles

/// A file of text embeddings keyed by what made them, so repeated
/// evaluations on the same texts skip the encoder.
///
/// The safetensors file holds `embeddings` F32 `[N, D]` and metadata
/// `format` = `embedding-cache`, `weights_sha256` (the encoder file's),
/// `precision` (the encoder's arithmetic; absent in caches written before
/// precisions existed, which are `fp32`) and
/// `texts_sha256`: SHA-256 over the texts, each followed by a NUL byte.
/// A cache whose keys do not match is ignored (and overwritten).
public enum TextEmbeddingCache {
  /// Hex SHA-256 over the texts, each followed by a NUL byte (the
  /// `texts_sha256` metadata value).
  package static func key(_ texts: [TextRecord]) -> String {
    var hash = SHA256()
    for t in texts {
      var bytes = Array(t.text.utf8)
      bytes.append(0)
      bytes.withUnsafeBytes { hash.update($0) }
    }
    return hash.finalizeHex()
  }

  /// The cached embeddings of exactly `texts` under these weights and
  /// precision, or nil.
  public static func load(
    _ path: String, weightsSHA256: String, precision: ComputePrecision = .fp32, texts: [TextRecord]
  ) -> FeatureMatrix? {
    guard FileManager.default.fileExists(atPath: path), let file = try? SafeTensorsFile(path: path),
      file.metadata["format"] == "embedding-cache", file.metadata["weights_sha256"] == weightsSHA256,
      (try? ComputePrecision(metadata: file.metadata, path: path)) == precision,
      file.metadata["texts_sha256"] == key(texts), let info = file.tensors["embeddings"], info.shape.count == 2,
      info.shape[0] == texts.count, let values = try? file.floats("embeddings")
    else { return nil }
    return FeatureMatrix(rows: info.shape[0], columns: info.shape[1], values: values)
  }

  /// Writes `embeddings` of `texts` to `path`, keyed by the weights and texts.
  ///
  /// - Parameters:
  ///   - embeddings: the `N × D` embeddings, row `i` that of `texts[i]`.
  ///   - path: the cache file to (over)write.
  ///   - weightsSHA256: SHA-256 of the encoder's weight file.
  ///   - precision: the arithmetic the encoder ran in.
  ///   - texts: the texts embedded, in row order.
  /// - Throws: the safetensors writer's errors when the file cannot be written.
  public static func store(
    _ embeddings: FeatureMatrix, to path: String, weightsSHA256: String, precision: ComputePrecision = .fp32, texts: [TextRecord]
  ) throws {
    var writer = SafeTensorsWriter(metadata: [
      "format": "embedding-cache", "weights_sha256": weightsSHA256, "texts_sha256": key(texts),
      ComputePrecision.metadataKey: precision.rawValue,
    ])
    try writer.add("embeddings", floats: embeddings.values, shape: [embeddings.rows, embeddings.columns])
    try writer.write(to: path)
  }
}
