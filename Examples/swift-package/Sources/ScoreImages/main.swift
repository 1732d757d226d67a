// Fit a bank on normal images, score new ones, save the bank.
// Usage: swift run ScoreImages NORMAL_DIR TEST_DIR   (default: the bundled demo images)
import AnomalyKit
import Foundation

func pngsAndJPEGs(in folder: String) throws -> [URL] {
  try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    .filter { [".png", ".jpg", ".jpeg"].contains(where: $0.lowercased().hasSuffix) }
    .map { URL(fileURLWithPath: folder).appendingPathComponent($0) }
}

let arguments = CommandLine.arguments.dropFirst()
let demo = try BundledWeights.demoFolder()
let normal = try pngsAndJPEGs(in: arguments.first ?? demo + "/normal")
let test = try pngsAndJPEGs(in: arguments.dropFirst().first ?? demo + "/test")

// Patch bank with the held-out defaults (the same bank `anomalykit fit --patches` writes).
let detector = try await ImageAnomalyDetector.fit(normal: normal, configuration: .patchDefault)
for result in try await detector.score(test) {
  let verdict = result.anomalous == true ? "ANOMALOUS" : "normal"
  print(String(format: "%10.4f  %@  %@", result.score, verdict, result.path))
}
try detector.save(to: URL(fileURLWithPath: NSTemporaryDirectory() + "score-images-bank.safetensors"))
