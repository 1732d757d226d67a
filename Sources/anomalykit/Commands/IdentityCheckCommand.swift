import ArgumentParser
import Foundation
import OODFront
import TensorFiles

/// `anomalykit identity check --bank P.safetensors IMAGES_OR_DIRS... [--json|--csv]`.
struct IdentityCheckCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "check", abstract: "Check images claimed to show a person against that person's identity bank.",
    discussion: """
      Prints one row per input, in input order: the truth score t(x) = max_i cos(f(x), f(r_i)) (cosine \
      to the nearest reference), the verdict (supported when t ≥ the bank's threshold), the faces found \
      and the nearest reference file. --json prints [{"path", "truth", "supports", "nearest", "faces"}]; \
      with --skip-no-face a file without a face has faces 0 and null truth, supports and nearest. A low \
      truth score falsifies the claim "this is P"; a high one does not prove the image authentic (a \
      face swap of P's own face, or an edit elsewhere in the image, passes).
      """)

  @Option(name: .long, help: "An identity bank written by 'anomalykit identity fit'.")
  var bank: String

  @Argument(help: "Images (or folders of images) claimed to show the bank's person.")
  var inputs: [String]

  @Flag(help: "Print a JSON array.")
  var json = false

  @Flag(help: "Print CSV (path,truth,supports,nearest,faces).")
  var csv = false

  @Option(name: .customLong("descriptors-out"), help: "Also write the raw 128-d descriptors of the faces found to this .npy (rows in output order, files without a face left out; their paths go to FILE.paths.txt).")
  var descriptorsOut: String?

  @OptionGroup var faces: FaceOptions

  @OptionGroup var limits: LimitOptions

  func validate() throws {
    guard !(json && csv) else { throw ValidationError("--json and --csv are exclusive") }
    if let descriptorsOut, !descriptorsOut.hasSuffix(".npy") { throw ValidationError("--descriptors-out must end in .npy") }
  }

  /// One output row.
  struct Row {
    let path: String
    let face: FaceEncoding?
    let truth: Float?
    let supports: Bool?
    let nearest: String?
  }

  func run() throws {
    let paths = try InputFiles.images(inputs, maxFiles: faces.maxFiles)
    if let descriptorsOut {
      try OutputPath.check(descriptorsOut, inputs: paths + [bank])
      try OutputPath.check(descriptorsOut + ".paths.txt", inputs: paths + [bank])
    }
    let (encoder, _) = try faces.encoder()
    let identity = try IdentityBankFile.read(path: bank, embedder: encoder.embedder)
    warn(
      "claim: these images show '\(identity.name)' (\(bank): \(identity.count) reference face(s), threshold \(String(format: "%.4g", identity.threshold)))")
    let found = try faces.encode(paths, with: encoder, label: "identity check")
    let rows = zip(paths, found).map { path, face -> Row in
      guard let face else { return Row(path: path, face: nil, truth: nil, supports: nil, nearest: nil) }
      let (score, nearest) = identity.truth(face.descriptor)
      return Row(
        path: path, face: face, truth: score, supports: identity.supportsClaim(score), nearest: identity.sources[nearest])
    }
    if let descriptorsOut {
      let described = rows.compactMap(\.face)
      try NPYFile.write(
        rows: described.count, columns: encoder.embedder.descriptorSize, values: described.flatMap(\.descriptor),
        to: descriptorsOut)
      try AtomicFile.write(Array(described.map { $0.path + "\n" }.joined().utf8), to: descriptorsOut + ".paths.txt")
    }
    print(rows)
  }

  func print(_ rows: [Row]) {
    if json {
      let doc = JSONValue.array(
        rows.map { r in
          .object([
            ("path", .string(r.path)), ("truth", r.truth.map { .number(Double($0)) } ?? .null),
            ("supports", r.supports.map { .bool($0) } ?? .null), ("nearest", r.nearest.map { .string($0) } ?? .null),
            ("faces", .number(Double(r.face?.facesFound ?? 0))),
          ])
        })
      Swift.print(doc.serialized)
    } else if csv {
      Swift.print("path,truth,supports,nearest,faces")
      for r in rows {
        let fields = [
          Self.quoted(r.path), r.truth.map { "\($0)" } ?? "", r.supports.map { $0 ? "true" : "false" } ?? "",
          r.nearest.map(Self.quoted) ?? "", String(r.face?.facesFound ?? 0),
        ]
        Swift.print(fields.joined(separator: ","))
      }
    } else {
      Swift.print("   truth  " + "verdict".padding(toLength: 11, withPad: " ", startingAt: 0) + "  faces  path  (nearest reference)")
      for r in rows {
        let truth = r.truth.map { String(format: "%8.4f", $0) } ?? "       -"
        let verdict = (r.supports.map { $0 ? "supported" : "UNSUPPORTED" } ?? "no face").padding(
          toLength: 11, withPad: " ", startingAt: 0)
        let faceCount = String(r.face?.facesFound ?? 0).padding(toLength: 5, withPad: " ", startingAt: 0)
        Swift.print("\(truth)  \(verdict)  \(faceCount)  \(r.path)" + (r.nearest.map { "  (\($0))" } ?? ""))
      }
    }
  }

  static func quoted(_ field: String) -> String {
    field.contains(",") || field.contains("\"") || field.contains("\n")
      ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
  }
}
