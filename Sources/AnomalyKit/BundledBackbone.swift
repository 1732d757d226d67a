import FeatureExtraction

extension EfficientNetLite {
  /// The network a fit extracts features with: `configuration`'s input size
  /// and precision; in `int8`, calibrated on the normal images the fit reads
  /// (`calibratedInt8(onImages:preparedBy:)`, prepared as the bank's recipe
  /// prepares them).
  package static func forFit(
    weights: String, configuration: BankConfiguration, normalPaths: [String], options: FitOptions
  ) throws -> EfficientNetLite {
    guard configuration.precision == .int8 else {
      return try EfficientNetLite(path: weights, inputSize: configuration.inputSize, precision: configuration.precision)
    }
    try configuration.validate()  // before the calibration pass, not after it
    let reference = try EfficientNetLite(path: weights, inputSize: configuration.inputSize)
    let pipeline = try ImageBankPipeline(
      model: reference, recipe: configuration.recipe, limits: options.limits, batchSize: options.batchSize)
    return try reference.calibratedInt8(onImages: normalPaths, preparedBy: pipeline.extractor)
  }

  /// The network for a stored bank or detector (`metadata`, read from
  /// `path`) in `precision`; `int8` quantises with the ranges the file
  /// recorded.
  ///
  /// `precision` comes from `ComputePrecision.resolve`, which has checked
  /// that this CPU runs it.
  ///
  /// - Throws: `PrecisionError.needsCalibration` naming `path` for `int8` when
  ///   the file records no ranges (it was made in another precision), and
  ///   `.badCalibration` for ranges that cannot be read.
  package static func forStored(
    weights: String, inputSize: Int?, precision: ComputePrecision, metadata: [String: String], path: String
  ) throws -> EfficientNetLite {
    var calibration: Int8Calibration?
    if precision == .int8 {
      guard let recorded = try Int8Calibration(metadata: metadata, path: path) else {
        throw PrecisionError.needsCalibration(source: path)
      }
      calibration = recorded
    }
    return try EfficientNetLite(path: weights, inputSize: inputSize, precision: precision, calibration: calibration)
  }
}
