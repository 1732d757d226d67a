import Foundation

/// A cold-start benchmark folder in the layout of the ColdFusion paper's
/// code (e.g. `banking77-oos`):
///
/// ```
/// train/seq.in         normal observations (the stream's normals)
/// test/seq.in          normal test texts
/// id-oos/valid/seq.in  the pool the stream's anomalies are drawn from
/// id-oos/test/seq.in   anomalous test texts
/// descriptions.json    class name → description (the zero-shot guidance)
/// ```
public struct ColdStartDataset: Sendable {
  public var descriptions: ClassDescriptions
  public var streamNormals: [TextRecord]
  public var anomalyPool: [TextRecord]
  public var testNormals: [TextRecord]
  public var testAnomalies: [TextRecord]

  public static let files = ["train/seq.in", "test/seq.in", "id-oos/valid/seq.in", "id-oos/test/seq.in", "descriptions.json"]

  /// Loads `directory`. Blank lines are kept as empty texts, because the
  /// official protocol embeds every line (banking77-oos has a few); `warn`
  /// hears about them.
  public init(directory: String, warn: (String) -> Void = { _ in }) throws {
    for f in Self.files where !FileManager.default.fileExists(atPath: directory + "/" + f) {
      throw TextInputError.missingDatasetFile(directory: directory, file: f)
    }
    func lines(_ relative: String) throws -> [TextRecord] {
      let path = directory + "/" + relative
      let (records, blank) = try TextLines.read(path, keepBlank: true)
      if !blank.isEmpty { warn("\(path): \(blank.count) blank line(s) kept as empty texts, as the official protocol does (first: line \(blank[0]))") }
      guard !records.isEmpty else { throw TextInputError.empty(path: path, what: "no texts") }
      return records
    }
    descriptions = try ClassDescriptions.read(directory + "/descriptions.json")
    streamNormals = try lines("train/seq.in")
    testNormals = try lines("test/seq.in")
    anomalyPool = try lines("id-oos/valid/seq.in")
    testAnomalies = try lines("id-oos/test/seq.in")
  }
}
