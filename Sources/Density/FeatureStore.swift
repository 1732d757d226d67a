import CKernels
import TensorFiles

/// How a bank stores its feature rows.
public enum BankDType: String, Sendable, CaseIterable, Codable {
  /// float32: 4 bytes per value, exact.
  case f32
  /// bfloat16: 2 bytes per value (float32's sign, exponent and top 7
  /// mantissa bits, rounded to nearest even), so half the memory and disk.
  /// A row keeps about 3 significant digits; the kNN searches on BF16 dot
  /// products and re-ranks its candidates in float32 (`NearestNeighbors`).
  case bf16
}

/// Where a bank's features live: on the heap after a fit, or in a memory
/// map after a load; as float32 or bfloat16.
final class FeatureStore: Sendable {
  enum Backing: Sendable {
    case memory([Float])
    case mapped(SafeTensorsFile, TensorInfo)
    case memoryBF16([UInt16])
    case mappedBF16(SafeTensorsFile, TensorInfo)
  }

  let rows: Int
  let columns: Int
  let backing: Backing

  init(memory matrix: FeatureMatrix) {
    rows = matrix.rows
    columns = matrix.columns
    backing = .memory(matrix.values)
  }

  /// Rows of bfloat16 bit patterns.
  init(bf16 values: [UInt16], rows: Int, columns: Int) {
    self.rows = rows
    self.columns = columns
    backing = .memoryBF16(values)
  }

  /// - Precondition: `info` is an F32 or BF16 `rows × columns` tensor of `file`.
  init(file: SafeTensorsFile, info: TensorInfo) {
    rows = info.shape.first ?? 0
    columns = info.shape.count > 1 ? info.shape[1] : 0
    backing = info.dtype == .bf16 ? .mappedBF16(file, info) : .mapped(file, info)
  }

  var dtype: BankDType {
    switch backing {
    case .memory, .mapped: return .f32
    case .memoryBF16, .mappedBF16: return .bf16
    }
  }

  /// The rows as float32: in place for a float32 store, widened (a copy)
  /// for a bfloat16 one.
  func withValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    switch backing {
    case .memory(let values):
      return try values.withUnsafeBufferPointer(body)
    case .mapped(let file, let info):
      return try file.withFloats(info, body)
    case .memoryBF16, .mappedBF16:
      let widened = withBF16 { b in
        [Float](unsafeUninitializedCapacity: b.count) { out, count in
          ak_bf16_to_f32(b.baseAddress, out.baseAddress, b.count)
          count = b.count
        }
      }
      return try widened.withUnsafeBufferPointer(body)
    }
  }

  /// The bfloat16 rows in place (a bfloat16 store only).
  func withBF16<R>(_ body: (UnsafeBufferPointer<UInt16>) throws -> R) rethrows -> R {
    switch backing {
    case .memoryBF16(let values): return try values.withUnsafeBufferPointer(body)
    case .mappedBF16(let file, let info): return try file.withBF16(info, body)
    case .memory, .mapped: preconditionFailure("withBF16 on a float32 store")
    }
  }

  /// `body(row, values)` for each row as float32, widening one row at a
  /// time for a bfloat16 store (so no full float32 copy is made).
  func forEachRow(_ body: (Int, UnsafeBufferPointer<Float>) -> Void) {
    switch dtype {
    case .f32:
      withValues { v in
        for r in 0..<rows { body(r, UnsafeBufferPointer(rebasing: v[(r * columns)..<((r + 1) * columns)])) }
      }
    case .bf16:
      var row = [Float](repeating: 0, count: columns)
      withBF16 { b in
        for r in 0..<rows {
          row.withUnsafeMutableBufferPointer { ak_bf16_to_f32(b.baseAddress.unsafelyUnwrapped + r * columns, $0.baseAddress, columns) }
          row.withUnsafeBufferPointer { body(r, $0) }
        }
      }
    }
  }

  /// ‖row‖² of each row (of the stored values).
  func squaredNorms() -> [Float] {
    var norms = [Float](repeating: 0, count: rows)
    forEachRow { r, v in norms[r] = v.baseAddress.map { NearestNeighbors.squaredNorm($0, count: columns) } ?? 0 }
    return norms
  }

  /// The mean row, summed in float64.
  func meanRow() -> [Float] {
    var mean = [Double](repeating: 0, count: columns)
    forEachRow { _, v in
      for j in 0..<columns { mean[j] += Double(v[j]) }
    }
    return mean.map { Float($0 / Double(max(rows, 1))) }
  }

  /// Rows `range`, in this store's dtype.
  func slice(_ range: Range<Int>) -> FeatureStore {
    switch dtype {
    case .f32:
      return withValues { FeatureStore(memory: FeatureMatrix(rows: range.count, columns: columns, values: Array($0[(range.lowerBound * columns)..<(range.upperBound * columns)]))) }
    case .bf16:
      return withBF16 { FeatureStore(bf16: Array($0[(range.lowerBound * columns)..<(range.upperBound * columns)]), rows: range.count, columns: columns) }
    }
  }

  /// These rows followed by `other`'s (float32 rows, stored in this dtype).
  func appending(_ other: FeatureMatrix) -> FeatureStore {
    switch dtype {
    case .f32: return FeatureStore(memory: matrix().appending(other))
    case .bf16:
      return withBF16 { FeatureStore(bf16: Array($0) + Self.rounded(other.values), rows: rows + other.rows, columns: columns) }
    }
  }

  /// The rows stored as `dtype` (rounded to nearest even for bfloat16).
  func converted(to dtype: BankDType) -> FeatureStore {
    guard dtype != self.dtype else { return self }
    switch dtype {
    case .f32: return FeatureStore(memory: matrix())
    case .bf16: return withValues { FeatureStore(bf16: Self.rounded(Array($0)), rows: rows, columns: columns) }
    }
  }

  static func rounded(_ values: [Float]) -> [UInt16] {
    [UInt16](unsafeUninitializedCapacity: values.count) { out, count in
      values.withUnsafeBufferPointer { ak_f32_to_bf16($0.baseAddress, out.baseAddress, values.count) }
      count = values.count
    }
  }

  func matrix() -> FeatureMatrix {
    withValues { FeatureMatrix(rows: rows, columns: columns, values: Array($0)) }
  }
}
