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
    let verifier = try IdentityVerifier.fit(
      name: name, faces: found, threshold: threshold, encoder: encoder, input: faces.input, provenance: provenance)
    let bank = verifier.bank
    let loo = bank.leaveOneOutScores()
    let summary = bank.leaveOneOutSummary(loo)
    try verifier.save(to: URL(fileURLWithPath: out))
    warn("wrote \(out): identity '\(name)', \(bank.count) reference face(s), threshold \(String(format: "%.4g", threshold))")
    warn(summary.text)
    let outliers = zip(bank.sources, loo).filter { $0.1 < threshold }
    if !outliers.isEmpty {
      let list = outliers.prefix(5).map { "\($0.0) (\(String(format: "%.3f", $0.1)))" }.joined(separator: ", ")
      let more = outliers.count > 5 ? " and \(outliers.count - 5) more" : ""
      warn("warning: \(outliers.count) reference(s) match no other reference at the threshold: \(list)\(more); check that each shows \(name)")
    }
  }
}
