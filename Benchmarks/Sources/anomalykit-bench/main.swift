// anomalykit-bench: throughput measurements for Notebooks-export/performance.md.
//
//   anomalykit-bench features WEIGHTS IMAGE... [--batch 32] [--threads 2] [--seconds 20] [--precision fp32|bf16|int8]
//   anomalykit-bench sgemm [--size 2048] [--threads 2]
//   anomalykit-bench text WEIGHTS SENTENCES.txt [--threads 2] [--repeats 5] [--embeddings-out RAW.npy] [--precision fp32|bf16|int8]
//   anomalykit-bench landmarks WEIGHTS FACES.txt [--repeats 5] [--chips-out DIR]
//   anomalykit-bench faces RESNET MMOD IMAGE CHIP... [--threads 2] [--repeats 5]
//   anomalykit-bench tiny-ladeda WEIGHTS IMAGE... [--count 64] [--threads 2] [--repeats 5] [--logits-out L.npy]
//   anomalykit-bench coreset WEIGHTS IMAGE... [--fraction 0.1] [--input-size 224]
//
// Prints one JSON object per run on stdout. The Python drivers in
// Notebooks-export/scripts run this and the peers in the same session.
import CBLAS
import Density
import FeatureExtraction
import Foundation
import OODFront
import ParallelCompute
import TensorFiles

func option(_ name: String, _ fallback: Double) -> Double {
  let args = CommandLine.arguments
  if let i = args.firstIndex(of: name), i + 1 < args.count, let v = Double(args[i + 1]) { return v }
  return fallback
}

/// `--precision` (default fp32); exits 2 on an unknown value.
func precisionOption() -> ComputePrecision {
  let args = CommandLine.arguments
  guard let i = args.firstIndex(of: "--precision"), i + 1 < args.count else { return .fp32 }
  guard let p = ComputePrecision(rawValue: args[i + 1]) else {
    FileHandle.standardError.write(Data("--precision must be fp32, bf16 or int8\n".utf8))
    exit(2)
  }
  return p
}

func positional() -> [String] {
  var out: [String] = []
  var skip = false
  for a in CommandLine.arguments.dropFirst(2) {
    if skip { skip = false; continue }
    if a.hasPrefix("--") { skip = true; continue }
    out.append(a)
  }
  return out
}

func now() -> Double { Date().timeIntervalSinceReferenceDate }

/// CPU seconds used by all threads of this process so far. On a shared
/// machine this measures the work done, whatever share of the cores the
/// process got.
func processCPUSeconds() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
  return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// GFLOP/s of one `n×n×n` sgemm with OpenBLAS on `threads` threads (the
/// roofline reference), best of several runs.
func sgemmPeak(n: Int, threads: Int) -> Double {
  openblas_set_num_threads(Int32(threads))
  defer { openblas_set_num_threads(1) }
  let a = [Float](repeating: 0.5, count: n * n)
  let b = [Float](repeating: 0.25, count: n * n)
  var c = [Float](repeating: 0, count: n * n)
  var best = Double.infinity
  for _ in 0..<5 {
    let t0 = now()
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
    best = min(best, now() - t0)
  }
  return 2 * pow(Double(n), 3) / best / 1e9
}

