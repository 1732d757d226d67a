import AnomalyKit
import Density
import FeatureExtraction
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TensorFiles

/// `anomalykit serve`: scores images against a reference bank and texts or
/// images against a cold-start detector over HTTP, and adapts the detector
/// to unlabelled observations while it runs.
///
/// Routes (documented in `OpenAPIDocument`, served at `GET /v1/openapi.json`):
/// - `GET /v1/health`, `GET /v1/info`
/// - `POST /v1/score/image`: raw image bytes or `multipart/form-data`;
///   `?heatmap=true` adds a base64 PNG heatmap (patch banks)
/// - `POST /v1/score/text`: `{"text": …}` or `{"texts": […]}`
/// - `POST /v1/observations`: `{"texts": […]}` (text detector) or raw image
///   bytes (image detector); the detector adapts, and is persisted every
///   `persistEvery` observations and on shutdown
///
/// Replicas: any number of processes may serve one bank (it is memory-mapped
/// read-only, so they share its pages). For a detector, one writer adapts
/// and persists; `readOnly` replicas refuse observations and reload the file
/// when the writer replaces it (`DetectorStore`); `/v1/info` gives each
/// one's `role` and `generation`.
///
/// SIGTERM or SIGINT stop accepting connections, let in-flight requests
/// finish (Hummingbird's graceful shutdown), then persist the detector.
///
/// Limits (`ServiceConfiguration`): bodies over `maxBodyBytes` get 413;
/// requests queue for one scoring job at a time (batched), and get 503 past
/// `maxQueuedJobs` waiting or `requestTimeoutSeconds` of waiting; a
/// connection idle for `requestTimeoutSeconds` is closed.
public struct AnomalyService: Sendable {
  let bank: BankModel?
  let detector: DetectorModel?
  let configuration: ServiceConfiguration
  let store: DetectorStore?
  let jobs: JobQueue
  /// Embeds the texts of concurrent requests together (text detectors):
  /// one row per text.
  let texts: RequestBatcher<String, [Float]>?
  /// Scores the images of concurrent requests together (banks).
  let images: RequestBatcher<String, ImageScore>?
  /// Where uploaded images are staged for the file-based pipeline.
  let uploads: String

