import ArgumentParser
import Foundation
import OODFront
import TensorFiles

/// `anomalykit identity fit --name P IMAGES_OR_DIRS... --out P.safetensors`.
struct IdentityFitCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "fit", abstract: "Build an identity bank from authentic photos of one person.",
    discussion: """
      Each photo's most confident face is detected (dlib MMOD CNN; small images are searched again at \
      2× when no face is found), aligned on 5 landmarks to a 150×150 chip and described by dlib's face \
      ResNet; the bank keeps the unit-normalised descriptors, the weights' SHA-256 and the \
      leave-one-out truth scores of the references among themselves (a check that they show one person).
      """)

  @Option(name: .long, help: "The claimed identity's name.")
  var name: String

  @Argument(help: "Authentic photos (or folders of photos) of the person.")
  var inputs: [String]

  @Option(name: .long, help: "Where to write the bank (.safetensors).")
  var out: String

  @Option(name: .long, help: "Cosine truth score at or above which a claim is supported (default 0.92: dlib's 0.6 Euclidean rule at the descriptors' typical norm 1.52).")
  var threshold: Float = IdentityBank.defaultThreshold

  @OptionGroup var faces: FaceOptions

  @OptionGroup var limits: LimitOptions

  func validate() throws {
    guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--name must not be empty") }
    guard threshold.isFinite, (-1...1).contains(threshold) else {
      throw ValidationError("--threshold is a cosine similarity: give a value in -1…1")
    }
    guard out.hasSuffix(".safetensors") else { throw ValidationError("--out must end in .safetensors") }
  }

  func run() throws {
    let paths = try InputFiles.images(inputs, maxFiles: faces.maxFiles)
    try OutputPath.check(out, inputs: paths)
    let (encoder, provenance) = try faces.encoder()
    let found = try faces.encode(paths, with: encoder, label: "identity fit").compactMap { $0 }
    guard !found.isEmpty else {
      throw CLIError("\(inputs.joined(separator: ", ")): no face found in any of the \(paths.count) file(s); nothing to fit")
    }
    var bank = try IdentityBank(
      name: name, descriptors: found.map(\.descriptor), sources: found.map(\.path), threshold: threshold,
      metadata: provenance)
    let loo = bank.leaveOneOutScores()
    let summary = Self.summary(loo, threshold: threshold)
    bank.metadata["leave_one_out_truth"] = summary.json.serialized
    try IdentityBankFile.write(bank, to: out, toolkitVersion: AnomalyKitCommand.version)
    warn("wrote \(out): identity '\(name)', \(bank.count) reference face(s), threshold \(String(format: "%.4g", threshold))")
    warn(summary.text)
    let outliers = zip(bank.sources, loo).filter { $0.1 < threshold }
    if !outliers.isEmpty {
      let list = outliers.prefix(5).map { "\($0.0) (\(String(format: "%.3f", $0.1)))" }.joined(separator: ", ")
      let more = outliers.count > 5 ? " and \(outliers.count - 5) more" : ""
      warn("warning: \(outliers.count) reference(s) match no other reference at the threshold: \(list)\(more); check that each shows \(name)")
    }
  }

  /// The references' leave-one-out truth scores, summarised: count, min,
  /// median, mean, max and how many fall below the threshold.
  static func summary(_ scores: [Float], threshold: Float) -> (json: JSONValue, text: String) {
    guard !scores.isEmpty else {
      return (.object([("count", .number(0))]), "leave-one-out truth scores: need ≥ 2 references")
    }
    let sorted = scores.sorted()
    let n = sorted.count
    let median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    let mean = sorted.reduce(0, +) / Float(n)
    let below = sorted.filter { $0 < threshold }.count
    let json = JSONValue.object([
      ("count", .number(Double(n))), ("min", .number(Double(sorted[0]))), ("median", .number(Double(median))),
      ("mean", .number(Double(mean))), ("max", .number(Double(sorted[n - 1]))),
      ("below_threshold", .number(Double(below))),
    ])
    let text = String(
      format: "leave-one-out truth scores of the references: min %.4f, median %.4f, max %.4f (%d of %d below the threshold)",
      sorted[0], median, sorted[n - 1], below, n)
    return (json, text)
  }
}