func features() throws {
  let args = positional()
  guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: anomalykit-bench features WEIGHTS IMAGE...\n".utf8))
    exit(2)
  }
  let batch = Int(option("--batch", 32))
  let threads = Int(option("--threads", 2))
  let seconds = option("--seconds", 20)
  let precision = precisionOption()
  var model = try EfficientNetLite(path: args[0], precision: precision == .int8 ? .fp32 : precision)
  let pre = Preprocessor(inputSize: model.inputSize)
  let images = try args.dropFirst().map { try ImageDecoder.decode(path: $0) }
  var input: [Float] = []
  for i in 0..<batch { input += pre.tensor(images[i % images.count]) }
  // int8 calibrates on the images it is timed on (min/max per 1×1 input).
  if precision == .int8 { model = try model.calibratedInt8(on: input, count: batch, workers: threads) }
  _ = model.forward(input, count: batch, layers: [.pooled], workers: threads)  // warm-up
  var runs = 0
  var times: [Double] = []
  let start = now()
  while now() - start < seconds || runs < 3 {
    let t0 = now()
    _ = model.forward(input, count: batch, layers: [.pooled], workers: threads)
    times.append(now() - t0)
    runs += 1
  }
  times.sort()
  let median = times[times.count / 2]
  let flops = 2.0 * Double(model.multiplyAccumulates)
  let imagesPerSecond = Double(batch) / median
  let json: [String: Any] = [
    "engine": "anomalykit", "model": model.architecture, "precision": model.precision.rawValue,
    "kernels": KernelPath.active.rawValue, "batch": batch,
    "threads": threads, "runs": runs,
    "median_batch_seconds": median, "images_per_second": imagesPerSecond,
    "gflop_per_image": flops / 1e9, "achieved_gflops": imagesPerSecond * flops / 1e9,
  ]
  let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
  print(String(decoding: data, as: UTF8.self))
}

/// Text-encoder throughput: `anomalykit-bench text WEIGHTS SENTENCES.txt`
/// (one sentence a line). Times `MiniLMEncoder.encode` end to end
/// (tokenising included) over all the sentences with `--threads` workers,
/// after one warm-up pass; reports the median of `--repeats` runs, and the
/// median CPU seconds of the process per run (the work done, which a busy
/// machine does not inflate as it does wall-clock time).
/// `--embeddings-out` writes the raw (pooled, unnormalised) embeddings of
/// the warm-up pass as `.npy`, for a parity check by the caller.
///
/// GFLOP counts the linear layers only, a multiply-add as 2 FLOPs:
/// `2 · L · (4d² + 2·d·d_ff)` per token (21.2 MFLOP for all-MiniLM-L6-v2).
/// Attention scores and context add `4·T·d` per token and layer (about 1%
/// at T ≈ 16) and are left out.
func text() throws {
  let args = positional()
  guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: anomalykit-bench text WEIGHTS SENTENCES.txt\n".utf8))
    exit(2)
  }
  let threads = Int(option("--threads", 2))
  let repeats = max(1, Int(option("--repeats", 5)))
  let encoder = try MiniLMEncoder(path: args[0], precision: precisionOption())
  let contents = try String(contentsOfFile: args[1], encoding: .utf8)
  var sentences = contents.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  if sentences.last == "" { sentences.removeLast() }
  guard !sentences.isEmpty else {
    FileHandle.standardError.write(Data("text: no sentences in \(args[1])\n".utf8))
    exit(1)
  }
  let tokens = sentences.reduce(0) { $0 + encoder.tokenizer.encode($1).count }
  let warmUp = encoder.encode(sentences, workers: threads)
  if let i = CommandLine.arguments.firstIndex(of: "--embeddings-out"), i + 1 < CommandLine.arguments.count {
    try NPYFile.write(rows: sentences.count, columns: warmUp.dimension, values: warmUp.raw, to: CommandLine.arguments[i + 1])
  }
  var times: [Double] = []
  var cpuTimes: [Double] = []
  for _ in 0..<repeats {
    let t0 = now()
    let c0 = processCPUSeconds()
    _ = encoder.encode(sentences, workers: threads)
    times.append(now() - t0)
    cpuTimes.append(processCPUSeconds() - c0)
  }
  let median = times.sorted()[times.count / 2]
  let cpuMedian = cpuTimes.sorted()[cpuTimes.count / 2]
  let d = Double(encoder.dimension)
  let flopPerToken = 2 * Double(encoder.layerCount) * (4 * d * d + 2 * d * Double(encoder.intermediateSize))
  let json: [String: Any] = [
    "engine": "anomalykit", "model": "all-MiniLM-L6-v2", "precision": encoder.precision.rawValue,
    "kernels": KernelPath.active.rawValue, "sentences": sentences.count, "tokens": tokens,
    "mean_tokens_per_sentence": Double(tokens) / Double(sentences.count), "threads": threads, "repeats": repeats,
    "seconds": times, "median_seconds": median, "sentences_per_second": Double(sentences.count) / median,
    "tokens_per_second": Double(tokens) / median, "gflop_per_token": flopPerToken / 1e9,
    "achieved_gflops": Double(tokens) * flopPerToken / median / 1e9,
    "cpu_seconds": cpuTimes, "median_cpu_seconds": cpuMedian,
    "gflops_per_cpu_second": Double(tokens) * flopPerToken / cpuMedian / 1e9,
  ]
  let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
  print(String(decoding: data, as: UTF8.self))
}

