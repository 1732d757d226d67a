/// Rows of features that may live in memory (`FeatureMatrix`) or on disk
/// (`FeatureSpool`), so that fitting can pick the rows it keeps without
/// first holding every row.
public protocol FeatureRows {
  /// Number of rows.
  var rows: Int { get }
  /// Width of every row.
  var columns: Int { get }
  /// The rows in `indices`, in that order, as a matrix in memory.
  func selecting(_ indices: [Int]) throws -> FeatureMatrix
  /// Every row, in memory.
  func matrix() throws -> FeatureMatrix
}

// `matrix()` is declared with the type (FeatureMatrix.swift): a requirement
// implemented in this extension would get DocC's undocumented
// "FeatureRows Implementations" page.
extension FeatureMatrix: FeatureRows {}

/// The rows `indices` of `base`, without copying them: selecting from the
/// subset reads only the rows asked for.
public struct FeatureRowSubset<Base: FeatureRows>: FeatureRows {
  /// The rows the subset is taken from.
  public let base: Base
  /// The rows of `base` in the subset, in subset order.
  public let indices: [Int]

  /// The rows `indices` of `base`, in that order; nothing is read yet.
  public init(_ base: Base, rows indices: [Int]) {
    self.base = base
    self.indices = indices
  }

  /// Number of rows in the subset.
  public var rows: Int { indices.count }
  /// Width of every row (that of `base`).
  public var columns: Int { base.columns }

  public func selecting(_ picked: [Int]) throws -> FeatureMatrix {
    try base.selecting(picked.map { indices[$0] })
  }

  public func matrix() throws -> FeatureMatrix { try base.selecting(indices) }
}
