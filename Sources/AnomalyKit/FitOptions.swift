import FeatureExtraction

/// How a fit runs, as opposed to what it fits (`BankConfiguration`):
/// limits on input images, batching, scratch space and reporting. None of
/// these change the bank.
public struct FitOptions: Sendable {
  /// Limits on each decoded image (pixels, file size).
  public var limits: ImageLimits
  /// Images per forward pass.
  public var batchSize: Int
  /// Folder for the unlinked feature scratch file a fit streams features
  /// into; nil is the system's temporary folder.
  public var scratchFolder: String?
  /// Extra metadata written into the bank (e.g. where features came from).
  public var metadata: [String: String]
  /// Called with (images done, images in all) after each batch.
  public var progress: (@Sendable (Int, Int) -> Void)?
  /// Called with each warning (a rough or impossible threshold); nil drops them.
  public var warning: (@Sendable (String) -> Void)?

  /// Options with the given values; the defaults are those of `anomalykit fit`.
  public init(
    limits: ImageLimits = ImageLimits(), batchSize: Int = 32, scratchFolder: String? = nil, metadata: [String: String] = [:],
    progress: (@Sendable (Int, Int) -> Void)? = nil, warning: (@Sendable (String) -> Void)? = nil
  ) {
    self.limits = limits
    self.batchSize = batchSize
    self.scratchFolder = scratchFolder
    self.metadata = metadata
    self.progress = progress
    self.warning = warning
  }
}
