import Foundation
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif
#if canImport(Glibc)
  import Glibc
#endif

/// `anomalykit serve` on loopback: scoring, online adaptation that survives
/// a restart, and the JSON errors for a huge body and a bad image.
@Suite("CLI: serve", .serialized)
struct ServeCLITests {
  static let demo = CLIRunner.repositoryRoot + "/Examples/demo"

  /// A running `anomalykit serve` and its base URL.
  final class Server {
    let process: Process
    let base: String

    init(_ arguments: [String]) throws {
      process = CLIRunner.process(["serve", "--port", "0"] + arguments)
      let out = Pipe()
      process.standardOutput = out
      process.standardError = FileHandle.nullDevice
      try process.run()
      // The first line says where it listens, once the socket is bound.
      var line: [UInt8] = []
      while true {
        let byte = out.fileHandleForReading.readData(ofLength: 1)
        guard let b = byte.first else { break }
        if b == UInt8(ascii: "\n") { break }
        line.append(b)
      }
      let text = String(decoding: line, as: UTF8.self)
      guard text.hasPrefix("listening on ") else {
        process.terminate()
        throw CLIFailure("serve did not start: '\(text)'")
      }
      base = String(text.dropFirst("listening on ".count))
    }

    /// SIGTERM, then wait: the exit status.
    func stop() -> Int32 {
      kill(process.processIdentifier, SIGTERM)
      process.waitUntilExit()
      return process.terminationStatus
    }
  }

  struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
  }

  static func request(
    _ base: String, _ path: String, method: String = "GET", body: Data? = nil, contentType: String? = nil
  ) async throws -> (status: Int, json: [String: Any], raw: Data) {
    var request = URLRequest(url: try #require(URL(string: base + path)))
    request.httpMethod = method
    request.httpBody = body
    request.timeoutInterval = 120
    if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
    let (data, response) = try await URLSession.shared.data(for: request)
    let status = (response as? HTTPURLResponse)?.statusCode ?? -1
    let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    return (status, json, data)
  }

  static func jsonBody(_ object: [String: Any]) throws -> Data { try JSONSerialization.data(withJSONObject: object) }

  @Test("scores an image and texts, adapts to observations, and the adaptation survives a restart")
  func serveRoundTrip() async throws {
    let dir = try CLIRunner.temporaryFolder()
    let bank = dir + "/bank.safetensors"
    let detector = dir + "/detector.safetensors"
    let fit = try CLIRunner.run(["fit", "--patches", Self.demo + "/normal", "--out", bank])
    #expect(fit.status == 0, "\(fit.stderr)")
    let adapt = try CLIRunner.run([
      "adapt", "--descriptions", CLIRunner.repositoryRoot + "/Examples/coldstart/descriptions.json", "--out", detector,
    ])
    #expect(adapt.status == 0, "\(adapt.stderr)")

    let server = try Server(["--bank", bank, "--detector", detector, "--persist-every", "100"])
    let health = try await Self.request(server.base, "/v1/health")
    #expect(health.status == 200 && health.json["status"] as? String == "ok")

    let defect = try Data(contentsOf: URL(fileURLWithPath: Self.demo + "/test/defect_0.png"))
    let scored = try await Self.request(server.base, "/v1/score/image?heatmap=true", method: "POST", body: defect, contentType: "image/png")
    #expect(scored.status == 200, "\(String(decoding: scored.raw, as: UTF8.self))")
    #expect(scored.json["anomalous"] as? Bool == true, "\(scored.json)")
    let png = Data(base64Encoded: scored.json["heatmap_png_base64"] as? String ?? "") ?? Data()
    #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "no PNG heatmap")

    // The same image as a multipart upload scores the same.
    let boundary = "ak-\(UUID().uuidString)"
    var form = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"d.png\"\r\nContent-Type: image/png\r\n\r\n".utf8)
    form += defect + Data("\r\n--\(boundary)--\r\n".utf8)
    let multipart = try await Self.request(
      server.base, "/v1/score/image", method: "POST", body: form, contentType: "multipart/form-data; boundary=\(boundary)")
    #expect(multipart.status == 200)
    #expect(multipart.json["score"] as? Double == scored.json["score"] as? Double, "\(multipart.json) vs \(scored.json)")

    let texts = try await Self.request(
      server.base, "/v1/score/text", method: "POST", body: try Self.jsonBody(["texts": ["where is my new card", "book me a table for two"]]),
      contentType: "application/json")
    #expect(texts.status == 200)
    #expect((texts.json["results"] as? [[String: Any]])?.count == 2, "\(texts.json)")

    let observed = try await Self.request(
      server.base, "/v1/observations", method: "POST",
      body: try Self.jsonBody(["texts": ["my card has not arrived", "how do I activate my card", "what is the weather in Paris"]]),
      contentType: "application/json")
    #expect(observed.status == 200, "\(String(decoding: observed.raw, as: UTF8.self))")
    #expect(observed.json["observations"] as? Int == 3 && observed.json["persisted"] as? Bool == false, "\(observed.json)")

    // Concurrent requests are batched; a corrupt upload among them fails
    // alone, and each request gets its own score.
    let ok = try Data(contentsOf: URL(fileURLWithPath: Self.demo + "/test/ok_0.png"))
    let bodies = [defect, ok, Data("not an image".utf8), defect, ok, defect]
    let base = server.base
    let answers = try await withThrowingTaskGroup(of: (Int, Int, Double?).self) { group in
      for (i, body) in bodies.enumerated() {
        group.addTask {
          let r = try await Self.request(base, "/v1/score/image", method: "POST", body: body, contentType: "image/png")
          return (i, r.status, r.json["score"] as? Double)
        }
      }
      var out: [(Int, Int, Double?)] = []
      for try await answer in group { out.append(answer) }
      return out.sorted { $0.0 < $1.0 }
    }
    #expect(answers.map(\.1) == [200, 200, 400, 200, 200, 200], "\(answers)")
    #expect(answers[0].2 == scored.json["score"] as? Double && answers[3].2 == answers[0].2, "\(answers)")
    #expect(answers[1].2 != nil && answers[1].2 == answers[4].2, "\(answers)")

    // Limits and bad input: JSON errors with the right status.
    let huge = try await Self.request(
      server.base, "/v1/score/image", method: "POST", body: Data(count: 50 << 20), contentType: "image/png")
    #expect(huge.status == 413, "status \(huge.status)")
    #expect(huge.json["status"] as? Int == 413 && (huge.json["error"] as? String ?? "").contains("--max-body-bytes"), "\(String(decoding: huge.raw.prefix(300), as: UTF8.self))")
    let garbage = try await Self.request(
      server.base, "/v1/score/image", method: "POST", body: Data("this is not an image".utf8), contentType: "image/png")
    #expect(garbage.status == 400)
    #expect(garbage.json["status"] as? Int == 400 && (garbage.json["error"] as? String ?? "").contains("the uploaded image: not a PNG or JPEG"), "\(garbage.json)")
    let notJSON = try await Self.request(server.base, "/v1/score/text", method: "POST", body: Data("{nope".utf8), contentType: "application/json")
    #expect(notJSON.status == 400 && notJSON.json["error"] is String)

    // Graceful stop persists the 3 observations (fewer than --persist-every).
    #expect(server.stop() == 0)
    let info = try CLIRunner.run(["info", detector])
    #expect(info.status == 0, "\(info.stderr)")

    let restarted = try Server(["--detector", detector])
    let state = try await Self.request(restarted.base, "/v1/info")
    let detectorInfo = state.json["detector"] as? [String: Any] ?? [:]
    #expect(detectorInfo["observations"] as? Int == 3, "\(state.json)")
    let openapi = try await Self.request(restarted.base, "/v1/openapi.json")
    let paths = (openapi.json["paths"] as? [String: Any]) ?? [:]
    for route in ["/", "/v1/health", "/v1/info", "/v1/openapi.json", "/v1/score/image", "/v1/score/text", "/v1/observations"] {
      #expect(paths[route] != nil, "OpenAPI document lacks \(route)")
    }
    #expect(restarted.stop() == 0)
  }

  /// A GET with its headers (the page is not JSON).
  static func fetch(_ url: String) async throws -> (status: Int, headers: [String: String], body: Data) {
    let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
    let http = try #require(response as? HTTPURLResponse)
    var headers: [String: String] = [:]
    for (k, v) in http.allHeaderFields { headers[String(describing: k).lowercased()] = String(describing: v) }
    return (http.statusCode, headers, data)
  }

  @Test("GET / serves the page and its assets with a self-only CSP; format=png returns the overlay with the numbers in headers")
  func webPageAndPNG() async throws {
    let dir = try CLIRunner.temporaryFolder()
    let patches = dir + "/patches.safetensors"
    let pooled = dir + "/pooled.safetensors"
    #expect(try CLIRunner.run(["fit", "--patches", Self.demo + "/normal", "--out", patches]).status == 0)
    #expect(try CLIRunner.run(["fit", Self.demo + "/normal", "--out", pooled]).status == 0)

    let server = try Server(["--bank", patches])
    var weight = 0
    for (path, type) in [("/", "text/html"), ("/app.js", "text/javascript"), ("/app.css", "text/css")] {
      let page = try await Self.fetch(server.base + path)
      #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix(type) == true, "\(path): \(page.headers)")
      let csp = page.headers["content-security-policy"] ?? ""
      #expect(csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe"), "\(path): \(csp)")
      #expect(page.headers["x-content-type-options"] == "nosniff")
      weight += page.body.count
    }
    #expect(weight < 50_000, "page weight \(weight) bytes")
    let html = String(decoding: try await Self.fetch(server.base + "/").body, as: UTF8.self)
    #expect(html.contains("src=\"/app.js\"") && !html.contains("<script>"), "no inline script")

    let defect = try Data(contentsOf: URL(fileURLWithPath: Self.demo + "/test/defect_0.png"))
    var request = URLRequest(url: try #require(URL(string: server.base + "/v1/score/image?format=png")))
    request.httpMethod = "POST"
    request.httpBody = defect
    request.setValue("image/png", forHTTPHeaderField: "Content-Type")
    let (png, response) = try await URLSession.shared.data(for: request)
    let http = try #require(response as? HTTPURLResponse)
    #expect(http.statusCode == 200 && http.value(forHTTPHeaderField: "Content-Type") == "image/png")
    #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    let json = try await Self.request(server.base, "/v1/score/image", method: "POST", body: defect, contentType: "image/png")
    #expect(Float(http.value(forHTTPHeaderField: "X-AnomalyKit-Score") ?? "") == Float(json.json["score"] as? Double ?? .nan))
    #expect(http.value(forHTTPHeaderField: "X-AnomalyKit-Anomalous") == ((json.json["anomalous"] as? Bool) == true ? "true" : "false"))
    let bad = try await Self.request(server.base, "/v1/score/image?format=gif", method: "POST", body: defect, contentType: "image/png")
    #expect(bad.status == 400 && (bad.json["error"] as? String ?? "").contains("format must be json or png"), "\(bad.json)")
    #expect(server.stop() == 0)

    let imageBank = try Server(["--bank", pooled])
    let refused = try await Self.request(imageBank.base, "/v1/score/image?format=png", method: "POST", body: defect, contentType: "image/png")
    #expect(refused.status == 400 && (refused.json["error"] as? String ?? "").contains("needs a patch bank"), "\(refused.json)")
    #expect(imageBank.stop() == 0)
  }
}
