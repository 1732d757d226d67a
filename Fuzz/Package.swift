// swift-tools-version:5.4
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM compiles an executable's
// entry point as `<Module>_main` and links with `--defsym main=<Module>_main`
// (so tests can link executables), which leaves a libFuzzer target, whose
// `main` comes from libFuzzer, with an undefined symbol. The code is still
// compiled in the Swift 6 language mode (`swiftLanguageVersions`).
//
// Coverage-guided fuzzers (libFuzzer) for every parser AnomalyKit owns or
// wraps. A separate package so that the main package, its CI and its users
// never see the sanitizer flags or these executables. Build and run them
// with `Fuzz/run.sh` (see Fuzz/README.md); CI only replays the regression
// inputs in Tests/Fixtures/fuzz-regressions through the normal test suite.
import PackageDescription

/// Each fuzzer is an executable whose only entry point is
/// `LLVMFuzzerTestOneInput`; libFuzzer supplies `main`, so the Swift file is
/// parsed as a library (no top-level code).
func fuzzer(_ name: String, _ products: [String]) -> Target {
  .executableTarget(
    name: name,
    dependencies: products.map { .product(name: $0, package: "AnomalyKit") },
    swiftSettings: [.unsafeFlags(["-parse-as-library"])])
}

let package = Package(
  name: "AnomalyKitFuzz",
  platforms: [.macOS("13.0")],
  dependencies: [.package(name: "AnomalyKit", path: "..")],
  targets: [
    fuzzer("FuzzPNG", ["FeatureExtraction"]),
    fuzzer("FuzzJPEG", ["FeatureExtraction"]),
    fuzzer("FuzzSafeTensors", ["TensorFiles"]),
    fuzzer("FuzzNPY", ["TensorFiles"]),
    fuzzer("FuzzJSON", ["TensorFiles"]),
    fuzzer("FuzzDescriptions", ["AnomalyKit"]),
    fuzzer("FuzzTextLines", ["AnomalyKit", "FeatureExtraction"]),
    fuzzer("FuzzBankFiles", ["Density", "OODFront", "TensorFiles"]),
  ],
  swiftLanguageVersions: [.version("6")]
)
