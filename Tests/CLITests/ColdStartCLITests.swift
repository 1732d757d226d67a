import Foundation
import TensorFiles
import Testing

/// `adapt`, `score --detector` and `coldstart eval` end to end, with the
/// cold-start bad inputs.
@Suite("CLI: cold start")
struct ColdStartCLITests {
  static let descriptions = """
    {"activate card": "How can I activate my new card?",
     "exchange rate": "What exchange rate do you use for foreign currencies?",
     "lost card": "My card was lost or stolen, what should I do?"}
    """

  static let normals = [
    "how do i activate my card", "I received my card, how do I start using it?", "activate the new card please",
    "what is your exchange rate for euros", "which rate do you use to exchange dollars", "is the exchange rate fixed?",
    "someone stole my card", "I lost my card yesterday", "my wallet with the card was stolen, block it",
    "can I activate my card online", "how are exchange rates calculated", "lost card, need a new one",
  ]
  static let anomalies = ["what is the weather like in Paris", "recommend a good pizza recipe"]

  func makeDataset(_ dir: String) throws {
    let fm = FileManager.default
    for sub in ["train", "test", "id-oos/valid", "id-oos/test"] {
      try fm.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
    }
    try Self.descriptions.write(toFile: dir + "/descriptions.json", atomically: true, encoding: .utf8)
    try (Self.normals.joined(separator: "\n") + "\n").write(toFile: dir + "/train/seq.in", atomically: true, encoding: .utf8)
    try (Self.normals.prefix(6).map { $0 + "?" }.joined(separator: "\n") + "\n").write(toFile: dir + "/test/seq.in", atomically: true, encoding: .utf8)
    try ["tell me a joke", "book a flight to Rome", "what time is it"].joined(separator: "\n").write(
      toFile: dir + "/id-oos/valid/seq.in", atomically: true, encoding: .utf8)
    try ["play some music", "how tall is mount everest", "order a taxi"].joined(separator: "\n").write(
      toFile: dir + "/id-oos/test/seq.in", atomically: true, encoding: .utf8)
  }

  @Test("adapt builds, updates in place and scores a text detector")
  func textDetectorRoundTrip() throws {
    let dir = try CLIRunner.temporaryFolder()
    let descriptions = dir + "/d.json"
    let detector = dir + "/det.safetensors"
    try Self.descriptions.write(toFile: descriptions, atomically: true, encoding: .utf8)
    let observations = dir + "/obs.txt"
    try ((Self.normals + Self.normals + Self.anomalies).joined(separator: "\n") + "\n\n").write(toFile: observations, atomically: true, encoding: .utf8)

    let zeroShot = try CLIRunner.run(["adapt", "--descriptions", descriptions, "--out", detector])
    #expect(zeroShot.status == 0, "\(zeroShot.stderr)")
    #expect(zeroShot.stdout.contains("3 prototypes, 0 observations"), "\(zeroShot.stdout)")

    let update = try CLIRunner.run(["adapt", "--detector", detector, "--observations", observations])
    #expect(update.status == 0, "\(update.stderr)")
    #expect(update.stderr.contains("skipped 1 blank line"), "\(update.stderr)")
    #expect(update.stdout.contains("26 observations"), "\(update.stdout)")
    let file = try SafeTensorsFile(path: detector)
    #expect(file.metadata["format"] == "detector")
    #expect(file.metadata["observations"] == "26")
    #expect(try file.info("observations").shape == [26, 384])

    let second = try CLIRunner.run(["adapt", "--detector", detector, "--observations", observations])
    #expect(second.stdout.contains("52 observations"), "\(second.stdout)")

    let score = try CLIRunner.run(["score", "--detector", detector, "I want to activate my card", "what is the weather like in Paris", "--json"])
    #expect(score.status == 0, "\(score.stderr)")
    #expect(score.stdout.hasPrefix("[{\"text\":\"I want to activate my card\""), "\(score.stdout)")
    #expect(score.stdout.contains("\"class\":\"activate card\""))
    let scores = score.stdout.components(separatedBy: "\"score\":").dropFirst().compactMap { Double($0.prefix { $0 != "," }) }
    #expect(scores.count == 2 && scores[0] < scores[1], "\(score.stdout)")
    #expect(score.stdout.contains("\"anomalous\":true"))
  }