  public init(bank: BankModel?, detector: DetectorModel?, configuration: ServiceConfiguration) throws {
    self.bank = bank
    self.detector = detector
    self.configuration = configuration
    store = detector.map { DetectorStore($0, persistEvery: configuration.persistEvery, readOnly: configuration.readOnly) }
    let wait = Duration.milliseconds(Int(configuration.requestTimeoutSeconds * 1000))
    jobs = JobQueue(limit: configuration.maxConcurrentJobs, maxQueued: configuration.maxQueuedJobs, timeout: wait)
    if case .text(let embedder)? = detector?.encoder {
      texts = RequestBatcher(jobs: jobs, maxBatch: 256, maxQueued: configuration.maxQueuedJobs, timeout: wait) { batch in
        let rows = embedder.embed(batch.enumerated().map { TextRecord(text: $0.element, origin: "text \($0.offset)") })
        return (0..<rows.rows).map { Array(rows[row: $0]) }
      }
    } else {
      texts = nil
    }
    if let bank {
      // Maps are kept for heatmaps; a batch holds at most 32 images' worth.
      images = RequestBatcher(jobs: jobs, maxBatch: bank.pipeline.extractor.batchSize, maxQueued: configuration.maxQueuedJobs, timeout: wait) { paths in
        try bank.pipeline.score(paths, bank: bank.bank, keepMaps: bank.pipeline.recipe.isPatchBank)
      }
    } else {
      images = nil
    }
    uploads = FileManager.default.temporaryDirectory.appendingPathComponent("anomalykit-serve-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: uploads, withIntermediateDirectories: true)
  }

  /// Serves until SIGTERM/SIGINT, then persists the detector.
  /// - Parameter onListening: called with the bound host and port (the
  ///   real port when `port` is 0).
  public func run(onListening: @escaping @Sendable (String, Int) -> Void) async throws {
    defer { try? FileManager.default.removeItem(atPath: uploads) }
    let host = configuration.host
    let app = Application(
      router: router(),
      // A connection idle (a stalled upload, a forgotten keep-alive) for the
      // request timeout is closed, so slow clients cannot pin connections.
      server: .http1(configuration: .init(idleTimeout: .milliseconds(Int64(configuration.requestTimeoutSeconds * 1000)))),
      configuration: .init(address: .hostname(host, port: configuration.port), serverName: "anomalykit"),
      onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? 0) },
      logger: {
        var logger = Logger(label: "anomalykit")
        logger.logLevel = .warning
        return logger
      }())
    try await app.runService()
    try await store?.persist()
  }

  func router() -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: JSONErrorMiddleware())
    router.get("/v1/health") { _, _ in ServiceResponse.json(.object([("status", .string("ok"))])) }
    router.get("/v1/info") { _, _ in try await info() }
    router.get("/v1/openapi.json") { _, _ in
      var headers = HTTPFields()
      headers[.contentType] = "application/json"
      return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
    }
    for path in WebPage.files.keys {
      router.get(RouterPath(path)) { _, _ in WebPage.response(path) }
    }
    router.post("/v1/score/image") { request, context in try await scoreImage(request, context: context) }
    router.post("/v1/score/text") { request, context in try await scoreText(request, context: context) }
    router.post("/v1/observations") { request, context in try await observe(request, context: context) }
    return router
  }

  // MARK: - Handlers

  func info() async throws -> Response {
    var members: [(String, JSONValue)] = []
    if let bank {
      members.append(
        ("bank", .object([
          ("path", .string(bank.path)), ("count", .number(Double(bank.bank.count))), ("dimension", .number(Double(bank.bank.dimension))),
          ("threshold", bank.bank.threshold.map { .number(Double($0)) } ?? .null),
          ("metadata", Self.object(bank.bank.metadata)),
        ])))
    }
    if let store, let detector {
      let current = await store.current()
      members.append(
        ("detector", .object([
          ("path", .string(detector.path)), ("modality", .string(detector.encoder.modality)),
          ("role", .string(store.readOnly ? "reader" : "writer")), ("generation", .number(Double(await store.generation))),
          ("classes", .number(Double(current.classNames.count))), ("observations", .number(Double(current.observations.rows))),
          ("threshold", current.threshold.map { .number(Double($0)) } ?? .null), ("rule", .string(current.rule.rawValue)),
          ("metadata", Self.object(current.metadata)),
        ])))
    }
    return ServiceResponse.json(.object(members))
  }

  func scoreImage(_ request: Request, context: BasicRequestContext) async throws -> Response {
    let bytes = try await imageBytes(request)
    let format = request.uri.queryParameters.get("format") ?? "json"
    guard format == "json" || format == "png" else { throw ServiceInputError("format must be json or png, found '\(format)'") }
    let wantsPNG = format == "png"
    let wantsHeatmap = wantsPNG || (request.uri.queryParameters.get("heatmap").map { $0 == "true" || $0 == "1" } ?? false)
    if let bank, let images {
      let (score, png) = try await withUpload(bytes) { file in
        let score = try await images.run([file])[0]
        let png = try await jobs.run { () throws -> [UInt8]? in
          guard wantsHeatmap, let map = score.map else { return nil }
          let image = try ImageDecoder.decode(path: file, limits: bank.pipeline.extractor.limits)
          let dense = Heatmap.upsample(map, gridHeight: score.gridHeight, gridWidth: score.gridWidth, width: image.width, height: image.height)
          let range = HeatmapScale.range(map, threshold: bank.bank.threshold)
          var overlay = Heatmap.overlay(image, map: dense, range: range)
          // The PNG stands alone: its colour bar and score are drawn on.
          if wantsPNG { overlay = HeatmapLegend.annotate(overlay, range: range, score: score.score) }
          return try ImageEncoder.pngBytes(overlay)
        }
        return (score, png)
      }
      if wantsHeatmap && png == nil {
        throw ServiceInputError("\(wantsPNG ? "format=png" : "heatmap=true") needs a patch bank (fit with --patches); this bank has one score per image")
      }
      if wantsPNG, let png {
        var headers = HTTPFields()
        headers[.contentType] = "image/png"
        headers[Self.scoreHeader] = "\(score.score)"
        headers[Self.anomalousHeader] = score.anomalous.map { $0 ? "true" : "false" } ?? "null"
        headers[Self.thresholdHeader] = bank.bank.threshold.map { "\($0)" } ?? "null"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: png)))
      }
      var members: [(String, JSONValue)] = [
        ("score", .number(Double(score.score))), ("anomalous", score.anomalous.map { .bool($0) } ?? .null),
        ("threshold", bank.bank.threshold.map { .number(Double($0)) } ?? .null),
      ]
      if let png { members.append(("heatmap_png_base64", .string(Data(png).base64EncodedString()))) }
      return ServiceResponse.json(.object(members))
    }
    if wantsPNG { throw ServiceInputError("format=png needs a patch bank (--bank); an image detector scores without maps") }
    guard let detector, let store, case .image(let pipeline) = detector.encoder else {
      throw HTTPError(.notFound, message: "no image model: start the service with --bank BANK or an image --detector")
    }
    return try await detectorScores(try await imageRows(bytes, pipeline), labels: nil, store: store)
  }

  func scoreText(_ request: Request, context: BasicRequestContext) async throws -> Response {
    guard let store, let batcher = self.texts else {
      throw HTTPError(.notFound, message: "no text model: start the service with a text --detector")
    }
    let texts = try await Self.texts(request, maxBytes: configuration.maxBodyBytes, maxTextBytes: configuration.maxTextBytes)
    return try await detectorScores(try await Self.embed(texts, with: batcher), labels: texts, store: store)
  }

  func observe(_ request: Request, context: BasicRequestContext) async throws -> Response {
    guard let detector, let store else {
      throw HTTPError(.notFound, message: "no detector: start the service with --detector DETECTOR to adapt online")
    }
    guard !store.readOnly else {
      throw HTTPError(
        .conflict,
        message: "this replica is read-only (serve --read-only): it reloads the detector file when the writer replaces it; send observations to the writer")
    }
    let rows: FeatureMatrix
    let count: Int
    switch detector.encoder {
    case .text:
      let texts = try await Self.texts(request, maxBytes: configuration.maxBodyBytes, maxTextBytes: configuration.maxTextBytes)
      guard let batcher = self.texts else { throw HTTPError(.internalServerError, message: "text detector without a text encoder") }
      rows = try await Self.embed(texts, with: batcher)
      count = texts.count
    case .image(let pipeline):
      rows = try await imageRows(try await imageBytes(request), pipeline)
      count = 1
    }
    let (total, persisted) = try await store.adapt(rows, source: "POST /v1/observations")
    let threshold = await store.detector.threshold
    return ServiceResponse.json(
      .object([
        ("accepted", .number(Double(count))), ("observations", .number(Double(total))), ("persisted", .bool(persisted)),
        ("threshold", threshold.map { .number(Double($0)) } ?? .null),
      ]))
  }

  // MARK: - Helpers

  /// Headers of `POST /v1/score/image?format=png`: the numbers beside the PNG.
  static let scoreHeader = HTTPField.Name("X-AnomalyKit-Score")!
  static let anomalousHeader = HTTPField.Name("X-AnomalyKit-Anomalous")!
  static let thresholdHeader = HTTPField.Name("X-AnomalyKit-Threshold")!

  func detectorScores(_ rows: FeatureMatrix, labels: [String]?, store: DetectorStore) async throws -> Response {
    let current = await store.current()
    let nearest = try current.nearest(rows)
    let results: [JSONValue] = nearest.distances.indices.map { i in
      var members: [(String, JSONValue)] = []
      if let labels { members.append(("text", .string(labels[i]))) }
      members += [
        ("score", .number(Double(nearest.distances[i]))),
        ("anomalous", current.threshold.map { .bool(nearest.distances[i] > $0) } ?? .null),
        ("class", .string(current.classNames[nearest.indices[i]])),
      ]
      return .object(members)
    }
    return ServiceResponse.json(.object([("results", .array(results))]))
  }

  /// The image in a request: the raw body, or the file of a multipart form.
  func imageBytes(_ request: Request) async throws -> [UInt8] {
    let body = try await Self.collect(request, maxBytes: configuration.maxBodyBytes)
    guard !body.isEmpty else { throw ServiceInputError("empty body: send the image bytes, or a multipart/form-data upload") }
    if let type = request.headers[.contentType], let boundary = MultipartBody.boundary(contentType: type) {
      guard let file = MultipartBody.firstFile(body, boundary: boundary), !file.isEmpty else {
        throw ServiceInputError("multipart body holds no file part")
      }
      return file
    }
    return body
  }

  /// The request body, refused with 413 past `maxBytes`.
  static func collect(_ request: Request, maxBytes: Int) async throws -> [UInt8] {
    do {
      return Array(try await request.body.collect(upTo: maxBytes).readableBytesView)
    } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
      throw HTTPError(.contentTooLarge, message: "request body is larger than the limit of \(maxBytes) bytes (--max-body-bytes)")
    }
  }

  /// Stages an upload in the service's private folder, so the file-based
  /// pipeline (decoding limits, harmonisation, crop) applies unchanged, runs
  /// `body` on it and removes it. Errors name "the uploaded image" instead
  /// of the private staging path.
  func withUpload<T>(_ bytes: [UInt8], _ body: (String) async throws -> T) async throws -> T {
    let file = uploads + "/" + UUID().uuidString
    try AtomicFile.write(bytes, to: file)
    defer { try? FileManager.default.removeItem(atPath: file) }
    do {
      return try await body(file)
    } catch let error as HTTPError {
      throw error
    } catch {
      throw ServiceInputError(String(describing: error).replacingOccurrences(of: file, with: "the uploaded image"))
    }
  }

  /// The pooled feature row of an uploaded image (image detectors).
  func imageRows(_ bytes: [UInt8], _ pipeline: ImageBankPipeline) async throws -> FeatureMatrix {
    try await withUpload(bytes) { file in try await jobs.run { try pipeline.features([file]) } }
  }

  /// The rows of `texts`, embedded in a batch with concurrent requests.
  static func embed(_ texts: [String], with batcher: RequestBatcher<String, [Float]>) async throws -> FeatureMatrix {
    let rows = try await batcher.run(texts)
    return FeatureMatrix(rows: rows.count, columns: rows.first?.count ?? 0, values: rows.flatMap { $0 })
  }

  /// `{"text": "…"}` or `{"texts": ["…", …]}`.
  static func texts(_ request: Request, maxBytes: Int, maxTextBytes limit: Int) async throws -> [String] {
    let body = try await collect(request, maxBytes: maxBytes)
    let value: JSONValue
    do {
      value = try JSONValue.parse(body)
    } catch {
      throw ServiceInputError("request body is not valid JSON (\(error)); expected {\"text\": \"…\"} or {\"texts\": [\"…\"]}")
    }
    var texts: [String]
    if let one = value["text"]?.stringValue {
      texts = [one]
    } else if case .array(let items)? = value["texts"] {
      texts = try items.enumerated().map { i, item in
        guard let s = item.stringValue else { throw ServiceInputError("texts[\(i)] is not a string") }
        return s
      }
    } else {
      throw ServiceInputError("expected {\"text\": \"…\"} or {\"texts\": [\"…\"]}")
    }
    guard !texts.isEmpty else { throw ServiceInputError("\"texts\" is empty") }
    if let (i, t) = texts.enumerated().first(where: { $0.element.utf8.count > limit }) {
      throw ServiceInputError("text \(i) is \(t.utf8.count) bytes, over the limit of \(limit) (--max-text-bytes)")
    }
    return texts
  }

  static func object(_ metadata: [String: String]) -> JSONValue {
    .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
  }
}
