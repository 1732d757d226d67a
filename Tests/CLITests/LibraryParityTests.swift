import AnomalyKit
import Density
import FeatureExtraction
import Foundation
import OODFront
import TensorFiles
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The command-line tool, the HTTP service and the Swift library make the
/// same files from the same inputs, byte for byte: the defaults live in the
/// library (`BankConfiguration`, `ColdStartConfiguration`,
/// `DeepfakeScreener.Configuration`) and the CLI and service only parse
/// into them.
@Suite("CLI, service and library write identical files", .serialized)
struct LibraryParityTests {
  static let demo = CLIRunner.repositoryRoot + "/Examples/demo"

  static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

  static func normalURLs() throws -> [URL] {
    try FileManager.default.contentsOfDirectory(atPath: demo + "/normal").filter { $0.hasSuffix(".png") }.sorted()
      .map { URL(fileURLWithPath: demo + "/normal/" + $0) }
  }

  @Test(
    "image and patch banks: anomalykit fit == ImageAnomalyDetector.fit",
    arguments: [("image", [String]()), ("patches", ["--patches"])])
  func imageBanks(kind: String, flags: [String]) async throws {
    let dir = try CLIRunner.temporaryFolder()
    let cliBank = dir + "/cli.safetensors"
    let urls = try Self.normalURLs()
    let fit = try CLIRunner.run(["fit"] + flags + urls.map(\.path) + ["--out", cliBank])
    #expect(fit.status == 0, "\(fit.stderr)")

    let configuration: BankConfiguration = kind == "patches" ? .patchDefault : .imageDefault
    let detector = try await ImageAnomalyDetector.fit(
      normal: urls, configuration: configuration, weights: URL(fileURLWithPath: CLIRunner.weights))
    #expect(detector.thresholdCalibration?.fpr == configuration.fpr)
    #expect((detector.pixelThreshold != nil) == (kind == "patches"))
    let libraryBank = dir + "/library.safetensors"
    try detector.save(to: URL(fileURLWithPath: libraryBank))
    #expect(try Self.bytes(cliBank) == Self.bytes(libraryBank), "\(kind): the CLI's and the library's banks differ")

    // Scores agree too: the CLI's JSON against the library's results.
    let test = [Self.demo + "/test/defect_0.png", Self.demo + "/test/ok_0.png"]
    let scored = try CLIRunner.run(["score", "--bank", cliBank, "--json"] + test)
    #expect(scored.status == 0, "\(scored.stderr)")
    let cli = try #require(try JSONSerialization.jsonObject(with: Data(scored.stdout.utf8)) as? [[String: Any]])
    let loaded = try ImageAnomalyDetector.load(from: URL(fileURLWithPath: libraryBank))
    let library = try await loaded.score(test.map { URL(fileURLWithPath: $0) })
    #expect(cli.count == library.count)
    for (c, l) in zip(cli, library) {
      #expect(Float(c["score"] as? Double ?? .nan) == l.score, "\(c) vs \(l.score)")
      #expect(c["anomalous"] as? Bool == l.anomalous)
    }
  }

  @Test("external features: anomalykit fit --from-npy == ImageAnomalyDetector.fit(features:)")
  func externalFeatures() throws {
    let dir = try CLIRunner.temporaryFolder()
    // Deterministic, irregular values in [-1, 1].
    let values: [Float] = (0..<(40 * 16)).map { Float(sin(Double($0) * 12.9898 + 78.233)) }
    let npy = dir + "/features.npy"
    try NPYFile.write(rows: 40, columns: 16, values: values, to: npy)
    let cliBank = dir + "/cli.safetensors"
    let fit = try CLIRunner.run(["fit", "--from-npy", npy, "--out", cliBank])
    #expect(fit.status == 0, "\(fit.stderr)")
    let detector = try ImageAnomalyDetector.fit(
      features: FeatureMatrix(rows: 40, columns: 16, values: values), options: FitOptions(metadata: ["source_features": npy]))
    let libraryBank = dir + "/library.safetensors"
    try detector.save(to: URL(fileURLWithPath: libraryBank))
    #expect(try Self.bytes(cliBank) == Self.bytes(libraryBank))
  }