/// Exact kNN throughput: `anomalykit-bench knn BANK.npy QUERIES.npy [--k 2] [--threads 2]`.
/// Times `NearestNeighbors.search` alone (inputs already in memory), best of
/// `--repeats` runs, and reports queries/s and the GEMM rate.
func knn() throws {
  let args = positional()
  guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: anomalykit-bench knn BANK.npy QUERIES.npy\n".utf8))
    exit(2)
  }
  let k = Int(option("--k", 2))
  let threads = Int(option("--threads", 2))
  let repeats = Int(option("--repeats", 3))
  let bank = try NPYFile.read(path: args[0])
  let queries = try NPYFile.read(path: args[1])
  guard bank.rows >= k, queries.rows > 0, bank.columns == queries.columns else {
    FileHandle.standardError.write(Data("knn: need a bank of at least k rows and queries of the same width\n".utf8))
    exit(1)
  }
  let search = NearestNeighbors(queryBlock: Int(option("--query-block", 1024)), bankBlock: Int(option("--bank-block", 4096)), workers: threads)
  if CommandLine.arguments.contains("--bank-dtype") {
    // A bank stored in bfloat16 (`fit --bank-dtype bf16`): timed through
    // `ReferenceBank.neighbours`, which rounds the queries, searches on BF16
    // dot products and re-ranks in float32.
    var reference = try ReferenceBank(
      fitting: FeatureMatrix(rows: bank.rows, columns: bank.columns, values: bank.values), scorer: .knn, k: k
    ).storing(.bf16)
    reference.search = search
    let q = FeatureMatrix(rows: queries.rows, columns: queries.columns, values: queries.values)
    var best = Double.infinity
    var first: NeighbourList?
    for _ in 0..<repeats {
      let t0 = now()
      let r = try reference.neighbours(q)
      best = min(best, now() - t0)
      if first == nil { first = r }
    }
    if let out = CommandLine.arguments.firstIndex(of: "--distances-out").map({ CommandLine.arguments[$0 + 1] }), let first {
      try NPYFile.write(rows: queries.rows, columns: k, values: first.distances, to: out)
      try NPYFile.write(rows: queries.rows, columns: k, int64: first.rows, to: out.replacingOccurrences(of: ".npy", with: ".rows.npy"))
    }
    let flops = 2.0 * Double(queries.rows) * Double(bank.rows) * Double(bank.columns)
    let json: [String: Any] = [
      "engine": "anomalykit", "bank_dtype": "bf16", "bank_rows": bank.rows, "dimension": bank.columns, "queries": queries.rows,
      "k": k, "threads": threads, "best_seconds": best, "queries_per_second": Double(queries.rows) / best,
      "gemm_gflops": flops / best / 1e9, "rerank_candidates": search.rerankCandidates,
    ]
    print(String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self))
    return
  }
  let norms = bank.values.withUnsafeBufferPointer { NearestNeighbors.squaredNorms($0.baseAddress!, rows: bank.rows, columns: bank.columns) }
  var best = Double.infinity
  var first: [Float] = []
  var firstRows: [Int32] = []
  for _ in 0..<repeats {
    let t0 = now()
    let r = bank.values.withUnsafeBufferPointer { b in
      norms.withUnsafeBufferPointer { n in
        queries.values.withUnsafeBufferPointer { q in
          search.search(
            queries: q.baseAddress!, queryRows: queries.rows, bank: b.baseAddress!, bankRows: bank.rows, bankNorms: n.baseAddress!,
            dimension: bank.columns, k: k)
        }
      }
    }
    best = min(best, now() - t0)
    if first.isEmpty {
      first = r.distances
      firstRows = r.indices
    }
  }
  if let out = CommandLine.arguments.firstIndex(of: "--distances-out").map({ CommandLine.arguments[$0 + 1] }) {
    try NPYFile.write(rows: queries.rows, columns: k, values: first, to: out)
    if !firstRows.isEmpty {
      try NPYFile.write(rows: queries.rows, columns: k, int64: firstRows.map(Int64.init), to: out.replacingOccurrences(of: ".npy", with: ".rows.npy"))
    }
  }
  let flops = 2.0 * Double(queries.rows) * Double(bank.rows) * Double(bank.columns)
  let json: [String: Any] = [
    "engine": "anomalykit", "bank_rows": bank.rows, "dimension": bank.columns, "queries": queries.rows, "k": k,
    "threads": threads, "best_seconds": best, "queries_per_second": Double(queries.rows) / best, "gemm_gflops": flops / best / 1e9,
  ]
  let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
  print(String(decoding: data, as: UTF8.self))
}

