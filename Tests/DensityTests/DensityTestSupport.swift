import Density
import Foundation
import TensorFiles
import Testing

/// Paths inside the repository, found from this source file's location so
/// tests run from any working directory.
enum DensityPaths {
  static let repositoryRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/DensityTests/DensityTestSupport.swift
    return parts.joined(separator: "/")
  }()

  /// Made by Tests/Fixtures/density/make_density_fixtures.py (see the
  /// README.md next to it).
  static var fixture: String { repositoryRoot + "/Tests/Fixtures/density/density.safetensors" }
}

/// The reference values written by numpy / scikit-learn.
enum DensityFixture {
  static func open() throws -> SafeTensorsFile { try SafeTensorsFile(path: DensityPaths.fixture) }

  /// An F32 `[n, d]` tensor as a feature matrix.
  static func matrix(_ file: SafeTensorsFile, _ name: String) throws -> FeatureMatrix {
    let info = try file.info(name)
    try #require(info.shape.count == 2, "\(name) has shape \(info.shape)")
    return FeatureMatrix(rows: info.shape[0], columns: info.shape[1], values: try file.floats(name))
  }
}

/// The nearest-neighbour test data, generated here and in the fixture script
/// from the same SplitMix64 stream (seed 20240601, bank first, then the
/// queries; each value `(next() >> 40) / 2^23 − 1`, exact in Float).
enum SplitMixData {
  static let seed: UInt64 = 20_240_601
  static let dimension = 37
  static let bankRows = 1000
  static let queryRows = 300

  static func matrix(_ rng: inout SplitMix64, rows: Int, columns: Int) -> FeatureMatrix {
    let values = (0..<(rows * columns)).map { _ in Float(rng.next() >> 40) / Float(1 << 23) - 1 }
    return FeatureMatrix(rows: rows, columns: columns, values: values)
  }

  static let bankAndQueries: (bank: FeatureMatrix, queries: FeatureMatrix) = {
    var rng = SplitMix64(seed: seed)
    let bank = matrix(&rng, rows: bankRows, columns: dimension)
    let queries = matrix(&rng, rows: queryRows, columns: dimension)
    return (bank, queries)
  }()
}

/// A fresh folder under the system temp directory, removed on deinit.
final class DensityTemporaryFolder {
  let path: String

  init() throws {
    path = FileManager.default.temporaryDirectory.appendingPathComponent("anomalykit-density-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  func file(_ name: String) -> String { path + "/" + name }
}

/// `|actual − expected| ≤ relative·|expected| + absolute`.
func isClose(_ actual: Double, _ expected: Double, relative: Double, absolute: Double = 0) -> Bool {
  abs(actual - expected) <= relative * abs(expected) + absolute
}

/// Squared Euclidean distance in Double between row `i` of `a` and row `j` of `b`.
func exactSquaredDistance(_ a: FeatureMatrix, _ i: Int, _ b: FeatureMatrix, _ j: Int) -> Double {
  var s = 0.0
  for c in 0..<a.columns {
    let t = Double(a.values[i * a.columns + c]) - Double(b.values[j * b.columns + c])
    s += t * t
  }
  return s
}

/// Runs `body`, which must throw a `DensityError`, and returns it.
func densityError<R>(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R) -> DensityError? {
  do {
    let result = try body()
    Issue.record("expected a DensityError, got \(result)", sourceLocation: sourceLocation)
    return nil
  } catch let error as DensityError {
    return error
  } catch {
    Issue.record("expected a DensityError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    return nil
  }
}