  @Test("cold start: adapt == serve's /v1/observations == ColdStartTextDetector.observe")
  func coldStart() async throws {
    let dir = try CLIRunner.temporaryFolder()
    let names = "card_activation,exchange_rate,lost_or_stolen_card"
    let observations = [
      "my card has not arrived yet", "how do I activate my new card", "what rate do you use for euros",
      "someone stole my wallet with my card", "what is the weather in Paris", "activate card please",
    ]
    let obsFile = dir + "/observations.txt"
    try (observations.joined(separator: "\n") + "\n").write(toFile: obsFile, atomically: true, encoding: .utf8)

    let cli = dir + "/cli.safetensors"
    let adapt = try CLIRunner.run(["adapt", "--class-names", names, "--observations", obsFile, "--out", cli])
    #expect(adapt.status == 0, "\(adapt.stderr)")

    var library = try ColdStartTextDetector(
      classNames: names.split(separator: ",").map(String.init),
      embedder: try TextEmbedder.bundled(weights: CLIRunner.repositoryRoot + "/Weights/all-minilm-l6-v2.safetensors"))
    try await library.observe(observations)
    let libraryFile = dir + "/library.safetensors"
    try library.save(to: URL(fileURLWithPath: libraryFile))
    #expect(try Self.bytes(cli) == Self.bytes(libraryFile), "the CLI's and the library's detectors differ")

    // The service adapts a fresh detector online and persists it on stop.
    let served = dir + "/served.safetensors"
    let fresh = try CLIRunner.run(["adapt", "--class-names", names, "--out", served])
    #expect(fresh.status == 0, "\(fresh.stderr)")
    let server = try ServeCLITests.Server(["--detector", served, "--persist-every", "1000"])
    let observed = try await ServeCLITests.request(
      server.base, "/v1/observations", method: "POST", body: try ServeCLITests.jsonBody(["texts": observations]),
      contentType: "application/json")
    #expect(observed.status == 200, "\(String(decoding: observed.raw, as: UTF8.self))")
    #expect(server.stop() == 0)
    // The service stamps each write's generation (for read-only replicas);
    // everything else is the CLI's detector, tensor for tensor.
    let servedFile = try SafeTensorsFile(path: served)
    let cliFile = try SafeTensorsFile(path: cli)
    #expect(servedFile.metadata["generation"] == "1")
    #expect(servedFile.metadata.filter { $0.key != "generation" } == cliFile.metadata, "the service's and the CLI's metadata differ")
    #expect(servedFile.names == cliFile.names)
    for name in cliFile.names {
      #expect(try servedFile.floats(name).map(\.bitPattern) == cliFile.floats(name).map(\.bitPattern), "\(name) differs")
    }

    // Scores through the library match `score --detector --json`.
    let query = ["how do I activate my card", "tell me a joke"]
    let scored = try CLIRunner.run(["score", "--detector", cli, "--json"] + query)
    #expect(scored.status == 0, "\(scored.stderr)")
    let rows = try #require(try JSONSerialization.jsonObject(with: Data(scored.stdout.utf8)) as? [[String: Any]])
    let mine = try await library.score(query)
    for (r, m) in zip(rows, mine) {
      #expect(Float(r["score"] as? Double ?? .nan) == m.score && r["class"] as? String == m.nearestClass, "\(r) vs \(m)")
    }
  }