/// Face alignment latency: `anomalykit-bench landmarks WEIGHTS FACES.txt`,
/// where each line of FACES.txt is `IMAGE LEFT TOP RIGHT BOTTOM` (a face box,
/// dlib's inclusive corners). Images are decoded first; then, `--repeats`
/// times, every face runs `ShapePredictor.landmarks` and `FaceChip.extract`
/// (150 × 150, padding 0.25) on one thread, each timed on its own. Reports
/// the median over repeats of the mean time per face. With `--chips-out DIR`
/// the chips of the first pass are written there as `N.png` and the
/// landmarks go into the JSON, for a parity check by the caller.
func landmarks() throws {
  let args = positional()
  guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: anomalykit-bench landmarks WEIGHTS FACES.txt\n".utf8))
    exit(2)
  }
  let repeats = max(1, Int(option("--repeats", 5)))
  let predictor = try ShapePredictor(path: args[0])
  var images: [String: RGBImage] = [:]
  var faces: [(String, FaceRect)] = []
  for line in try String(contentsOfFile: args[1], encoding: .utf8).split(separator: "\n") {
    let f = line.split(separator: " ").map(String.init)
    guard f.count == 5, let l = Int(f[1]), let t = Int(f[2]), let r = Int(f[3]), let b = Int(f[4]) else {
      FileHandle.standardError.write(Data("landmarks: bad line in \(args[1]): \(line)\n".utf8))
      exit(1)
    }
    if images[f[0]] == nil { images[f[0]] = try ImageDecoder.decode(path: f[0]) }
    faces.append((f[0], FaceRect(left: l, top: t, right: r, bottom: b)))
  }
  var landmarkTimes: [Double] = [], chipTimes: [Double] = []
  var firstPoints: [[[Double]]] = []
  let chipsOut = CommandLine.arguments.firstIndex(of: "--chips-out").map { CommandLine.arguments[$0 + 1] }
  for pass in 0...repeats {  // pass 0 is the warm-up
    var tl = 0.0, tc = 0.0
    for (i, (path, box)) in faces.enumerated() {
      let image = images[path]!
      let t0 = now()
      let points = try predictor.landmarks(in: image, box: box)
      let t1 = now()
      let chip = try FaceChip.extract(from: image, landmarks: points)
      tc += now() - t1
      tl += t1 - t0
      if pass == 0 {
        firstPoints.append(points.map { [$0.x, $0.y] })
        if let dir = chipsOut { try ImageEncoder.writePNG(chip, to: dir + "/\(i).png") }
      }
    }
    if pass > 0 {
      landmarkTimes.append(tl / Double(faces.count))
      chipTimes.append(tc / Double(faces.count))
    }
  }
  let json: [String: Any] = [
    "engine": "anomalykit", "faces": faces.count, "images": images.count, "repeats": repeats, "threads": 1,
    "landmarks_seconds_per_face": landmarkTimes, "chip_seconds_per_face": chipTimes,
    "median_landmarks_seconds_per_face": landmarkTimes.sorted()[repeats / 2],
    "median_chip_seconds_per_face": chipTimes.sorted()[repeats / 2],
    "landmarks": firstPoints,
  ]
  let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
  print(String(decoding: data, as: UTF8.self))
}

