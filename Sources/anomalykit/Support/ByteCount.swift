import AnomalyKit
import ArgumentParser
import Foundation

/// A size in bytes given on the command line: a whole number with an
/// optional binary suffix, `K`, `M`, `G` or `T` (KiB … TiB; `B` and `iB`
/// are accepted too): `512M`, `8G`, `1073741824`.
struct ByteCount: ExpressibleByArgument, CustomStringConvertible, Sendable {
  let bytes: Int

  init(bytes: Int) { self.bytes = bytes }

  init?(argument: String) {
    var text = argument.uppercased()
    for suffix in ["IB", "B"] where text.hasSuffix(suffix) && text.count > suffix.count {
      text.removeLast(suffix.count)
      break
    }
    let shifts: [Character: Int] = ["K": 10, "M": 20, "G": 30, "T": 40]
    var shift = 0
    if let last = text.last, let s = shifts[last] {
      shift = s
      text.removeLast()
    }
    guard let value = Int(text), value > 0, value <= Int.max >> shift else { return nil }
    bytes = value << shift
  }

  /// `12.0 GiB`, `340 MiB`, `512 bytes`.
  var description: String { Self.format(bytes) }

  static func format(_ bytes: Int) -> String { FitMemoryBudget.format(bytes) }

  static var defaultValueDescriptionHint: String { "bytes, or with a K/M/G/T suffix" }
}
