import Density
import Foundation
import TensorFiles
import Testing

/// Writing, reading, growing and checking bank files.
///
/// Set `ANOMALYKIT_BANK_OUTPUT` to a folder to keep a copy of each written
/// bank there, then check them with Python's `safetensors`:
/// `make_density_fixtures.py --check-bank FOLDER/*.safetensors` (see
/// Tests/Fixtures/density/README.md).
@Suite struct BankFileTests {
  static let provenance = [
    "backbone": "efficientnet-lite0", "weights_sha256": String(repeating: "ab", count: 32), "layer": "blocks.5",
    "resize": "stretch",
  ]

  /// The scorer fixture bank, or for `gaussian` the n > D one (24-D with 80
  /// rows is fine too, but this exercises a second shape).
  static func data(_ scorer: ScorerKind) throws -> (bank: FeatureMatrix, queries: FeatureMatrix) {
    let f = try DensityFixture.open()
    let prefix = scorer == .gaussian ? "gauss_large" : "scorer"
    return (try DensityFixture.matrix(f, "\(prefix).bank"), try DensityFixture.matrix(f, "\(prefix).queries"))
  }

  @Test(arguments: ScorerKind.allCases) func roundTrip(_ scorer: ScorerKind) throws {
    let folder = try DensityTemporaryFolder()
    let (features, queries) = try Self.data(scorer)
    var bank = try ReferenceBank(fitting: features, scorer: scorer, k: 3, metadata: Self.provenance)
    bank.threshold = 1.2345678
    let path = folder.file("bank.safetensors")
    try BankFile.write(bank, to: path, toolkitVersion: "0.0.0-test")
    if let keep = ProcessInfo.processInfo.environment["ANOMALYKIT_BANK_OUTPUT"], !keep.isEmpty {
      let copy = keep + "/bank-\(scorer.rawValue).safetensors"
      try? FileManager.default.removeItem(atPath: copy)
      try FileManager.default.copyItem(atPath: path, toPath: copy)
    }

    let loaded = try BankFile.read(path: path)
    #expect(loaded.scorer == scorer)
    #expect(loaded.k == 3)
    #expect(loaded.count == features.rows && loaded.dimension == features.columns)
    #expect(loaded.threshold == 1.2345678)
    for (key, value) in Self.provenance { #expect(loaded.metadata[key] == value, "metadata \(key)") }
    #expect(loaded.metadata["toolkit_version"] == "0.0.0-test")
    #expect(loaded.metadata["scorer"] == scorer.rawValue)
    #expect(loaded.metadata["normalization"] == (scorer.normalizes ? "l2" : "none"))
    #expect(loaded.center == bank.center)
    #expect(loaded.features == bank.features)
    if scorer == .gaussian {
      let a = try #require(bank.gaussian)
      let b = try #require(loaded.gaussian)
      #expect(a.mean == b.mean && a.cholesky == b.cholesky && a.shrinkage == b.shrinkage)
    }
    // Scores are bitwise identical before and after.
    let before = try bank.score(queries)
    let after = try loaded.score(queries)
    #expect(before == after)
    // Writing the loaded (mapped) bank again gives the same bytes' worth.
    let again = folder.file("again.safetensors")
    try BankFile.write(loaded, to: again, toolkitVersion: "0.0.0-test")
    #expect(try BankFile.read(path: again).score(queries) == before)

    // The features are memory-mapped, not copied: a change written into the
    // file in place shows through the loaded bank. (The map is PROT_READ,
    // MAP_PRIVATE and never written, so it shares the page cache; banks are
    // only ever replaced by rename in real use.)
    let offset = try Self.featuresOffset(path)
    let marker: Float = 12345.5
    let handle = try #require(FileHandle(forUpdatingAtPath: path))
    try handle.seek(toOffset: UInt64(offset))
    try handle.write(contentsOf: withUnsafeBytes(of: marker.bitPattern.littleEndian) { Data($0) })
    try handle.close()
    #expect(loaded.features.values[0] == marker, "a loaded bank's features must stay memory-mapped")
    #expect(bank.features.values[0] != marker)
  }

  /// Byte offset of the `features` tensor in a safetensors file.
  static func featuresOffset(_ path: String) throws -> Int {
    let file = try SafeTensorsFile(path: path)
    let info = try file.info("features")
    let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)).prefix(8))
    let headerLength = (0..<8).reduce(0) { $0 | (Int(bytes[$1]) << (8 * $1)) }
    return 8 + headerLength + info.dataOffsets.lowerBound
  }

  /// The written bytes are a valid safetensors file with the documented
  /// layout (the Python side is checked by `--check-bank`).
  @Test(arguments: ScorerKind.allCases) func writtenLayout(_ scorer: ScorerKind) throws {
    let folder = try DensityTemporaryFolder()
    let (features, _) = try Self.data(scorer)
    let bank = try ReferenceBank(fitting: features, scorer: scorer, metadata: Self.provenance)
    let path = folder.file("bank.safetensors")
    try BankFile.write(bank, to: path, toolkitVersion: "9.9")
    let file = try SafeTensorsFile(path: path)
    #expect(file.metadata["format"] == "bank")
    #expect(file.metadata["format_version"] == BankFile.formatVersion)
    #expect(file.metadata["k"] == "2")
    #expect(file.metadata["count"] == String(features.rows))
    #expect(file.metadata["dimension"] == String(features.columns))
    #expect(file.metadata["threshold"] == nil)
    let info = try file.info("features")
    #expect(info.dtype == .f32 && info.shape == [features.rows, features.columns])
    #expect(try file.floats("features") == bank.features.values)
    var expectedNames: Set<String> = ["features"]
    if scorer.normalizes {
      expectedNames.insert("center")
      #expect(try file.floats("center", shape: [features.columns]) == bank.center)
    }
    if scorer == .gaussian {
      expectedNames.formUnion(["gaussian.mean", "gaussian.cholesky"])
      let d = features.columns
      #expect(try file.info("gaussian.mean").dtype == .f64)
      #expect(try file.doubles("gaussian.mean", shape: [d]) == bank.gaussian?.mean)
      #expect(try file.doubles("gaussian.cholesky", shape: [d, d]) == bank.gaussian?.cholesky)
      #expect(file.metadata["gaussian_shrinkage"].flatMap(Double.init) == bank.gaussian?.shrinkage)
    }
    #expect(Set(file.tensors.keys) == expectedNames)
    // The data section starts 8-byte aligned, so F32 features map in place.
    let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
    let headerLength = (0..<8).reduce(0) { $0 | (Int(bytes[$1]) << (8 * $1)) }
    #expect((8 + headerLength) % 8 == 0)
  }

  /// `adding` rows equals fitting on the concatenation.
  @Test(arguments: ScorerKind.allCases) func addingEqualsRefitting(_ scorer: ScorerKind) throws {
    let folder = try DensityTemporaryFolder()
    let (features, queries) = try Self.data(scorer)
    let split = features.rows * 5 / 8
    let first = features.selecting(Array(0..<split))
    let rest = features.selecting(Array(split..<features.rows))
    var partial = try ReferenceBank(fitting: first, scorer: scorer, metadata: Self.provenance)
    partial.threshold = 3.5
    let grown = try partial.adding(rest)
    let full = try ReferenceBank(fitting: features, scorer: scorer)
    #expect(grown.count == features.rows)
    #expect(grown.threshold == 3.5)
    #expect(grown.metadata["backbone"] == "efficientnet-lite0")
    #expect(grown.features == full.features)
    #expect(try grown.score(queries) == full.score(queries))
    // The same from a loaded (memory-mapped) bank.
    let path = folder.file("partial.safetensors")
    try BankFile.write(partial, to: path, toolkitVersion: "t")
    let grownFromFile = try BankFile.read(path: path).adding(rest)
    #expect(try grownFromFile.score(queries) == full.score(queries))
    try BankFile.write(grownFromFile, to: path, toolkitVersion: "t")
    let reread = try BankFile.read(path: path)
    #expect(reread.count == features.rows)
    #expect(reread.metadata["count"] == String(features.rows))
    #expect(try reread.score(queries) == full.score(queries))
  }

  @Test func checkCompatibleNamesKeyAndPath() throws {
    let (features, _) = try Self.data(.knn)
    let bank = try ReferenceBank(fitting: features, scorer: .knn, metadata: Self.provenance)
    let path = "/banks/screws.safetensors"
    // Matching values, and keys the bank lacks, pass.
    try BankFile.checkCompatible(bank, path: path, expected: Self.provenance, dimension: features.columns)
    try BankFile.checkCompatible(bank, path: path, expected: ["patch_stride": "4"], dimension: nil)

    let otherSHA = String(repeating: "cd", count: 32)
    let cases: [([String: String], Int?, DensityError)] = [
      (
        ["weights_sha256": otherSHA], nil,
        .incompatibleBank(path: path, key: "weights_sha256", bank: Self.provenance["weights_sha256"]!, current: otherSHA)
      ),
      (
        ["backbone": "resnet18", "layer": "blocks.5"], features.columns,
        .incompatibleBank(path: path, key: "backbone", bank: "efficientnet-lite0", current: "resnet18")
      ),
      (
        [:], features.columns + 1,
        .incompatibleBank(path: path, key: "dimension", bank: String(features.columns), current: String(features.columns + 1))
      ),
    ]
    for (expected, dimension, error) in cases {
      let thrown = densityError { try BankFile.checkCompatible(bank, path: path, expected: expected, dimension: dimension) }
      #expect(thrown == error)
      if case .incompatibleBank(_, let key, _, _) = error, let thrown {
        #expect(thrown.description.contains(path) && thrown.description.contains(key), "\(thrown)")
      }
    }
  }

  /// Files that are not banks are refused with `.invalidBank`.
  @Test func invalidFilesAreRefused() throws {
    let folder = try DensityTemporaryFolder()
    let features = (0..<12).map { Float($0) }
    func make(_ name: String, metadata: [String: String], dtype: TensorDType = .f32, shape: [Int] = [3, 4]) throws -> String {
      var writer = SafeTensorsWriter(metadata: metadata)
      if dtype == .f64 {
        try writer.add("features", doubles: features.map(Double.init), shape: shape)
      } else {
        try writer.add("features", floats: features, shape: shape)
      }
      let path = folder.file(name)
      try writer.write(to: path)
      return path
    }
    let good = ["format": "bank", "format_version": "1", "scorer": "knn", "k": "2"]
    #expect(try BankFile.read(path: make("good.safetensors", metadata: good)).count == 3)

    var invalid: [(String, [String: String], TensorDType, [Int], String)] = [
      ("weights.safetensors", ["format": "weights", "backbone": "efficientnet-lite0"], .f32, [3, 4], "weights"),
      ("nometa.safetensors", [:], .f32, [3, 4], "format"),
      ("version.safetensors", good.merging(["format_version": "2"]) { $1 }, .f32, [3, 4], "format_version"),
      ("scorer.safetensors", good.merging(["scorer": "isolation-forest"]) { $1 }, .f32, [3, 4], "isolation-forest"),
      ("k.safetensors", good.merging(["k": "0"]) { $1 }, .f32, [3, 4], "'k'"),
      ("f64.safetensors", good, .f64, [3, 4], "F64"),
      ("flat.safetensors", good, .f32, [12], "[12]"),
      ("threshold.safetensors", good.merging(["threshold": "nan"]) { $1 }, .f32, [3, 4], "threshold"),
    ]
    invalid.append(("nokeys.safetensors", ["format": "bank", "format_version": "1", "scorer": "gaussianx"], .f32, [3, 4], "scorer"))
    for (name, metadata, dtype, shape, mention) in invalid {
      let path = try make(name, metadata: metadata, dtype: dtype, shape: shape)
      let error = densityError { try BankFile.read(path: path) }
      guard case .invalidBank(let p, let reason) = error else {
        Issue.record("\(name): expected .invalidBank, got \(String(describing: error))")
        continue
      }
      #expect(p == path)
      #expect(reason.contains(mention), "\(name): \(reason)")
    }
    // k larger than the stored bank.
    let big = try make("bigk.safetensors", metadata: good.merging(["k": "5"]) { $1 })
    #expect(throws: DensityError.invalidBank(path: big, reason: "metadata 'k' is 5, larger than the bank's 3 features (expected 1…3)")) {
      try BankFile.read(path: big)
    }
  }
}
