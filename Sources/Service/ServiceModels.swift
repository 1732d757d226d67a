import AnomalyKit
import Density

/// A reference bank loaded for image scoring, with the pipeline that
/// extracts features the way the bank was fitted.
public struct BankModel: Sendable {
  public let path: String
  public let bank: ReferenceBank
  public let pipeline: ImageBankPipeline

  public init(path: String, bank: ReferenceBank, pipeline: ImageBankPipeline) {
    self.path = path
    self.bank = bank
    self.pipeline = pipeline
  }
}

/// A cold-start detector loaded for scoring and online adaptation.
public struct DetectorModel: Sendable {
  public let path: String
  public let detector: ColdStartDetector
  public let encoder: ObservationEncoder
  /// Written into the detector file when it is persisted.
  public let toolkitVersion: String

  public init(path: String, detector: ColdStartDetector, encoder: ObservationEncoder, toolkitVersion: String) {
    self.path = path
    self.detector = detector
    self.encoder = encoder
    self.toolkitVersion = toolkitVersion
  }
}
