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
  /// The zero-shot guidance, from the descriptions file.
  public var descriptions: ClassDescriptions
  /// The normal observations of the stream (`train/seq.in`).
  public var streamNormals: [TextRecord]
  /// The texts the stream's anomalies are drawn from (`id-oos/valid/seq.in`).
  public var anomalyPool: [TextRecord]
  /// Normal test texts (`test/seq.in`).
  public var testNormals: [TextRecord]
  /// Anomalous test texts (`id-oos/test/seq.in`).
  public var testAnomalies: [TextRecord]

  /// The text splits every dataset folder must hold.
  public static let splits = ["train/seq.in", "test/seq.in", "id-oos/valid/seq.in", "id-oos/test/seq.in"]

  /// Loads `directory`, with its zero-shot guidance from
  /// `descriptionsFile` (a file in the folder: `descriptions.json`, one
  /// example query per class, or `names.json`, the class names alone).
  /// Blank lines are kept as empty texts, because the official protocol
  /// embeds every line (banking77-oos has a few); `warn` hears about them,
  /// and about guidance naming a class that `train/label` (when present)
  /// never uses.
  ///
  /// - Throws: `TextInputError.missingDatasetFile` naming the first missing
  ///   split or guidance file; `.empty` for a split or guidance with no texts.
  public init(directory: String, descriptionsFile: String = "descriptions.json", warn: (String) -> Void = { _ in }) throws {
    for f in Self.splits + [descriptionsFile] where !FileManager.default.fileExists(atPath: directory + "/" + f) {
      throw TextInputError.missingDatasetFile(directory: directory, file: f)
    }
    func lines(_ relative: String) throws -> [TextRecord] {
      let path = directory + "/" + relative
      let (records, blank) = try TextLines.read(path, keepBlank: true)
      if !blank.isEmpty { warn("\(path): \(blank.count) blank line(s) kept as empty texts, as the official protocol does (first: line \(blank[0]))") }
      guard !records.isEmpty else { throw TextInputError.empty(path: path, what: "no texts") }
      return records
    }
    descriptions = try ClassDescriptions.read(directory + "/" + descriptionsFile)
    streamNormals = try lines("train/seq.in")
    testNormals = try lines("test/seq.in")
    anomalyPool = try lines("id-oos/valid/seq.in")
    testAnomalies = try lines("id-oos/test/seq.in")
    let labelPath = directory + "/train/label"
    if FileManager.default.fileExists(atPath: labelPath) {
      // Labels are compared as words: `activate_my_card` is "Activate my card".
      func key(_ s: String) -> String { s.lowercased().replacingOccurrences(of: "_", with: " ").trimmingCharacters(in: .whitespaces) }
      let labels = Set(try TextLines.read(labelPath).records.map { key($0.text) })
      var seen = Set<String>()
      let unknown = descriptions.classNames.filter { !labels.contains(key($0)) && seen.insert($0).inserted }
      if !unknown.isEmpty {
        let shown = unknown.prefix(5).joined(separator: ", ") + (unknown.count > 5 ? ", … (\(unknown.count) in all)" : "")
        warn("\(directory)/\(descriptionsFile): \(unknown.count) class(es) never used in train/label: \(shown); their prototypes describe no normal observation")
      }
    }
  }
}
