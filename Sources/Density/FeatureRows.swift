/// Rows of features that may live in memory (`FeatureMatrix`) or on disk
/// (`FeatureSpool`), so that fitting can pick the rows it keeps without
/// first holding every row.
public protocol FeatureRows {
  var rows: Int { get }
  var columns: Int { get }
  /// The rows in `indices`, in that order, as a matrix in memory.
  func selecting(_ indices: [Int]) throws -> FeatureMatrix
  /// Every row, in memory.
  func matrix() throws -> FeatureMatrix
}

extension FeatureMatrix: FeatureRows {
  public func matrix() -> FeatureMatrix { self }
}

/// The rows `indices` of `base`, without copying them: selecting from the
/// subset reads only the rows asked for.
public struct FeatureRowSubset<Base: FeatureRows>: FeatureRows {
  public let base: Base
  public let indices: [Int]

  public init(_ base: Base, rows indices: [Int]) {
    self.base = base
    self.indices = indices
  }

  public var rows: Int { indices.count }
  public var columns: Int { base.columns }

  public func selecting(_ picked: [Int]) throws -> FeatureMatrix {
    try base.selecting(picked.map { indices[$0] })
  }

  public func matrix() throws -> FeatureMatrix { try base.selecting(indices) }
}
