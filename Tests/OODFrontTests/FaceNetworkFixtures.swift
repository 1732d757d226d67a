import FeatureExtraction
import TensorFiles

/// `Tests/Fixtures/faces/` (made by `make_fixtures.py` there with dlib-bin 20.0.1).
enum FaceNetworkFixtures {
  static func image(_ name: String) throws -> RGBImage {
    try ImageDecoder.decode(path: TestPaths.fixture("faces/\(name)"))
  }

  /// `reference.json`: dlib's descriptors and detections.
  static func reference() throws -> JSONValue {
    let text = try String(contentsOfFile: TestPaths.fixture("faces/reference.json"), encoding: .utf8)
    return try JSONValue.parse(text)
  }

  static func numbers(_ value: JSONValue?) -> [Double] {
    guard case .array(let items)? = value else { return [] }
    return items.compactMap { item in
      if case .number(let v) = item { return v }
      return nil
    }
  }

  /// `[[left, top, right, bottom, confidence]]` under `key` → `scene`.
  static func detections(_ key: String, _ scene: String) throws -> [[Double]] {
    guard case .array(let rows)? = try reference()[key]?[scene] else { return [] }
    return rows.map { numbers($0) }
  }
}