  @Test("coldstart eval runs the protocol and prints the JSON summary")
  func evalPrintsJSON() throws {
    let dir = try CLIRunner.temporaryFolder()
    try makeDataset(dir)
    let r = try CLIRunner.run(["coldstart", "eval", dir, "--contamination", "0.25", "--seeds", "2", "--json", "--curves", dir + "/curves.csv", "--plot", dir + "/curves.png"])
    #expect(r.status == 0, "\(r.stderr)")
    guard case .object(let top)? = try? JSONValue.parse(r.stdout), let datasets = top.first(where: { $0.0 == "datasets" })?.1,
      case .array(let entries) = datasets, entries.count == 1, let methods = entries[0]["methods"]
    else {
      Issue.record("not the expected JSON: \(r.stdout)")
      return
    }
    #expect(top.first?.0 == "configuration")
    #expect(entries[0]["seeds"] != nil)
    for m in ["zs", "dn2", "coldfusion", "predictive"] {
      let auc = methods[m]?["auc@10"]
      guard case .number(let v)? = auc else {
        Issue.record("\(m) has no auc@10 in \(r.stdout)")
        continue
      }
      #expect(v >= 0 && v <= 1)
      #expect(methods[m]?["std"]?["auc@100"] != nil)
    }
    let curves = try String(contentsOfFile: dir + "/curves.csv", encoding: .utf8)
    let name = (dir as NSString).lastPathComponent
    #expect(curves.hasPrefix("dataset,step,zs,dn2,coldfusion,predictive,fused\n\(name),1,"), "\(curves.prefix(80))")
    #expect(curves.split(separator: "\n").count == 1 + 12 + 3)  // header + 12 normals + round(0.25·12) anomalies
    let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/curves.png"))
    #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 2000)
  }

  @Test("coldstart eval over several datasets prints a row each, the mean with its interval, and the worst")
  func evalManyDatasets() throws {
    let root = try CLIRunner.temporaryFolder()
    let a = root + "/alpha"
    let b = root + "/beta"
    try makeDataset(a)
    try makeDataset(b)
    // beta's guidance is the class names alone, in names.json.
    try "{\"activate card\": \"activate card\", \"exchange rate\": \"exchange rate\", \"lost card\": \"lost card\"}".write(
      toFile: a + "/names.json", atomically: true, encoding: .utf8)
    try FileManager.default.copyItem(atPath: a + "/names.json", toPath: b + "/names.json")
    let r = try CLIRunner.run(["coldstart", "eval", a, b, "--descriptions-file", "names.json", "--contamination", "0.25", "--seeds", "2",
      "--method", "zs,predictive", "--cache", root + "/cache", "--plot", root + "/panels.png"])
    #expect(r.status == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    #expect(lines.first?.contains("2 dataset(s), guidance names.json") == true, "\(r.stdout)")
    #expect(lines.contains { $0.hasPrefix("alpha ") } && lines.contains { $0.hasPrefix("beta ") }, "\(r.stdout)")
    #expect(lines.contains { $0.hasPrefix("mean ± 95% CI") } && lines.contains { $0.hasPrefix("worst ") }, "\(r.stdout)")
    #expect(FileManager.default.fileExists(atPath: root + "/cache/alpha.names.safetensors"))
    let png = try Data(contentsOf: URL(fileURLWithPath: root + "/panels.png"))
    #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))

    // The same run as JSON: the summary's mean is the mean of the rows, and the worst is the smaller.
    let j = try CLIRunner.run(["coldstart", "eval", a, b, "--descriptions-file", "names.json", "--contamination", "0.25", "--seeds", "2",
      "--method", "zs,predictive", "--cache", root + "/cache", "--json"])
    #expect(j.status == 0, "\(j.stderr)")
    let doc = try JSONValue.parse(j.stdout)
    guard case .array(let entries)? = doc["datasets"], entries.count == 2,
      case .number(let v0)? = entries[0]["methods"]?["predictive"]?["auc@10"], case .number(let v1)? = entries[1]["methods"]?["predictive"]?["auc@10"],
      case .number(let mean)? = doc["summary"]?["predictive"]?["auc@10"]?["mean"], case .number(let worst)? = doc["summary"]?["predictive"]?["auc@10"]?["worst"]
    else {
      Issue.record("unexpected JSON: \(j.stdout)")
      return
    }
    #expect(abs(mean - (v0 + v1) / 2) < 1e-12 && worst == min(v0, v1))
    // Both folders hold the same texts, so zero-shot agrees exactly.
    #expect(entries[0]["methods"]?["zs"]?["auc@10"] == entries[1]["methods"]?["zs"]?["auc@10"])
  }

