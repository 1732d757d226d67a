/// Limits on what readers accept from a file, checked before the costly
/// part of reading (parsing a header, tokenising a text).
///
/// Readers take their defaults from `ReadLimits.current`, a task-local
/// value: the command-line tool binds it from `--max-header-bytes` and
/// `--max-text-bytes` around a whole command
/// (`ReadLimits.$current.withValue(limits) { … }`), so every file a command
/// opens obeys the same flags without threading them through each loader.
public struct ReadLimits: Sendable, Equatable {
  /// Cap on a safetensors JSON header, as in the reference `safetensors`
  /// crate (100 MB). Weights and banks have headers of a few KB; a feature
  /// file with a million paths in its metadata has about 60 MB.
  public static let defaultMaxHeaderBytes = 100_000_000
  /// Cap on one text (a line of a text file, or one description): 100 KB.
  /// The encoder reads at most 256 tokens (about 1–2 KB of English), so a
  /// longer text is almost always a file that is not one text per line.
  public static let defaultMaxTextBytes = 100_000
  /// Cap on a text stream (standard input or a pipe), which cannot be sized
  /// before it is read: 1 GiB, ten million 100-byte lines.
  public static let defaultMaxStreamBytes = 1 << 30

  /// Largest safetensors JSON header accepted, in bytes.
  public var maxHeaderBytes: Int
  /// Largest single text accepted (a line of a text file, or one
  /// description), in bytes.
  public var maxTextBytes: Int
  /// Largest text stream (standard input or a pipe) read, in bytes.
  public var maxStreamBytes: Int

  /// Limits with the given caps; each defaults to its `default…` constant.
  public init(
    maxHeaderBytes: Int = ReadLimits.defaultMaxHeaderBytes, maxTextBytes: Int = ReadLimits.defaultMaxTextBytes,
    maxStreamBytes: Int = ReadLimits.defaultMaxStreamBytes
  ) {
    self.maxHeaderBytes = maxHeaderBytes
    self.maxTextBytes = maxTextBytes
    self.maxStreamBytes = maxStreamBytes
  }

  /// The limits in force for readers in this task (or thread, outside tasks).
  @TaskLocal public static var current = ReadLimits()
}
