import ArgumentParser
import TensorFiles

/// Limits on the files a command reads, shared by every command that opens
/// safetensors or text files. `AnomalyKitCommand.main` binds them as
/// `ReadLimits.current` around the whole command.
struct LimitOptions: ParsableArguments {
  @Option(name: .customLong("max-header-bytes"), help: "Refuse safetensors files (weights, banks, detectors) whose JSON header is larger than this, before parsing it (default 100M).")
  var maxHeaderBytes: ByteCount?

  @Option(name: .customLong("max-text-bytes"), help: "Refuse a text (one line of a text file, or one description) longer than this (default 100K).")
  var maxTextBytes: ByteCount?

  @Option(name: .customLong("max-stream-bytes"), help: "Refuse a text stream ('-' for standard input, or a pipe) longer than this (default 1G).")
  var maxStreamBytes: ByteCount?

  var readLimits: ReadLimits {
    ReadLimits(
      maxHeaderBytes: maxHeaderBytes?.bytes ?? ReadLimits.defaultMaxHeaderBytes,
      maxTextBytes: maxTextBytes?.bytes ?? ReadLimits.defaultMaxTextBytes,
      maxStreamBytes: maxStreamBytes?.bytes ?? ReadLimits.defaultMaxStreamBytes)
  }
}

/// A command that reads files under `LimitOptions`.
protocol ReadLimitedCommand: ParsableCommand {
  var limits: LimitOptions { get }
}
