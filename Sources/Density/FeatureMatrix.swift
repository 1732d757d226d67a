/// A row-major `rows × columns` matrix of features, one row per sample.
public struct FeatureMatrix: Sendable, Equatable {
  /// Number of rows (samples).
  public let rows: Int
  /// Features per row.
  public let columns: Int
  /// The `rows × columns` values, row-major.
  public var values: [Float]

  /// A matrix over `values`, which must hold `rows × columns` floats
  /// (checked by a precondition).
  public init(rows: Int, columns: Int, values: [Float]) {
    precondition(values.count == rows * columns, "FeatureMatrix needs rows × columns values")
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  /// The `columns` values of row `r`.
  public subscript(row r: Int) -> ArraySlice<Float> { values[(r * columns)..<((r + 1) * columns)] }

  /// The index of the first non-finite value, if any.
  public var firstNonFinite: Int? { values.firstIndex { !$0.isFinite } }

  /// The rows in `indices`, in that order.
  public func selecting(_ indices: [Int]) -> FeatureMatrix {
    var out: [Float] = []
    out.reserveCapacity(indices.count * columns)
    for i in indices { out += self[row: i] }
    return FeatureMatrix(rows: indices.count, columns: columns, values: out)
  }

  /// Rows scaled to unit L2 norm (a zero row stays zero).
  public func normalizedRows() -> FeatureMatrix {
    var out = self
    out.normalizeRows()
    return out
  }

  /// Scales every row to unit L2 norm in place (a zero row stays zero).
  public mutating func normalizeRows() {
    let columns = self.columns
    values.withUnsafeMutableBufferPointer { out in
      for r in 0..<rows {
        var s: Float = 0
        for c in 0..<columns { s += out[r * columns + c] * out[r * columns + c] }
        let inv: Float = s > 0 ? 1 / s.squareRoot() : 0
        for c in 0..<columns { out[r * columns + c] *= inv }
      }
    }
  }

  /// The mean row.
  public func meanRow() -> [Float] {
    var mean = [Double](repeating: 0, count: columns)
    for r in 0..<rows {
      for c in 0..<columns { mean[c] += Double(values[r * columns + c]) }
    }
    return mean.map { Float($0 / Double(max(rows, 1))) }
  }

  /// Rows stacked: `self` on top of `other` (same column count).
  public func appending(_ other: FeatureMatrix) -> FeatureMatrix {
    precondition(other.columns == columns || rows == 0, "column counts differ")
    return FeatureMatrix(rows: rows + other.rows, columns: other.columns, values: values + other.values)
  }

  /// The matrix itself (its `FeatureRows` conformance).
  public func matrix() -> FeatureMatrix { self }
}
