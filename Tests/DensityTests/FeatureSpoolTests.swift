import Foundation
import Testing

import Density

@Suite("FeatureSpool")
struct FeatureSpoolTests {
  static func matrix(rows: Int, columns: Int) -> FeatureMatrix {
    FeatureMatrix(rows: rows, columns: columns, values: (0..<(rows * columns)).map { Float($0) * 0.25 - 7 })
  }

  @Test("rows appended in batches read back exactly, by range, by index and whole")
  func roundTrip() throws {
    let all = Self.matrix(rows: 37, columns: 5)
    let spool = try FeatureSpool(folder: FileManager.default.temporaryDirectory.path, columns: 5)
    for start in stride(from: 0, to: 37, by: 8) {
      try spool.append(all.selecting(Array(start..<min(37, start + 8))))
    }
    #expect(spool.rows == 37)
    #expect(try spool.matrix() == all)
    #expect(try spool.rows(3..<11) == all.selecting(Array(3..<11)))
    let picked = [0, 1, 2, 9, 20, 21, 36, 5]
    #expect(try spool.selecting(picked) == all.selecting(picked))
    let subset = FeatureRowSubset(spool, rows: [30, 2, 7])
    #expect(try subset.selecting([2, 0]) == all.selecting([7, 30]))
    #expect(try subset.matrix() == all.selecting([30, 2, 7]))
  }

  @Test("a batch of another width is refused")
  func width() throws {
    let spool = try FeatureSpool(folder: FileManager.default.temporaryDirectory.path, columns: 4)
    #expect(throws: DensityError.self) { try spool.append(Self.matrix(rows: 2, columns: 3)) }
  }

  @Test("the scratch file is unlinked at once: nothing is left in the folder")
  func unlinked() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
    let spool = try FeatureSpool(folder: folder, columns: 3)
    try spool.append(Self.matrix(rows: 4, columns: 3))
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    #expect(try spool.matrix() == Self.matrix(rows: 4, columns: 3))
  }

  @Test("a random coreset read from a spool equals the in-memory one")
  func randomCoreset() throws {
    let all = Self.matrix(rows: 200, columns: 6)
    let spool = try FeatureSpool(folder: FileManager.default.temporaryDirectory.path, columns: 6)
    try spool.append(all)
    let fromMatrix = all.selecting(Coreset.select(all, count: 20, method: .random, seed: 3))
    #expect(try spool.selecting(Coreset.randomRows(200, choosing: 20, seed: 3)) == fromMatrix)
  }
}
