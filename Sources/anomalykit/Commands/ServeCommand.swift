import AnomalyKit
import ArgumentParser
import Density
import Foundation
import Service
import TensorFiles

/// `anomalykit serve --bank BANK | --detector DETECTOR [--host 127.0.0.1] [--port 8080]`.
struct ServeCommand: ReadLimitedCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Serve a bank and/or a cold-start detector over HTTP (score images and texts, adapt online).",
    discussion: """
      Endpoints: GET /v1/health, GET /v1/info, GET /v1/openapi.json, POST /v1/score/image (image bytes or \
      multipart; ?heatmap=true), POST /v1/score/text ({"text": …} or {"texts": […]}), POST /v1/observations \
      (the detector adapts; persisted atomically every --persist-every observations and on SIGTERM/SIGINT). \
      Prints 'listening on http://HOST:PORT' once the socket is bound (--port 0 picks a free port).
      """)

  @Option(name: .long, help: "Reference bank for POST /v1/score/image.")
  var bank: String?

  @Option(name: .long, help: "Cold-start detector for POST /v1/score/text (text) or /v1/score/image (image), adapted by POST /v1/observations and rewritten in place.")
  var detector: String?

  @Option(name: .long, help: "Address to bind (default loopback only).")
  var host = ServiceConfiguration().host

  @Option(name: .long, help: "Port to bind (0: any free port).")
  var port = ServiceConfiguration().port

  @Option(name: .customLong("max-body-bytes"), help: "Largest request body (413 above it; default 20M).")
  var maxBodyBytes: ByteCount?

  @Option(name: .customLong("max-concurrent"), help: "Scoring jobs at once (each already uses every core).")
  var maxConcurrent = ServiceConfiguration().maxConcurrentJobs

  @Option(name: .customLong("max-queue"), help: "Requests that may wait for a job slot; more get 503.")
  var maxQueue = ServiceConfiguration().maxQueuedJobs

  @Option(name: .customLong("request-timeout"), help: "Seconds a request may wait for a job slot before it gets 503.")
  var requestTimeout = ServiceConfiguration().requestTimeoutSeconds

  @Option(name: .customLong("persist-every"), help: "Rewrite the detector file after this many new observations (and on shutdown).")
  var persistEvery = ServiceConfiguration().persistEvery

  @Flag(name: .customLong("read-only"), help: "A reader replica behind a load balancer: refuse POST /v1/observations (409) and reload the detector file whenever the one writer replica (started without --read-only) replaces it. /v1/info shows each replica's role and generation.")
  var readOnly = false

  @OptionGroup var image: ImageOptions
  @OptionGroup var text: TextOptions
  @OptionGroup var limits: LimitOptions

  func validate() throws {
    guard bank != nil || detector != nil else { throw ValidationError("give --bank BANK and/or --detector DETECTOR") }
    guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0…65535") }
    guard maxConcurrent >= 1 else { throw ValidationError("--max-concurrent must be at least 1") }
    guard maxQueue >= 0 else { throw ValidationError("--max-queue must be 0 or more") }
    guard requestTimeout > 0 else { throw ValidationError("--request-timeout must be positive") }
    guard persistEvery >= 1 else { throw ValidationError("--persist-every must be at least 1") }
  }

  func run() throws {
    var config = ServiceConfiguration()
    config.host = host
    config.port = port
    if let maxBodyBytes { config.maxBodyBytes = maxBodyBytes.bytes }
    config.maxConcurrentJobs = maxConcurrent
    config.maxQueuedJobs = maxQueue
    config.requestTimeoutSeconds = requestTimeout
    config.persistEvery = persistEvery
    config.readOnly = readOnly
    config.maxTextBytes = limits.readLimits.maxTextBytes

    var bankModel: BankModel?
    if let bank {
      let loaded = try LoadedBank(path: bank, image: image, needsImages: true)
      guard let pipeline = loaded.pipeline else { throw CLIError("\(bank): bank has no image pipeline") }
      bankModel = BankModel(path: bank, bank: loaded.bank, pipeline: pipeline)
    }
    var detectorModel: DetectorModel?
    if let detector {
      // A writer rewrites the detector in place: check now that it can.
      if !readOnly { try OutputPath.check(detector) }
      let current = try DetectorFile.read(path: detector)
      let encoder = try ObservationEncoder.forDetector(current, path: detector, text: text, image: image)
      detectorModel = DetectorModel(path: detector, detector: current, encoder: encoder, toolkitVersion: AnomalyKitCommand.version)
    }
    let service = try AnomalyService(bank: bankModel, detector: detectorModel, configuration: config)
    let outcome = ServeOutcome()
    let done = DispatchSemaphore(value: 0)
    Task {
      do {
        try await service.run { host, port in
          FileHandle.standardOutput.write(Data("listening on http://\(host):\(port)\n".utf8))
        }
      } catch {
        outcome.fail(error)
      }
      done.signal()
    }
    done.wait()
    if let error = outcome.error { throw error }
    warn("stopped" + (detector.map { "; \($0) persisted" } ?? ""))
  }
}

/// The error, if any, that ended the server task.
///
/// `@unchecked Sendable`: written once by the server task before it signals
/// the semaphore the main thread waits on, read after; the lock makes that
/// ordering explicit.
private final class ServeOutcome: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Error?
  var error: Error? { lock.withLock { stored } }
  func fail(_ error: Error) { lock.withLock { stored = error } }
}
