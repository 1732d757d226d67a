import AnomalyKit
import ArgumentParser
import Density
import FeatureExtraction
import Foundation
import TensorFiles

extension ScorerKind: ExpressibleByArgument {}
extension BankDType: ExpressibleByArgument {}
extension FeatureTransform: ExpressibleByArgument {}
extension Coreset.Method: ExpressibleByArgument {}

/// Loads a bank and the pipeline that reproduces its features
/// (`ImageAnomalyDetector.load`), with the command line's weights and limits.
struct LoadedBank {
  let detector: ImageAnomalyDetector
  let path: String

  var bank: ReferenceBank { detector.bank }
  var pipeline: ImageBankPipeline? { detector.pipeline }

  /// - Parameter needsImages: false when features come from a .npy.
  init(path: String, image: ImageOptions, needsImages: Bool) throws {
    self.path = path
    guard needsImages else {
      detector = ImageAnomalyDetector.featuresOnly(try BankFile.read(path: path))
      return
    }
    detector = try ImageAnomalyDetector.load(
      path: path, weights: image.weights, limits: image.limits, batchSize: image.batchSize, precision: image.precisionChoice,
      allowMixedPrecision: image.allowMixedPrecision)
    if detector.pipeline == nil {
      throw CLIError("\(path): bank was fitted on external features (--from-npy); score it with --from-npy too")
    }
  }
}

extension LoadedBank {
  /// Scores the rows of an N×D feature file; each row is named `PATH#ROW`.
  func scoreRows(of path: String) throws -> [ImageScore] {
    try bank.score(try readFeatureMatrix(path), source: path).enumerated().map {
      ImageScore(
        path: "\(path)#\($0.offset)", score: $0.element, anomalous: bank.isAnomalous($0.element), map: nil, gridHeight: 1,
        gridWidth: 1)
    }
  }
}

/// Reads an N×D feature matrix from .npy (or the `features` tensor of a .safetensors).
///
/// - Parameter allowEmpty: accept zero rows (a (0, D) matrix); otherwise a
///   file without rows is an error naming it.
/// - Throws: besides the file's own errors, `DensityError.nonFinite` naming
///   `path` for a NaN or Inf, and a `CLIError` naming `path` for zero
///   columns or (unless `allowEmpty`) zero rows.
func readFeatureMatrix(_ path: String, allowEmpty: Bool = false) throws -> FeatureMatrix {
  let matrix: FeatureMatrix
  if path.hasSuffix(".safetensors") {
    let file = try SafeTensorsFile(path: path)
    let info = try file.info("features")
    guard info.shape.count == 2 else { throw CLIError("\(path): 'features' must be 2-D, found \(info.shape)") }
    matrix = FeatureMatrix(rows: info.shape[0], columns: info.shape[1], values: try file.floats("features"))
  } else {
    let (rows, columns, values) = try NPYFile.read(path: path)
    matrix = FeatureMatrix(rows: rows, columns: columns, values: values)
  }
  guard matrix.columns > 0 else {
    throw CLIError("\(path): features have zero columns; expected an N×D matrix with D ≥ 1")
  }
  guard matrix.rows > 0 || allowEmpty else {
    throw CLIError("\(path): no feature rows (shape (0, \(matrix.columns))); expected an N×D matrix with N ≥ 1")
  }
  if let bad = matrix.firstNonFinite {
    throw DensityError.nonFinite(source: path, row: bad / matrix.columns, column: bad % matrix.columns)
  }
  return matrix
}

extension LoadedBank {
  /// The bank's input size, after checking that its location scores can
  /// become dense per-pixel maps (`AnomalyMap`): a patch bank whose grid
  /// covers the whole image, which a central crop does not.
  ///
  /// - Parameter use: what needs the maps, for the error messages.
  func denseMapInputSize(for use: String) throws -> Int {
    guard bank.metadata["patches"] == "true" else {
      throw CLIError("\(path): \(use) need a patch bank (fit --patches); image banks have one score per image")
    }
    guard bank.metadata["resize"] != "crop" else {
      throw CLIError(
        "\(path): the bank crops images (--resize crop), so its maps do not cover the image border; \(use) need a bank fitted with --resize stretch")
    }
    return Int(bank.metadata["input_size"] ?? "") ?? 224
  }
}