  @Test("image cold start: adapt --imagenet-classes == ColdStartImageDetector.observe")
  func imageColdStart() async throws {
    let dir = try CLIRunner.temporaryFolder()
    let urls = try Self.normalURLs()
    let cli = dir + "/cli.safetensors"
    let adapt = try CLIRunner.run(
      ["adapt", "--imagenet-classes", "stone wall,825", "--observations"] + urls.map(\.path) + ["--out", cli, "--resize", "stretch"])
    #expect(adapt.status == 0, "\(adapt.stderr)")
    var library = try ColdStartImageDetector(
      classes: ["stone wall", "825"], backbone: try EfficientNetLite(path: CLIRunner.weights), resize: .stretch)
    try await library.observe(urls)
    let libraryFile = dir + "/library.safetensors"
    try library.save(to: URL(fileURLWithPath: libraryFile))
    #expect(try Self.bytes(cli) == Self.bytes(libraryFile))
    let reloaded = try ColdStartImageDetector.load(from: URL(fileURLWithPath: libraryFile), weights: URL(fileURLWithPath: CLIRunner.weights))
    let scores = try await reloaded.score([URL(fileURLWithPath: Self.demo + "/test/defect_0.png")])
    #expect(scores.count == 1 && scores[0].score.isFinite)
    #expect(throws: AnomalyKitError.self) { try ColdStartImageDetector(classes: ["unicorn"], backbone: try EfficientNetLite(path: CLIRunner.weights)) }
  }

  @Test("deepfake screening: anomalykit deepfake fit == DeepfakeScreener.fit")
  func deepfake() async throws {
    let dir = try CLIRunner.temporaryFolder()
    let urls = try Self.normalURLs()
    let cli = dir + "/cli.safetensors"
    let fit = try CLIRunner.run(["deepfake", "fit"] + urls.map(\.path) + ["--out", cli])
    #expect(fit.status == 0, "\(fit.stderr)")
    let screener = try await DeepfakeScreener.fit(
      real: urls, configuration: DeepfakeScreener.Configuration(backboneWeights: URL(fileURLWithPath: CLIRunner.weights)))
    let libraryFile = dir + "/library.safetensors"
    try screener.save(to: URL(fileURLWithPath: libraryFile))
    #expect(try Self.bytes(cli) == Self.bytes(libraryFile))

    let test = [Self.demo + "/test/defect_0.png"]
    let scored = try CLIRunner.run(["deepfake", "score", "--bank", cli, "--json"] + test)
    let rows = try #require(try JSONSerialization.jsonObject(with: Data(scored.stdout.utf8)) as? [[String: Any]])
    let mine = try await DeepfakeScreener.load(from: URL(fileURLWithPath: cli)).score(test.map { URL(fileURLWithPath: $0) })
    #expect(rows.first?["score"] as? Double == mine.first?.fused && rows.first?["generated"] as? Bool == mine.first?.isGenerated)
  }

  @Test("identity: anomalykit identity fit == IdentityVerifier.fit, and checks agree")
  func identity() async throws {
    let dir = try CLIRunner.temporaryFolder()
    let photos = ["scene_a.png", "scene_b.png"].map { URL(fileURLWithPath: CLIRunner.fixture("faces/" + $0)) }
    let cli = dir + "/cli.safetensors"
    let fit = try CLIRunner.run(["identity", "fit", "--name", "P"] + photos.map(\.path) + ["--out", cli])
    #expect(fit.status == 0, "\(fit.stderr)")
    let verifier = try await IdentityVerifier.fit(name: "P", references: photos)
    let libraryFile = dir + "/library.safetensors"
    try verifier.save(to: URL(fileURLWithPath: libraryFile))
    #expect(try Self.bytes(cli) == Self.bytes(libraryFile))

    let checked = try CLIRunner.run(["identity", "check", "--bank", cli, "--json", photos[1].path])
    #expect(checked.status == 0, "\(checked.stderr)")
    let rows = try #require(try JSONSerialization.jsonObject(with: Data(checked.stdout.utf8)) as? [[String: Any]])
    let mine = try await IdentityVerifier.load(from: URL(fileURLWithPath: libraryFile)).check([photos[1]])
    #expect(rows.count == 1 && mine.count == 1)
    #expect(Float(rows[0]["truth"] as? Double ?? .nan) == mine[0].truth && rows[0]["supports"] as? Bool == mine[0].supportsClaim, "\(rows) vs \(mine)")
  }
}
