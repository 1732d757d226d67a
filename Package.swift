// swift-tools-version:6.0
//
// AnomalyKit: anomaly detection on frozen pretrained features, on the CPU.
//
// Module map (the design card):
//   CBLAS, CLAPACKE, CPNG   system libraries (OpenBLAS, LAPACKE, libpng)
//   CJPEG, CPNGShim         libjpeg-turbo and libpng behind C error managers that return status codes
//   CKernels                AVX2/FMA conv, GEMM and transformer kernels, AVX-512 BF16 dot products (runtime-dispatched) with portable fallbacks
//   TensorFiles             safetensors and .npy files, atomic writes, SHA-256, JSON
//   ParallelCompute         worker pool over images / query blocks; BLAS kept single-threaded
//   FeatureExtraction       image decoding, preprocessing, kernels, backbones
//   Density                 banks, kNN, scorers, thresholds, metrics, ColdFusion
//   AnomalyKit              pipelines: images → features → bank / scores / heatmaps
//   OODFront                deepfakes and identities as anomalies
//   Service                 the HTTP scoring service (Hummingbird 2): routes, limits, online adaptation
//   anomalykit              the command-line tool
import PackageDescription

let package = Package(
  name: "AnomalyKit",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "anomalykit", targets: ["anomalykit"]),
    .library(name: "FeatureExtraction", targets: ["FeatureExtraction"]),
    .library(name: "Density", targets: ["Density"]),
    .library(name: "AnomalyKit", targets: ["AnomalyKit"]),
    .library(name: "OODFront", targets: ["OODFront"]),
    .library(name: "TensorFiles", targets: ["TensorFiles"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    // Documentation only (`swift package generate-documentation`); no code reaches users.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
  ],
  targets: [
    // MARK: - System libraries
    .systemLibrary(
      name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "CLAPACKE", pkgConfig: "lapacke", providers: [.apt(["liblapacke-dev"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    .target(name: "CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),
    .target(name: "CPNGShim", linkerSettings: [.linkedLibrary("png16")]),
    .target(name: "CKernels", linkerSettings: [.linkedLibrary("m")]),

    // MARK: - Library modules
    .target(name: "TensorFiles"),
    .target(name: "ParallelCompute", dependencies: ["CBLAS"]),
    .target(
      name: "FeatureExtraction",
      dependencies: ["CBLAS", "CPNG", "CPNGShim", "CJPEG", "CKernels", "TensorFiles", "ParallelCompute"]),
    .target(name: "Density", dependencies: ["CBLAS", "CLAPACKE", "CKernels", "TensorFiles", "ParallelCompute"]),
    .target(name: "AnomalyKit", dependencies: ["FeatureExtraction", "Density", "TensorFiles", "ParallelCompute"]),
    .target(
      name: "OODFront",
      dependencies: ["AnomalyKit", "FeatureExtraction", "Density", "TensorFiles", "ParallelCompute", "CKernels"]),

    .target(
      name: "Service",
      dependencies: [
        "AnomalyKit", "Density", "FeatureExtraction", "TensorFiles", .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"), .product(name: "HTTPTypes", package: "swift-http-types"),
      ],
      // The web page (GET /), compiled into the binary: no files to install.
      resources: [.embedInCode("Web/index.html"), .embedInCode("Web/app.js"), .embedInCode("Web/app.css")]),

    // MARK: - Command-line tool
    .executableTarget(
      name: "anomalykit",
      dependencies: [
        "AnomalyKit", "FeatureExtraction", "Density", "OODFront", "TensorFiles", "Service", "ParallelCompute",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    // MARK: - Benchmarks (not a library product: no code or dependency reaches users)
    .executableTarget(
      name: "anomalykit-bench",
      dependencies: ["FeatureExtraction", "Density", "AnomalyKit", "OODFront", "TensorFiles", "ParallelCompute", "CBLAS"],
      path: "Benchmarks/Sources/anomalykit-bench"),

    // MARK: - Tests
    .testTarget(name: "TensorFilesTests", dependencies: ["TensorFiles"]),
    .testTarget(
      name: "FeatureExtractionTests",
      dependencies: ["FeatureExtraction", "CKernels", "TensorFiles"]),
    .testTarget(name: "DensityTests", dependencies: ["Density", "AnomalyKit", "TensorFiles", "CKernels"]),
    .testTarget(name: "AnomalyKitTests", dependencies: ["AnomalyKit", "FeatureExtraction", "Density", "TensorFiles"]),
    .testTarget(name: "OODFrontTests", dependencies: ["OODFront", "FeatureExtraction", "TensorFiles"]),
    // Replays every input the fuzzers (Fuzz/) ever crashed on; CI runs no fuzzer.
    .testTarget(
      name: "FuzzRegressionTests",
      dependencies: ["TensorFiles", "FeatureExtraction", "Density", "AnomalyKit", "OODFront"]),
    // Runs the built `anomalykit` binary end to end.
    .testTarget(name: "CLITests", dependencies: ["anomalykit", "AnomalyKit", "Density", "TensorFiles", "OODFront", "FeatureExtraction"]),
  ],
  swiftLanguageModes: [.v6]
)
