import ArgumentParser
import FeatureExtraction
import Foundation
import TensorFiles

/// `anomalykit classify IMAGES...`: top-5 ImageNet classes, the sanity check
/// for a pretrained backbone.
struct ClassifyCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "classify", abstract: "Print the top ImageNet classes of each image.")

  @Argument(help: "Images or folders of images.")
  var inputs: [String]

  @Option(name: .long, help: "How many classes to print.")
  var top: Int = 5

  @Flag(help: "Print a JSON array.")
  var json = false

  @OptionGroup var image: ImageOptions

  @OptionGroup var limits: LimitOptions

  func validate() throws {
    guard top >= 1 else { throw ValidationError("--top must be at least 1") }
  }

  func run() throws {
    let paths = try InputFiles.images(inputs, maxFiles: image.maxFiles)
    let extractor = try image.extractor(for: paths)
    guard let model = extractor.model as? EfficientNetLite else { throw CLIError("classify needs a classifier backbone") }
    let k = min(top, model.classCount)
    var results: [JSONValue] = []
    try extractor.forEachBatch(paths, layers: [.logits]) { range, output in
      let logits = output.logits ?? []
      for (row, index) in range.enumerated() {
        let l = Array(logits[(row * model.classCount)..<((row + 1) * model.classCount)])
        let m = l.max() ?? 0
        let e = l.map { Foundation.exp(Double($0 - m)) }
        let z = e.reduce(0, +)
        let best = l.indices.sorted { l[$0] > l[$1] }.prefix(k)
        let name = { (i: Int) in i < model.classNames.count ? model.classNames[i] : "class \(i)" }
        if json {
          results.append(
            .object([
              ("path", .string(paths[index])),
              ("top", .array(best.map { .object([("class", .number(Double($0))), ("name", .string(name($0))), ("probability", .number(e[$0] / z))]) })),
            ]))
        } else {
          print(paths[index])
          for i in best { print(String(format: "  %5.1f%%  %4d  %@", 100 * e[i] / z, i, name(i))) }
        }
      }
    }
    if json { print(JSONValue.array(results).serialized) }
  }
}
