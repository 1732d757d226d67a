/// One result (a value or an error) per item, written by parallel workers.
public final class ResultSlots<Value: Sendable>: @unchecked Sendable {
  // `@unchecked Sendable`: every access goes through `lock`; workers write distinct slots.
  private var slots: [Result<Value, any Error>?]
  private let lock = Mutex()

  public init(count: Int) { slots = Array(repeating: nil, count: count) }

  public func set(_ i: Int, _ result: Result<Value, any Error>) {
    lock.withLock { slots[i] = result }
  }

  /// The values in item order, or the error of the lowest-numbered failed
  /// item (so the message does not depend on the worker count).
  public func values() throws -> [Value] {
    let all = lock.withLock { slots }
    return try all.enumerated().map { i, slot in
      guard let slot else { preconditionFailure("ResultSlots: item \(i) was never set") }
      return try slot.get()
    }
  }
}