/// Tiny-LaDeDa throughput: `anomalykit-bench tiny-ladeda WEIGHTS IMAGE...`.
/// Scores `--count` decoded images (the given ones repeated) with
/// `TinyLaDeDa.score(images:workers:)`: normalisation, forward pass and the
/// mean patch logit, decoding excluded (the images are decoded once,
/// before timing; inputs already at the model's size are not resampled).
/// Reports the median of `--repeats` runs after a warm-up, wall-clock and
/// CPU seconds. `--logits-out` writes the warm-up run's image logits as a
/// `count × 1` .npy for a parity check by the caller.
///
/// Multiply-adds per 256×256 image: gradient filter 256²·3·6, conv1
/// 256²·24, conv2 254²·576, layer1.0.conv1 254²·64, layer1.0.conv2
/// 126²·576, fc 126²·8 (NPR: 256²·3 subtractions instead of the filter).
func tinyLaDeDa() throws {
  let args = positional()
  guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: anomalykit-bench tiny-ladeda WEIGHTS IMAGE...\n".utf8))
    exit(2)
  }
  let count = max(1, Int(option("--count", 64)))
  let threads = Int(option("--threads", 2))
  let repeats = max(1, Int(option("--repeats", 5)))
  let model = try TinyLaDeDa(path: args[0])
  let decoded = try args.dropFirst().map { try ImageDecoder.decode(path: $0) }
  let images = (0..<count).map { decoded[$0 % decoded.count] }
  let warmUp = model.score(images: images, workers: threads)
  if let i = CommandLine.arguments.firstIndex(of: "--logits-out"), i + 1 < CommandLine.arguments.count {
    try NPYFile.write(rows: count, columns: 1, values: warmUp.map(\.meanLogit), to: CommandLine.arguments[i + 1])
  }
  var times: [Double] = []
  var cpuTimes: [Double] = []
  for _ in 0..<repeats {
    let t0 = now()
    let c0 = processCPUSeconds()
    _ = model.score(images: images, workers: threads)
    times.append(now() - t0)
    cpuTimes.append(processCPUSeconds() - c0)
  }
  let median = times.sorted()[times.count / 2]
  let cpuMedian = cpuTimes.sorted()[cpuTimes.count / 2]
  let n = Double(model.inputSize), n1 = n - 2, g = Double(TinyLaDeDa.gridSize(forInput: model.inputSize))
  let macs = n * n * 3 * 6 + n * n * 24 + n1 * n1 * (576 + 64) + g * g * (576 + 8)
  let json: [String: Any] = [
    "engine": "anomalykit", "model": "tiny-ladeda", "preprocess": model.preprocess.name, "input_size": model.inputSize,
    "images": count, "threads": threads, "repeats": repeats, "seconds": times, "median_seconds": median,
    "images_per_second": Double(count) / median, "cpu_seconds": cpuTimes, "median_cpu_seconds": cpuMedian,
    "images_per_cpu_second": Double(count) / cpuMedian, "gflop_per_image": 2 * macs / 1e9,
    "achieved_gflops": Double(count) * 2 * macs / median / 1e9,
  ]
  let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
  print(String(decoding: data, as: UTF8.self))
}

switch CommandLine.arguments.dropFirst().first {
case "landmarks":
  try landmarks()
case "tiny-ladeda":
  try tinyLaDeDa()
case "knn":
  try knn()
case "features":
  try features()
case "text":
  try text()
case "faces":
  try runFaces()
case "coreset":
  try coresetBench()
case "sgemm":
  let n = Int(option("--size", 2048))
  let threads = Int(option("--threads", 2))
  let g = sgemmPeak(n: n, threads: threads)
  print("{\"engine\":\"openblas-sgemm\",\"size\":\(n),\"threads\":\(threads),\"gflops\":\(g)}")
default:
  FileHandle.standardError.write(Data("usage: anomalykit-bench features|text|faces|knn|landmarks|sgemm|tiny-ladeda|coreset …\n".utf8))
  exit(2)
}
