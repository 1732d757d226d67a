/// The coordinate-wise median of a multiset of `d`-dimensional rows, kept
/// up to date as rows are inserted and removed.
///
/// Each coordinate keeps its values sorted, so an insertion or removal
/// costs a binary search and a shift per coordinate (`O(d·n)` memory moves
/// at worst, far less in practice) and the median is read in `O(d)`:
///
/// ```
/// median_j = v_j[(n−1)/2]                         n odd
///          = (v_j[n/2 − 1] + v_j[n/2]) / 2         n even (numpy's convention)
/// ```
///
/// where `v_j` is coordinate `j`'s sorted values. The result depends only on
/// the multiset, never on the order of insertions.
package struct ColumnwiseMedian: Sendable {
  /// Width d of every row.
  package let dimension: Int
  private var columns: [[Float]]

  /// An empty multiset of `dimension`-wide rows.
  package init(dimension: Int) {
    self.dimension = dimension
    columns = Array(repeating: [], count: dimension)
  }

  /// Rows currently held.
  package var count: Int { columns.first?.count ?? 0 }

  /// Adds one copy of `row` (`dimension` floats).
  package mutating func insert(_ row: UnsafePointer<Float>) {
    for j in 0..<dimension {
      let v = row[j]
      columns[j].insert(v, at: Self.lowerBound(columns[j], v))
    }
  }

  /// Removes one copy of `row`; returns false (changing nothing) when some
  /// coordinate does not hold its value, i.e. the row was never inserted.
  @discardableResult
  package mutating func remove(_ row: UnsafePointer<Float>) -> Bool {
    var positions = [Int](repeating: 0, count: dimension)
    for j in 0..<dimension {
      let i = Self.lowerBound(columns[j], row[j])
      guard i < columns[j].count, columns[j][i] == row[j] else { return false }
      positions[j] = i
    }
    for j in 0..<dimension { columns[j].remove(at: positions[j]) }
    return true
  }

  /// The coordinate-wise median, or nil when empty.
  package func median() -> [Float]? {
    let n = count
    guard n > 0 else { return nil }
    return columns.map { v in n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2 }
  }

  /// First index whose value is not below `v`.
  private static func lowerBound(_ a: [Float], _ v: Float) -> Int {
    var low = 0
    var high = a.count
    while low < high {
      let mid = (low + high) / 2
      if a[mid] < v { low = mid + 1 } else { high = mid }
    }
    return low
  }
}
