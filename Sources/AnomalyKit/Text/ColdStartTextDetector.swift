import Density
import FeatureExtraction
import Foundation

/// A text anomaly detector that starts cold, from a description or just
/// the name of each normal class, and adapts to unlabelled observations as
/// they arrive, some of them anomalies (ColdFusion).
///
/// ```swift
/// var detector = try ColdStartTextDetector(classNames: ["card_activation", "exchange_rate"])
/// try await detector.observe(todaysQueries)          // contaminated, unlabelled
/// for s in try await detector.score(["how do I activate my card?", "tell me a joke"]) {
///   print(s.text, s.score, s.anomalous ?? false, s.nearestClass)
/// }
/// try detector.save(to: URL(fileURLWithPath: "detector.safetensors"))
/// ```
///
/// Texts embed as raw MiniLM sentence vectors. Each class `c` has a
/// prototype: its description's embedding `p_c`, moved towards the
/// observations assigned to it (the configuration's `rule`; by default the
/// predictive rule, a shrunk median with the description as a prior worth
/// `κ` observations). The score of a text `x` is its distance to the
/// nearest prototype, `s(x) = min_c d(x, p_c)`, with `d` the
/// configuration's metric (cosine by default); the top `1 − trim` of the
/// observations are presumed anomalies and left out of the update.
/// From 20 observations on, a threshold is calibrated on the kept ones and
/// each score carries a verdict. Defaults (`ColdStartConfiguration.text`)
/// were chosen by leave-one-domain-out over nine intent domains
/// (Notebooks-export/coldstart.md).
///
/// The detector file is the one `anomalykit adapt` writes and `anomalykit
/// serve --detector` adapts online, byte for byte for the same inputs.
public struct ColdStartTextDetector: Sendable {
  /// The prototypes, observations, adaptation state and threshold.
  public private(set) var detector: ColdStartDetector
  /// The sentence encoder texts are embedded with.
  public let embedder: TextEmbedder

  /// A detector from one or more descriptions per normal class.
  ///
  /// - Parameters:
  ///   - descriptions: class names and their description texts
  ///     (`ClassDescriptions.read` parses the JSON or line files the CLI takes).
  ///   - embedder: the sentence encoder; nil loads the bundled MiniLM.
  ///   - configuration: metric, rule, trim and κ (`ColdStartConfiguration.text`).
  ///   - metadata: extra metadata for the detector file.
  ///   - warning: hears about texts cut to the encoder's token limit.
  public init(
    descriptions: ClassDescriptions, embedder: TextEmbedder? = nil, configuration: ColdStartConfiguration = .text,
    metadata: [String: String] = [:], warning: ((String) -> Void)? = nil
  ) throws {
    let embedder = try embedder ?? TextEmbedder.bundled()
    guard !descriptions.classNames.isEmpty else {
      throw AnomalyKitError.invalidInput("descriptions: no classes given; a detector needs at least one normal class")
    }
    let prototypes = embedder.embed(descriptions.texts, warn: warning ?? { _ in })
    let meta = metadata.merging(ObservationEncoder.text(embedder).provenance) { mine, _ in mine }
    detector = try ColdStartDetector(
      classNames: descriptions.classNames, prototypes: prototypes, metric: configuration.metric, trim: configuration.trim,
      rule: configuration.rule, kappa: configuration.kappa, metadata: meta)
    self.embedder = embedder
  }

  /// A detector from the normal class names alone; underscores read as
  /// spaces for the encoder (`card_activation` embeds as "card activation").
  public init(
    classNames: [String], embedder: TextEmbedder? = nil, configuration: ColdStartConfiguration = .text,
    warning: ((String) -> Void)? = nil
  ) throws {
    try self.init(
      descriptions: try ClassDescriptions(names: classNames), embedder: embedder, configuration: configuration,
      metadata: ["guidance": "class names"], warning: warning)
  }

