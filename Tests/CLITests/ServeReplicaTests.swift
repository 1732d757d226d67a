import Foundation
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `serve` replicas behind a load balancer: several processes share one
/// memory-mapped bank and score alike; one detector writer adapts while
/// `--read-only` readers refuse observations and reload each generation.
@Suite("CLI: serve replicas", .serialized)
struct ServeReplicaTests {
  typealias Server = ServeCLITests.Server
  static let demo = ServeCLITests.demo

  /// Pages of `file` mapped by `pid` that are also mapped by another
  /// process (`Shared_Clean` in /proc/PID/smaps), in kB.
  static func sharedKilobytes(pid: Int32, file: String) throws -> Int {
    // Read to EOF: /proc files report size 0, so whole-file reads stop short.
    let handle = try #require(FileHandle(forReadingAtPath: "/proc/\(pid)/smaps"))
    defer { try? handle.close() }
    let smaps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    var inFile = false
    var total = 0
    for line in smaps.split(separator: "\n") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      if let first = fields.first, first.contains("-"), fields.count >= 5 {
        inFile = fields.count >= 6 && String(fields[5...].joined(separator: " ")) == file
      } else if inFile, fields.first == "Shared_Clean:", fields.count >= 2 {
        total += Int(fields[1]) ?? 0
      }
    }
    return total
  }

  @Test("two replicas share one mapped bank's pages and score alike")
  func bankReplicas() async throws {
    let dir = try CLIRunner.temporaryFolder()
    let bank = URL(fileURLWithPath: dir + "/bank.safetensors").resolvingSymlinksInPath().path
    let fit = try CLIRunner.run(["fit", "--patches", Self.demo + "/normal", "--coreset", "0.5", "--coreset-method", "random", "--out", bank])
    #expect(fit.status == 0, "\(fit.stderr)")
    let a = try Server(["--bank", bank])
    let b = try Server(["--bank", bank])
    defer {
      _ = a.stop()
      _ = b.stop()
    }
    let image = try Data(contentsOf: URL(fileURLWithPath: Self.demo + "/test/defect_1.png"))
    let fromA = try await ServeCLITests.request(a.base, "/v1/score/image", method: "POST", body: image, contentType: "image/png")
    let fromB = try await ServeCLITests.request(b.base, "/v1/score/image", method: "POST", body: image, contentType: "image/png")
    #expect(fromA.status == 200 && fromB.status == 200)
    #expect(fromA.json["score"] as? Double == fromB.json["score"] as? Double, "\(fromA.json) vs \(fromB.json)")
    // Both processes have the bank mapped, and its pages count as shared.
    for server in [a, b] {
      let shared = try Self.sharedKilobytes(pid: server.process.processIdentifier, file: bank)
      #expect(shared > 0, "pid \(server.process.processIdentifier) maps \(bank) with \(shared) kB shared")
    }
  }

  @Test("one writer adapts, read-only replicas refuse observations and follow its generations")
  func detectorWriterAndReaders() async throws {
    let dir = try CLIRunner.temporaryFolder()
    let detector = dir + "/detector.safetensors"
    let adapt = try CLIRunner.run([
      "adapt", "--descriptions", CLIRunner.repositoryRoot + "/Examples/coldstart/descriptions.json", "--out", detector,
    ])
    #expect(adapt.status == 0, "\(adapt.stderr)")
    let writer = try Server(["--detector", detector, "--persist-every", "2"])
    let readers = [try Server(["--detector", detector, "--read-only"]), try Server(["--detector", detector, "--read-only"])]
    defer {
      _ = writer.stop()
      for r in readers { _ = r.stop() }
    }
    func info(_ s: Server) async throws -> [String: Any] {
      let r = try await ServeCLITests.request(s.base, "/v1/info")
      return r.json["detector"] as? [String: Any] ?? [:]
    }
    func score(_ s: Server) async throws -> [Double] {
      let r = try await ServeCLITests.request(
        s.base, "/v1/score/text", method: "POST", body: try ServeCLITests.jsonBody(["texts": ["my card never arrived", "play some jazz"]]),
        contentType: "application/json")
      return (r.json["results"] as? [[String: Any]] ?? []).compactMap { $0["score"] as? Double }
    }
    #expect(try await info(writer)["role"] as? String == "writer")
    #expect(try await info(readers[0])["role"] as? String == "reader")
    #expect(try await info(readers[0])["generation"] as? Int == 0)
    let before = try await score(readers[1])

    let refused = try await ServeCLITests.request(
      readers[0].base, "/v1/observations", method: "POST", body: try ServeCLITests.jsonBody(["texts": ["hello"]]),
      contentType: "application/json")
    #expect(refused.status == 409 && (refused.json["error"] as? String ?? "").contains("read-only"), "\(refused.json)")

    for batch in [["my card has not arrived", "activate my card"], ["where is my card", "card delivery status"]] {
      let r = try await ServeCLITests.request(
        writer.base, "/v1/observations", method: "POST", body: try ServeCLITests.jsonBody(["texts": batch]), contentType: "application/json")
      #expect(r.status == 200 && r.json["persisted"] as? Bool == true, "\(r.json)")
    }
    #expect(try await info(writer)["generation"] as? Int == 2)
    for reader in readers {
      #expect(try await info(reader)["generation"] as? Int == 2)
      #expect(try await info(reader)["observations"] as? Int == 4)
      #expect(try await score(reader) == (try await score(writer)))
    }
    #expect(try await score(readers[1]) != before, "adapting to four card texts moved no score")
  }
}
