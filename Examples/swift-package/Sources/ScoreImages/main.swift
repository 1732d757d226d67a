// Fit a bank on normal images, score new ones, save the bank.
// Usage: swift run ScoreImages NORMAL_DIR TEST_DIR   (default: the bundled demo images)
import AnomalyKit
import Foundation

let arguments = CommandLine.arguments.dropFirst()
let demo = try BundledWeights.demoFolder()
// Folders are walked recursively for .png, .jpg and .jpeg files.
let normal = try ImageFiles.list([URL(fileURLWithPath: arguments.first ?? demo + "/normal")])
let test = try ImageFiles.list([URL(fileURLWithPath: arguments.dropFirst().first ?? demo + "/test")])

// Patch bank with the held-out defaults (the same bank `anomalykit fit --patches` writes).
let detector = try await ImageAnomalyDetector.fit(normal: normal, configuration: .patchDefault)
for result in try await detector.score(test) {
  let verdict = result.anomalous == true ? "ANOMALOUS" : "normal"
  print(String(format: "%10.4f  %@  %@", result.score, verdict, result.path))
}
try detector.save(to: URL(fileURLWithPath: NSTemporaryDirectory() + "score-images-bank.safetensors"))