  /// A detector from a descriptions file (JSON `{class: text | [texts]}`,
  /// or one description per line), recording the file's name.
  public init(
    descriptionsFile url: URL, embedder: TextEmbedder? = nil, configuration: ColdStartConfiguration = .text,
    warning: ((String) -> Void)? = nil
  ) throws {
    try self.init(
      descriptions: try ClassDescriptions.read(url.path), embedder: embedder, configuration: configuration,
      metadata: ["descriptions": url.lastPathComponent], warning: warning)
  }

  /// Wraps a stored detector, checking that `embedder` has its weights.
  ///
  /// - Throws: `AnomalyKitError.mismatch` for an image detector or other weights.
  public init(_ detector: ColdStartDetector, embedder: TextEmbedder, path: String = "detector") throws {
    guard detector.metadata["modality"] == "text" else {
      throw AnomalyKitError.mismatch("\(path): this is a \(detector.metadata["modality"] ?? "unknown") detector, not a text detector")
    }
    try ObservationEncoder.text(embedder).check(detector, path: path)
    self.detector = detector
    self.embedder = embedder
  }

  /// Observations seen so far.
  public var observationCount: Int { detector.observations.rows }

  /// The calibrated threshold, or nil before
  /// `ColdStartDetector.minimumObservationsForThreshold` observations.
  public var threshold: Float? { detector.threshold }

  /// Adapts to unlabelled observations (possibly contaminated by anomalies).
  ///
  /// - Throws: `AnomalyKitError.invalidInput` for an empty list.
  public mutating func observe(_ texts: [String]) async throws {
    let adapted = try await offloaded { [self] in try self.observing(texts) }
    self = adapted
  }

  /// Synchronous `observe(_:)`.
  public mutating func observe(_ texts: [String]) throws {
    self = try observing(texts)
  }

  func observing(_ texts: [String]) throws -> ColdStartTextDetector {
    guard !texts.isEmpty else { throw AnomalyKitError.invalidInput("observations: no texts given") }
    var next = self
    next.detector = try detector.adapting(embed(texts), source: "observations")
    return next
  }

  /// Scores texts: distance to the nearest prototype, that class, and the
  /// verdict (nil without a threshold).
  ///
  /// - Parameters:
  ///   - texts: the texts to score.
  ///   - zeroShot: score against the descriptions alone, ignoring what
  ///     was observed.
  public func score(_ texts: [String], zeroShot: Bool = false) async throws -> [ColdStartScore] {
    try await offloaded { [self] in try self.score(texts, zeroShot: zeroShot) }
  }

  /// Synchronous `score(_:zeroShot:)`.
  public func score(_ texts: [String], zeroShot: Bool = false) throws -> [ColdStartScore] {
    guard !texts.isEmpty else { return [] }
    let nearest = try detector.nearest(embed(texts), zeroShot: zeroShot)
    let threshold = zeroShot ? nil : detector.threshold
    return texts.indices.map { i in
      ColdStartScore(
        input: texts[i], score: nearest.distances[i], anomalous: threshold.map { nearest.distances[i] > $0 },
        nearestClass: detector.classNames[nearest.indices[i]])
    }
  }

  func embed(_ texts: [String]) -> FeatureMatrix {
    embedder.embed(texts.enumerated().map { TextRecord(text: $0.element, origin: "text \($0.offset + 1)") })
  }

  /// Writes the detector atomically (safetensors).
  public func save(to url: URL) throws {
    try DetectorFile.write(detector, to: url.path, toolkitVersion: ToolkitVersion.current)
  }

  /// Reads a text detector, with the bundled MiniLM unless `embedder` is given.
  public static func load(from url: URL, embedder: TextEmbedder? = nil) throws -> ColdStartTextDetector {
    try ColdStartTextDetector(DetectorFile.read(path: url.path), embedder: embedder ?? TextEmbedder.bundled(), path: url.path)
  }
}
