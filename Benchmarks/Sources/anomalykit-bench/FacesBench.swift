import FeatureExtraction
import Foundation
import OODFront
import ParallelCompute

/// `anomalykit-bench faces RESNET MMOD IMAGE CHIP... [--threads 2] [--repeats 5]`:
/// ms per 150×150 chip embedding (all chips in one `embed` call) and ms per
/// detection on IMAGE (upsample 0), best and median of `--repeats` runs.
func runFaces() throws {
  let args = positional()
  guard args.count >= 4 else {
    FileHandle.standardError.write(Data("usage: anomalykit-bench faces RESNET MMOD IMAGE CHIP... [--threads 2] [--repeats 5]\n".utf8))
    exit(2)
  }
  let threads = Int(option("--threads", 2))
  let repeats = max(1, Int(option("--repeats", 5)))
  let embedder = try FaceEmbedder(path: args[0])
  let detector = try FaceDetector(path: args[1])
  let image = try ImageDecoder.decode(path: args[2])
  let chips = try args.dropFirst(3).map { try ImageDecoder.decode(path: $0) }
  _ = try embedder.embed(chips, workers: threads)  // warm-up
  _ = try detector.detect(image, workers: threads)
  var embedTimes: [Double] = []
  var detectTimes: [Double] = []
  var detections = 0
  for _ in 0..<repeats {
    var t0 = now()
    _ = try embedder.embed(chips, workers: threads)
    embedTimes.append((now() - t0) * 1000 / Double(chips.count))
    t0 = now()
    detections = try detector.detect(image, workers: threads).count
    detectTimes.append((now() - t0) * 1000)
  }
  func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
  let out: [String: Any] = [
    "engine": "anomalykit", "threads": threads, "chips": chips.count, "image": [image.width, image.height],
    "embed_ms_per_chip_median": median(embedTimes), "embed_ms_per_chip_best": embedTimes.min() ?? 0,
    "detect_ms_median": median(detectTimes), "detect_ms_best": detectTimes.min() ?? 0, "detections": detections,
  ]
  let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
  print(String(decoding: data, as: UTF8.self))
}
