/// Paths inside the repository, found from this source file's location so
/// tests run from any working directory.
enum TestPaths {
  static let repositoryRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/OODFrontTests/TestPaths.swift
    return parts.joined(separator: "/")
  }()

  static func weights(_ name: String) -> String { repositoryRoot + "/Weights/" + name }
  static func fixture(_ relative: String) -> String { repositoryRoot + "/Tests/Fixtures/" + relative }
  /// `../shared/data/<relative>` beside the repository (present on CI and
  /// development machines; tests that need it skip when it is absent).
  static func sharedData(_ relative: String) -> String { repositoryRoot + "/../shared/data/" + relative }
}
