/// The toolkit's version, written into every bank and detector file.
public enum ToolkitVersion {
  /// The current version (semantic versioning).
  public static let current = "0.1.0"
}
