/// Paths inside the repository, found from this source file's location so
/// tests run from any working directory.
enum TestPaths {
  static let repositoryRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/FeatureExtractionTests/TestPaths.swift
    return parts.joined(separator: "/")
  }()

  static var weights: String { repositoryRoot + "/Weights/efficientnet-lite0.safetensors" }
  static func fixture(_ relative: String) -> String { repositoryRoot + "/Tests/Fixtures/" + relative }
}
