import AnomalyKit
import Density
import Foundation
import TensorFiles

/// `score --detector`: embeds the inputs with the detector's encoder and
/// scores them against its prototypes.
struct DetectorScoring {
  let path: String
  let inputs: [String]
  let textFile: String?
  let zeroShot: Bool
  let image: ImageOptions
  let text: TextOptions

  func run(json: Bool, csv: Bool) throws {
    let detector = try DetectorFile.read(path: path)
    let encoder = try ObservationEncoder.forDetector(detector, path: path, text: text, image: image)
    let rows: FeatureMatrix
    let labels: [String]
    switch encoder {
    case .text:
      try Self.refusePathsAsTexts(inputs, detector: path)
      var records = inputs.enumerated().map { TextRecord(text: $0.element, origin: "argument \($0.offset + 1)") }
      if let textFile {
        records += try TextLines.read(textFile, warn: { warn("warning: " + $0) })
      }
      for r in records where r.text.allSatisfy(\.isWhitespace) { warn("warning: \(r.origin): empty text; it embeds as an empty sentence") }
      guard !records.isEmpty else { throw CLIError("\(textFile ?? "input"): no texts to score") }
      rows = try encoder.embed(texts: records)
      labels = records.map(\.text)
    case .image:
      guard textFile == nil else { throw CLIError("\(path): an image detector scores images, not --text-file") }
      (rows, labels) = try encoder.embed(inputs, maxFiles: image.maxFiles)
    }
    let nearest = try detector.nearest(rows, zeroShot: zeroShot)
    let threshold = zeroShot ? nil : detector.threshold
    let key = encoder.modality == "text" ? "text" : "path"
    if json {
      let doc = JSONValue.array(
        labels.indices.map { i in
          .object([
            (key, .string(labels[i])), ("score", .number(Double(nearest.distances[i]))),
            ("anomalous", threshold.map { .bool(nearest.distances[i] > $0) } ?? .null),
            ("class", .string(detector.classNames[nearest.indices[i]])),
          ])
        })
      print(doc.serialized)
    } else if csv {
      print("\(key),score,anomalous,class")
      for i in labels.indices {
        let verdict = threshold.map { nearest.distances[i] > $0 ? "true" : "false" } ?? "null"
        print("\(csvField(labels[i])),\(nearest.distances[i]),\(verdict),\(csvField(detector.classNames[nearest.indices[i]]))")
      }
    } else {
      for i in labels.indices {
        let verdict = (threshold.map { nearest.distances[i] > $0 ? "ANOMALOUS" : "normal" } ?? "-").padding(toLength: 9, withPad: " ", startingAt: 0)
        print(String(format: "%12.6g", nearest.distances[i]) + "  " + verdict + "  " + labels[i] + "  [" + detector.classNames[nearest.indices[i]] + "]")
      }
    }
  }

  /// A text detector embeds its arguments as sentences, so `score
  /// --detector TEXT cat.png folder/` would print scores of the strings
  /// "cat.png" and "folder/". When every argument names an existing file or
  /// folder, that is almost surely not what was meant: refuse, and point to
  /// `--text-file`.
  static func refusePathsAsTexts(_ inputs: [String], detector: String) throws {
    guard !inputs.isEmpty, inputs.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) else { return }
    let shown = inputs.prefix(3).joined(separator: ", ") + (inputs.count > 3 ? ", …" : "")
    throw CLIError(
      "\(detector): a text detector scores texts, but every argument is an existing file or folder (\(shown)); "
        + "to score the lines of a text file use --text-file FILE; an image detector (adapt --imagenet-classes) scores images")
  }

  private func csvField(_ s: String) -> String {
    s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
  }
}