  @Test("dataset folders: a missing split or guidance file is named, empty names.json is an error, unknown classes a warning")
  func datasetBadInputs() throws {
    let root = try CLIRunner.temporaryFolder()
    let d = root + "/d"
    try makeDataset(d)
    try FileManager.default.removeItem(atPath: d + "/id-oos/valid/seq.in")
    let missing = try CLIRunner.run(["coldstart", "eval", d])
    #expect(missing.status == 1 && missing.stderr.contains("\(d): not a cold-start dataset: missing id-oos/valid/seq.in"), "\(missing.stderr)")
    try makeDataset(d)
    let noNames = try CLIRunner.run(["coldstart", "eval", d, "--descriptions-file", "names.json"])
    #expect(noNames.status == 1 && noNames.stderr.contains("missing names.json"), "\(noNames.stderr)")
    try "{}".write(toFile: d + "/names.json", atomically: true, encoding: .utf8)
    let emptyNames = try CLIRunner.run(["coldstart", "eval", d, "--descriptions-file", "names.json"])
    #expect(emptyNames.status == 1 && emptyNames.stderr.contains("names.json: no descriptions"), "\(emptyNames.stderr)")
    // train/label names the normal classes; guidance for a class it never uses is suspicious, not fatal.
    try (Array(repeating: "activate_card", count: 6) + Array(repeating: "exchange_rate", count: 6)).joined(separator: "\n")
      .write(toFile: d + "/train/label", atomically: true, encoding: .utf8)
    let unknown = try CLIRunner.run(["coldstart", "eval", d, "--method", "zs"])
    #expect(unknown.status == 0, "\(unknown.stderr)")
    #expect(unknown.stderr.contains("descriptions.json: 1 class(es) never used in train/label: lost card"), "\(unknown.stderr)")
  }

