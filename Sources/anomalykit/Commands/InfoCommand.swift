import ArgumentParser
import Foundation
import TensorFiles

/// `anomalykit info FILE [--json]`: what a safetensors file holds.
struct InfoCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "info", abstract: "Describe a safetensors file (weights, bank, detector or features).")

  @Argument(help: "A .safetensors file.")
  var file: String

  @Flag(help: "Print JSON instead of a table.")
  var json = false

  @OptionGroup var limits: LimitOptions

  func run() throws {
    let st = try SafeTensorsFile(path: file)
    let infos = st.names.compactMap { st.tensors[$0] }
    let bytes = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
    if json {
      let tensors: [JSONValue] = infos.map { t in
        .object([
          ("name", .string(t.name)), ("dtype", .string(t.dtype.rawValue)),
          ("shape", .array(t.shape.map { .number(Double($0)) })),
          ("data_offsets", .array([.number(Double(t.dataOffsets.lowerBound)), .number(Double(t.dataOffsets.upperBound))])),
        ])
      }
      let doc = JSONValue.object([
        ("path", .string(file)), ("bytes", .number(Double(bytes))), ("sha256", .string(st.sha256())),
        ("tensor_count", .number(Double(infos.count))),
        ("element_count", .number(Double(infos.reduce(0) { $0 + $1.elementCount }))),
        ("tensors", .array(tensors)),
        ("metadata", .object(st.metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
      ])
      print(doc.serialized)
      return
    }
    print("file:     \(file)")
    print("bytes:    \(bytes)")
    print("sha256:   \(st.sha256())")
    print("tensors:  \(infos.count) (\(infos.reduce(0) { $0 + $1.elementCount }) elements)")
    if !st.metadata.isEmpty {
      print("metadata:")
      for (key, value) in st.metadata.sorted(by: { $0.key < $1.key }) {
        let shown = value.count > 100 ? String(value.prefix(97)) + "… (\(value.count) chars)" : value
        print("  \(key) = \(shown)")
      }
    }
    let width = min(60, infos.map(\.name.count).max() ?? 4)
    print("\("name".padding(toLength: width, withPad: " ", startingAt: 0))  dtype  shape")
    for t in infos {
      print("\(t.name.padding(toLength: max(width, t.name.count), withPad: " ", startingAt: 0))  \(t.dtype.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0))  \(t.shape)")
    }
  }
}
