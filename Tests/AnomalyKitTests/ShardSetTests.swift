import AnomalyKit
import Density
import Foundation
import Testing

/// The library's sharding flow, as the "Sharding a bank across machines"
/// article writes it: split, answer per shard, merge; equal to the whole
/// detector's scores bit for bit.
@Suite("Front API: ShardSet, NeighbourFile")
struct ShardSetTests {
  @Test("split → NeighbourFile per shard → merge equals ImageAnomalyDetector.score")
  func articleFlow() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("anomalykit-shardset-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var configuration = BankConfiguration.patchDefault
    configuration.coreset = 0.05
    let detector = try ImageAnomalyDetector.fit(normal: try FrontAPITests.images("normal"), configuration: configuration)
    let bank = folder.appendingPathComponent("bank.safetensors")
    try detector.save(to: bank)
    let images = try FrontAPITests.images("test")
    let whole = try detector.score(images)

    let set = try ShardSet.split(bank: bank, into: 3, folder: folder.appendingPathComponent("shards"))
    #expect(set.count == 3 && set.shards.count == 3)
    var answers: [String] = []
    for (i, shard) in set.shards.enumerated() {
      let answer = try NeighbourFile(images: images, bank: URL(fileURLWithPath: shard))
      #expect(answer.shard.index == i && answer.rowsPerInput == 1600)
      let path = folder.appendingPathComponent("answer-\(i).npy").path
      try answer.write(to: path)
      answers.append(path)
    }
    let manifest = try ShardSet(bankMeta: folder.appendingPathComponent("shards/manifest.json").path)
    #expect(manifest.threshold == detector.threshold)
    let scores = try manifest.merge(try answers.map { try NeighbourFile.read(path: $0) }, paths: answers)
    #expect(scores.map(\.path) == whole.map(\.path))
    #expect(scores.map(\.score.bitPattern) == whole.map(\.score.bitPattern))
    #expect(scores.map(\.anomalous) == whole.map(\.anomalous))

    // Features extracted once answer every shard alike.
    let features = try ShardFeatures(images: images, bank: URL(fileURLWithPath: set.shards[0]))
    let fromFeatures = try set.shards.map { try features.answer(bank: try BankFile.read(path: $0), bankPath: $0) }
    let viaFeatures = try manifest.merge(fromFeatures, paths: set.shards)
    #expect(viaFeatures.map(\.score.bitPattern) == whole.map(\.score.bitPattern))

    // Refusals: too many shards, and a scorer that does not shard.
    #expect(throws: AnomalyKitError.self) { try ShardSet.split(bank: bank, into: 1_000_000, folder: folder) }
    var gaussian = BankConfiguration.imageDefault
    gaussian.scorer = .gaussian
    gaussian.holdout = 0
    let g = try ImageAnomalyDetector.fit(features: FeatureMatrix(rows: 20, columns: 3, values: (0..<60).map { Float($0 % 7) + Float($0) / 60 }), configuration: gaussian)
    let gURL = folder.appendingPathComponent("g.safetensors")
    try g.save(to: gURL)
    #expect(throws: AnomalyKitError.self) { try ShardSet.split(bank: gURL, into: 2, folder: folder) }
  }
}
