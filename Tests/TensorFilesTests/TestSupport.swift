import Foundation
import TensorFiles
import Testing

/// Paths inside the repository, found from this source file's location so
/// tests run from any working directory.
enum TestPaths {
  static let repositoryRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/TensorFilesTests/TestSupport.swift
    return parts.joined(separator: "/")
  }()

  static func fixture(_ relative: String) -> String { repositoryRoot + "/Tests/Fixtures/" + relative }
}

/// A fresh folder under the system temp directory, removed on deinit.
final class TemporaryFolder {
  let path: String

  init() throws {
    path = FileManager.default.temporaryDirectory.appendingPathComponent("anomalykit-tf-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// Writes `bytes` to `name` inside the folder and returns the full path.
  @discardableResult
  func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    let p = path + "/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: p))
    return p
  }

  func read(_ name: String) throws -> [UInt8] {
    try Array(Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
  }

  /// Names in the folder, hidden ones included.
  func listing() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path).sorted()
  }
}

/// A safetensors file assembled by hand: the 8-byte little-endian header
/// length (`declaredLength`, or the header's true length), the header text,
/// then `data`.
func safetensorsBytes(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
  let h = Array(header.utf8)
  let n = declaredLength ?? UInt64(h.count)
  return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + h + data
}

/// Little-endian bytes of `values`' bit patterns.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
  values.flatMap { v in (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}

/// Runs `body`, which must throw a `TensorFileError`; checks that its `path`
/// is `path` and that its description names the path and, if given, the
/// tensor. Returns the error (nil after recording an issue).
@discardableResult
func expectTensorFileError<R>(
  path: String, tensor: String? = nil, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R
) -> TensorFileError? {
  do {
    let result = try body()
    Issue.record("expected a TensorFileError for \(path), got \(result)", sourceLocation: sourceLocation)
    return nil
  } catch let error as TensorFileError {
    #expect(error.path == path, sourceLocation: sourceLocation)
    #expect(error.description.contains(path), "\(error.description)", sourceLocation: sourceLocation)
    if let tensor {
      #expect(error.description.contains("'\(tensor)'"), "\(error.description)", sourceLocation: sourceLocation)
    }
    return error
  } catch {
    Issue.record("expected a TensorFileError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    return nil
  }
}
