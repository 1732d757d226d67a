// swift-tools-version:6.0
// A package of your own that uses AnomalyKit as a library.
import PackageDescription

let package = Package(
  name: "ScoreImages",
  platforms: [.macOS(.v13)],
  dependencies: [.package(name: "AnomalyKit", path: "../..")],
  targets: [
    .executableTarget(name: "ScoreImages", dependencies: [.product(name: "AnomalyKit", package: "AnomalyKit")])
  ]
)
