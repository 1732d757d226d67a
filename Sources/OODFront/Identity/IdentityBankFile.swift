import TensorFiles

/// Reading and writing identity banks as safetensors.
///
/// Tensors: `references` F32 `[N, D]`, the unit-normalised descriptors of
/// the N authentic reference faces.
///
/// Metadata (strings): `format` = `identity`, `format_version` = `1`,
/// `toolkit_version`, `name` (the claimed identity), `threshold` (cosine),
/// `dimension`, `count`, `sources` (a JSON array of the N reference files),
/// plus the caller's provenance: `embedder_sha256` (the face ResNet's weights;
/// checked against the loaded weights before scoring), `detector_sha256`,
/// `landmarks_sha256` and `alignment`.
public enum IdentityBankFile {
  /// The `format_version` this code writes and reads (`1`).
  public static let formatVersion = "1"

  /// Writes `bank` to `path` as safetensors, with `toolkitVersion` recorded
  /// in the metadata.
  public static func write(_ bank: IdentityBank, to path: String, toolkitVersion: String) throws {
    var meta = bank.metadata
    meta["format"] = "identity"
    meta["format_version"] = formatVersion
    meta["toolkit_version"] = toolkitVersion
    meta["name"] = bank.name
    meta["threshold"] = "\(bank.threshold)"
    meta["dimension"] = String(bank.dimension)
    meta["count"] = String(bank.count)
    meta["sources"] = JSONValue.array(bank.sources.map { .string($0) }).serialized
    var writer = SafeTensorsWriter(metadata: meta)
    try writer.add("references", floats: bank.references, shape: [bank.count, bank.dimension])
    try writer.write(to: path)
  }

  /// Loads the identity bank at `path` (see `read(_:)`).
  public static func read(path: String) throws -> IdentityBank {
    try read(SafeTensorsFile(path: path))
  }

  /// Loads an identity bank from an opened safetensors file (mapped, or
  /// bytes held in memory); messages name `file.path`.
  public static func read(_ file: SafeTensorsFile) throws -> IdentityBank {
    let path = file.path
    let meta = file.metadata
    if let problem = file.formatProblem(format: "identity", version: formatVersion, otherKinds: "reference bank, detector or weights") {
      throw IdentityError.invalidBank(path: path, reason: problem)
    }
    guard let name = meta["name"], !name.isEmpty else { throw IdentityError.invalidBank(path: path, reason: "no 'name'") }
    guard let t = meta["threshold"].flatMap(Float.init), t.isFinite, (-1...1).contains(t) else {
      throw IdentityError.invalidBank(path: path, reason: "'threshold' must be a cosine in [-1, 1], got '\(meta["threshold"] ?? "(missing)")'")
    }
    guard let sourcesText = meta["sources"], case .array(let items)? = try? JSONValue.parse(sourcesText) else {
      throw IdentityError.invalidBank(path: path, reason: "'sources' must be a JSON array of file names")
    }
    let sources = items.compactMap(\.stringValue)
    let info = try file.info("references")
    guard info.shape.count == 2, info.shape[0] == sources.count, sources.count == items.count, info.shape[0] > 0, info.shape[1] > 0 else {
      throw IdentityError.invalidBank(
        path: path, reason: "'references' has shape \(info.shape), expected [\(items.count), D] (one row per source)")
    }
    let d = info.shape[1]
    let values = try file.floats("references")
    for i in 0..<sources.count {
      let norm = (0..<d).reduce(Float(0)) { $0 + values[i * d + $1] * values[i * d + $1] }.squareRoot()
      guard norm.isFinite, abs(norm - 1) < 1e-3 else {
        throw IdentityError.invalidBank(path: path, reason: "reference \(i) is not unit-norm (‖r‖ = \(norm)); was the file edited?")
      }
    }
    let provenance = meta.filter { !reservedKeys.contains($0.key) }
    return IdentityBank(name: name, unitReferences: values, dimension: d, sources: sources, threshold: t, metadata: provenance)
  }

  /// Reads a bank and checks that its descriptors can be compared with
  /// those of `embedder`: the bank must record the SHA-256 of the same
  /// weight file (`embedder_sha256`) and have the same width. Descriptors of
  /// other weights live in another space, where cosines mean nothing.
  ///
  /// - Throws: `IdentityError.incompatibleBank` naming the file and both
  ///   hashes, besides the errors of `read(path:)`.
  public static func read(path: String, embedder: FaceEmbedder) throws -> IdentityBank {
    let bank = try read(path: path)
    let current = embedder.weightsSHA256
    guard let recorded = bank.metadata["embedder_sha256"] else {
      throw IdentityError.incompatibleBank(
        path: path, reason: "it records no embedder_sha256, so its descriptors cannot be matched to the loaded weights (\(embedder.path), sha256 \(current)); fit the bank again")
    }
    guard recorded == current else {
      throw IdentityError.incompatibleBank(
        path: path, reason: "its descriptors were made by face-embedder weights with sha256 \(recorded), but the loaded weights (\(embedder.path)) have sha256 \(current); fit the bank again with these weights, or load the weights it was made with")
    }
    guard bank.dimension == embedder.descriptorSize else {
      throw IdentityError.incompatibleBank(
        path: path, reason: "its descriptors are \(bank.dimension)-d, the embedder's are \(embedder.descriptorSize)-d")
    }
    return bank
  }

  static let reservedKeys: Set<String> = [
    "format", "format_version", "toolkit_version", "name", "threshold", "dimension", "count", "sources",
  ]
}
