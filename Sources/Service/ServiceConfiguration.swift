/// Limits and addresses of `anomalykit serve`, each with a default chosen
/// for one small machine.
public struct ServiceConfiguration: Sendable {
  public var host = "127.0.0.1"
  public var port = 8080
  /// Largest request body accepted (413 above it): 20 MiB holds any
  /// photo a user would score; a 100-megapixel PNG is refused by the pixel
  /// budget anyway.
  public var maxBodyBytes = 20 << 20
  /// Scoring jobs run at once. Each job already uses every core
  /// (`ParallelFor`), so more than one mostly adds latency.
  public var maxConcurrentJobs = 1
  /// Requests waiting for a job slot before new ones get 503.
  public var maxQueuedJobs = 64
  /// Seconds a request may wait for a job slot before it gets 503.
  public var requestTimeoutSeconds = 30.0
  /// Persist the detector after every this many new observations (and on
  /// shutdown).
  public var persistEvery = 16
  /// Longest text accepted, in UTF-8 bytes (the CLI's `--max-text-bytes`).
  public var maxTextBytes = 100_000
  /// A reader replica: refuse observations (409) and reload the detector
  /// file when another process (the one writer) replaces it.
  public var readOnly = false

  public init() {}
}