  @Test("adapt --class-names builds a detector from the names alone, from a list or a names file")
  func classNames() throws {
    let dir = try CLIRunner.temporaryFolder()
    let fromList = dir + "/list.safetensors"
    let r = try CLIRunner.run(["adapt", "--class-names", "activate_card, exchange_rate,lost_card", "--out", fromList])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("3 prototypes") && r.stdout.contains("metric cosine"), "\(r.stdout)")
    let file = try SafeTensorsFile(path: fromList)
    #expect(file.metadata["classes"] == "[\"activate_card\",\"exchange_rate\",\"lost_card\"]", "\(file.metadata)")
    #expect(file.metadata["guidance"] == "class names")
    // A names file gives the same prototypes as the list (underscores read as spaces).
    try "{\"activate_card\": \"activate card\", \"exchange_rate\": \"exchange rate\", \"lost_card\": \"lost card\"}".write(
      toFile: dir + "/names.json", atomically: true, encoding: .utf8)
    let fromFile = dir + "/file.safetensors"
    #expect(try CLIRunner.run(["adapt", "--class-names", dir + "/names.json", "--out", fromFile]).status == 0)
    #expect(try SafeTensorsFile(path: fromFile).floats("prototypes.original") == (try file.floats("prototypes.original")))
    let score = try CLIRunner.run(["score", "--detector", fromList, "I lost my card", "--json"])
    #expect(score.status == 0 && score.stdout.contains("\"class\":\"lost_card\""), "\(score.stdout)")
    let empty = try CLIRunner.run(["adapt", "--class-names", " , ", "--out", dir + "/e.safetensors"])
    #expect(empty.status == 1 && empty.stderr.contains("--class-names: no class names"), "\(empty.stderr)")
    let both = try CLIRunner.run(["adapt", "--class-names", "a", "--descriptions", dir + "/names.json", "--out", dir + "/x.safetensors"])
    #expect(both.status == 2)
  }

  @Test("an image detector from ImageNet classes adapts to a folder and scores images")
  func imageDetector() throws {
    let dir = try CLIRunner.temporaryFolder()
    let detector = dir + "/det.safetensors"
    let demo = CLIRunner.repositoryRoot + "/Examples/demo"
    let adapt = try CLIRunner.run(["adapt", "--imagenet-classes", "stone wall,825", "--observations", demo + "/normal", "--out", detector, "--resize", "stretch"])
    #expect(adapt.status == 0, "\(adapt.stderr)")
    #expect(adapt.stdout.contains("image detector, 2 prototypes, 10 observations, rule fused, metric cosine"), "\(adapt.stdout)")
    let score = try CLIRunner.run(["score", "--detector", detector, demo + "/test", "--csv"])
    #expect(score.status == 0, "\(score.stderr)")
    #expect(score.stdout.hasPrefix("path,score,anomalous,class\n"))
    #expect(score.stdout.contains("stone wall"))
    let unknown = try CLIRunner.run(["adapt", "--imagenet-classes", "unicorn", "--out", dir + "/x.safetensors"])
    #expect(unknown.status == 1 && unknown.stderr.contains("unknown class 'unicorn'"), "\(unknown.stderr)")
  }

  @Test("texts come from standard input ('-'), pipes and process substitution as from files")
  func textStreams() throws {
    let dir = try CLIRunner.temporaryFolder()
    let descriptions = dir + "/d.json"
    try Self.descriptions.write(toFile: descriptions, atomically: true, encoding: .utf8)
    let viaFile = dir + "/file.safetensors"
    let observations = dir + "/obs.txt"
    try (Self.normals + Self.anomalies).joined(separator: "\n").write(toFile: observations, atomically: true, encoding: .utf8)
    let fromFile = try CLIRunner.run(["adapt", "--descriptions", descriptions, "--observations", observations, "--out", viaFile])
    #expect(fromFile.status == 0, "\(fromFile.stderr)")

    // --observations - and --descriptions <(cat …) give the same detector bytes as the files.
    let viaStdin = dir + "/stdin.safetensors"
    let stdin = try CLIRunner.run(
      ["adapt", "--descriptions", descriptions, "--observations", "-", "--out", viaStdin],
      stdin: (Self.normals + Self.anomalies).joined(separator: "\n"))
    #expect(stdin.status == 0, "\(stdin.stderr)")
    let viaPipe = dir + "/pipe.safetensors"
    let pipe = try CLIRunner.runShell(
      "anomalykit adapt --descriptions <(cat '\(descriptions)') --observations <(grep -v '^$' '\(observations)') --out '\(viaPipe)'")
    #expect(pipe.status == 0, "\(pipe.stderr)")
    let reference = try SafeTensorsFile(path: viaFile)
    for other in [viaStdin, viaPipe] {
      let file = try SafeTensorsFile(path: other)
      #expect(try file.floats("observations") == (try reference.floats("observations")), "\(other)")
      #expect(try file.floats("prototypes.adapted") == (try reference.floats("prototypes.adapted")), "\(other)")
    }

    // score --text-file - reads the queries from standard input, and names it in messages.
    let scored = try CLIRunner.run(["score", "--detector", viaFile, "--text-file", "-", "--json"], stdin: "activate my card\n\nwhat is the weather\n")
    #expect(scored.status == 0, "\(scored.stderr)")
    #expect(scored.stdout.contains("\"text\":\"activate my card\"") && scored.stdout.contains("\"text\":\"what is the weather\""))
    #expect(scored.stderr.contains("(standard input): skipped 1 blank line"), "\(scored.stderr)")

    // A stream obeys the text limits while it is read.
    let long = try CLIRunner.run(
      ["score", "--detector", viaFile, "--text-file", "-", "--max-text-bytes", "1K"], stdin: String(repeating: "card ", count: 1000))
    #expect(long.status == 1 && long.stderr.contains("(standard input):1: text is"), "\(long.stderr)")
    let big = try CLIRunner.run(
      ["score", "--detector", viaFile, "--text-file", "-", "--max-stream-bytes", "1K"],
      stdin: String(repeating: "activate my card\n", count: 200))
    #expect(big.status == 1 && big.stderr.contains("--max-stream-bytes"), "\(big.stderr)")
  }

  @Test("bad descriptions, bad text and foreign detectors get clear errors")
  func badInputs() throws {
    let dir = try CLIRunner.temporaryFolder()
    let out = dir + "/det.safetensors"
    func adapt(_ descriptions: String, _ extra: [String] = []) throws -> CLIRunner.Result {
      try CLIRunner.run(["adapt", "--descriptions", descriptions, "--out", out] + extra)
    }
    let missing = try adapt(dir + "/none.json")
    #expect(missing.status == 1 && missing.stderr.contains("none.json: cannot read: no such file"), "\(missing.stderr)")
    try "{}".write(toFile: dir + "/empty.json", atomically: true, encoding: .utf8)
    let empty = try adapt(dir + "/empty.json")
    #expect(empty.status == 1 && empty.stderr.contains("empty.json: no descriptions"), "\(empty.stderr)")
    try "".write(toFile: dir + "/empty.txt", atomically: true, encoding: .utf8)
    let emptyText = try adapt(dir + "/empty.txt")
    #expect(emptyText.status == 1 && emptyText.stderr.contains("empty.txt: no descriptions"), "\(emptyText.stderr)")
    try "{\"a\": \"fine\", \"b\": \"   \"}".write(toFile: dir + "/blank.json", atomically: true, encoding: .utf8)
    let blank = try adapt(dir + "/blank.json")
    #expect(blank.status == 1 && blank.stderr.contains("class 'b' has an empty description"), "\(blank.stderr)")
    try "{\"a\": \"x\"".write(toFile: dir + "/broken.json", atomically: true, encoding: .utf8)
    let broken = try adapt(dir + "/broken.json")
    #expect(broken.status == 1 && broken.stderr.contains("broken.json: invalid descriptions: not valid JSON"), "\(broken.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))

    // Invalid UTF-8 in observations names the file and line; nothing is written.
    try Self.descriptions.write(toFile: dir + "/d.json", atomically: true, encoding: .utf8)
    try CLIRunner.write(Array("fine\n".utf8) + [0x61, 0xFF, 0xFE, 0x0A], to: dir + "/bad.txt")
    let utf8 = try adapt(dir + "/d.json", ["--observations", dir + "/bad.txt"])
    #expect(utf8.status == 1 && utf8.stderr.contains("bad.txt:2: text is not valid UTF-8"), "\(utf8.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))

    // An over-long observation is truncated with a warning.
    let long = Array(repeating: "card", count: 400).joined(separator: " ")
    try (long + "\nactivate my card\n").write(toFile: dir + "/long.txt", atomically: true, encoding: .utf8)
    let truncated = try adapt(dir + "/d.json", ["--observations", dir + "/long.txt"])
    #expect(truncated.status == 0, "\(truncated.stderr)")
    #expect(truncated.stderr.contains("long.txt:1: text is longer than 256 tokens"), "\(truncated.stderr)")

    // An empty text argument is scored with a warning.
    let emptyArgument = try CLIRunner.run(["score", "--detector", out, ""])
    #expect(emptyArgument.status == 0 && emptyArgument.stderr.contains("argument 1: empty text"), "\(emptyArgument.stderr)")

    // A detector made with other weights is refused.
    let file = try SafeTensorsFile(path: out)
    var meta = file.metadata
    meta["weights_sha256"] = String(repeating: "0", count: 64)
    var writer = SafeTensorsWriter(metadata: meta)
    for name in file.names { try writer.add(name, floats: try file.floats(name), shape: try file.info(name).shape) }
    let foreign = dir + "/foreign.safetensors"
    try writer.write(to: foreign)
    let refused = try CLIRunner.run(["score", "--detector", foreign, "activate my card"])
    #expect(refused.status == 1 && refused.stderr.contains("detector was made with other text weights"), "\(refused.stderr)")

    // A bank is not a detector, and a detector is not a bank.
    let notDetector = try CLIRunner.run(["score", "--detector", CLIRunner.weights, "hello"])
    #expect(notDetector.status == 1 && notDetector.stderr.contains("expected 'detector'"), "\(notDetector.stderr)")
    let notBank = try CLIRunner.run(["score", "--bank", out, CLIRunner.repositoryRoot + "/Examples/demo/test"])
    #expect(notBank.status == 1 && notBank.stderr.contains("expected 'bank'"), "\(notBank.stderr)")

    // Paths given to a text detector are refused, pointing to --text-file,
    // instead of being embedded as the strings "….png" and "…/".
    let paths = try CLIRunner.run(["score", "--detector", out, CLIRunner.repositoryRoot + "/Examples/demo/test/ok_0.png", dir])
    #expect(paths.status == 1 && paths.stdout.isEmpty, "\(paths.stdout)")
    #expect(paths.stderr.contains("a text detector scores texts") && paths.stderr.contains("--text-file"), "\(paths.stderr)")
    // One real text among the arguments is a text query, and is scored.
    let mixed = try CLIRunner.run(["score", "--detector", out, dir, "activate my card"])
    #expect(mixed.status == 0, "\(mixed.stderr)")

    // Both sources at once is a usage error.
    let both = try CLIRunner.run(["adapt", "--descriptions", dir + "/d.json", "--detector", out])
    #expect(both.status == 2)
  }
}
