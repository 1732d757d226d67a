import AnomalyKit
import Density
import FeatureExtraction
import Foundation
import OODFront
import TensorFiles
import Testing

/// Paths inside the repository, found from this source file's location so
/// tests run from any working directory.
enum TestPaths {
  static let repositoryRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/FuzzRegressionTests/FuzzRegressionTests.swift
    return parts.joined(separator: "/")
  }()

  /// Inputs that made a fuzzer crash, hang or over-allocate.
  static var regressions: String { repositoryRoot + "/Tests/Fixtures/fuzz-regressions" }
  /// Hand-made variants of real files (see its README); those named
  /// `refused-*` must be refused by every loader.
  static var seeds: String { repositoryRoot + "/Tests/Fixtures/fuzz-seeds" }
  static var vocabulary: String { repositoryRoot + "/Weights/all-minilm-l6-v2.vocab.txt" }
}

/// Every input that made a fuzzer (Fuzz/, `Fuzz/run.sh`) crash, hang or
/// over-allocate, and the hand-made seeds beside them, replayed through the
/// same entry point as the fuzzer's harness: each must load or throw the
/// parser's own error naming the file, never trap. The folders are
/// `Tests/Fixtures/fuzz-regressions/<target>/` and
/// `Tests/Fixtures/fuzz-seeds/<target>/`, `<target>` as in `Fuzz/run.sh`.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
  /// Paths relative to `Tests/Fixtures`: `<root>/<target>/<file>`.
  static let cases: [String] = {
    let fm = FileManager.default
    return [TestPaths.regressions, TestPaths.seeds].flatMap { root -> [String] in
      let targets = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }
      let name = String(root.split(separator: "/").last ?? "")
      return targets.sorted().flatMap { target in
        let files = (try? fm.contentsOfDirectory(atPath: root + "/" + target)) ?? []
        return files.filter { !$0.hasPrefix(".") }.sorted().map { "\(name)/\(target)/\($0)" }
      }
    }
  }()

  static let tokenizer: WordPieceTokenizer? = try? WordPieceTokenizer(vocabularyPath: TestPaths.vocabulary)

  @Test("the regression folders hold inputs")
  func foldersAreNotEmpty() {
    #expect(!Self.cases.isEmpty, "no files under \(TestPaths.regressions) or \(TestPaths.seeds)")
  }

  @Test("each input loads or throws an error naming the file", arguments: cases)
  func replay(_ relative: String) throws {
    let parts = relative.split(separator: "/")
    let target = String(parts[1])
    let path = TestPaths.repositoryRoot + "/Tests/Fixtures/" + relative
    let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
    do {
      try Self.run(target: target, bytes: bytes, path: path)
    } catch {
      let message = "\(error)"
      #expect(message.contains(path), "\(target): the error does not name the file: \(message)")
      #expect(Self.isParserError(error), "\(target): unexpected error type \(type(of: error)): \(message)")
    }
  }

  /// The harness of `target`, with its `precondition`s as expectations.
  static func run(target: String, bytes: [UInt8], path: String) throws {
    switch target {
    case "png", "jpeg":
      let image = try ImageDecoder.decode(bytes: bytes, path: path, limits: ImageLimits(maxPixels: 1_000_000))
      #expect(image.width > 0 && image.height > 0 && image.pixels.count == image.width * image.height * 3)
    case "safetensors":
      let file = try SafeTensorsFile(mapped: MappedFile(copying: bytes, path: path))
      for name in file.names {
        let info = try file.info(name)
        #expect(try file.withRawBytes(name) { $0.count } == info.elementCount * info.dtype.size)
        switch info.dtype {
        case .f32, .f16, .bf16, .f64: #expect(try file.floats(name).count == info.elementCount)
        case .i64, .i32, .u8: #expect(try file.integers(name).count == info.elementCount)
        }
      }
    case "npy":
      let matrix = try bytes.withUnsafeBytes { try NPYFile.read(bytes: $0, path: path) }
      #expect(matrix.values.count == matrix.rows * matrix.columns)
    case "json":
      // JSON errors carry a byte offset, not a path: name the file here.
      do {
        let value = try JSONValue.parse(bytes)
        #expect(try JSONValue.parse(value.serialized) == value)
      } catch let error as JSONParseError {
        throw TextInputError.invalidDescriptions(path: path, reason: error.description)
      }
    case "descriptions":
      let descriptions = try ClassDescriptions.read(bytes: bytes, path: path)
      #expect(!descriptions.texts.isEmpty && descriptions.classNames.count == descriptions.texts.count)
    case "text":
      let tokenizer = try #require(Self.tokenizer, "cannot load \(TestPaths.vocabulary)")
      for record in try TextLines.read(bytes: bytes, path: path, keepBlank: true).records {
        let ids = tokenizer.tokenize(record.text).ids
        #expect(ids.count >= 2 && ids.count <= tokenizer.maxLength && ids.first == tokenizer.clsID && ids.last == tokenizer.sepID)
      }
    case "banks":
      let file = try SafeTensorsFile(mapped: MappedFile(copying: bytes, path: path))
      var errors: [Error] = []
      do { _ = try BankFile.read(file) } catch { errors.append(error) }
      do { _ = try DetectorFile.read(file) } catch { errors.append(error) }
      do { _ = try IdentityBankFile.read(file) } catch { errors.append(error) }
      // At most one loader accepts a file (each checks its 'format'), and
      // none accepts one named `refused-*`.
      #expect(errors.count >= (path.split(separator: "/").last?.hasPrefix("refused-") == true ? 3 : 2), "\(path) was accepted")
      for error in errors {
        #expect("\(error)".contains(path), "banks: the error does not name the file: \(error)")
        #expect(isParserError(error), "banks: unexpected error type \(type(of: error)): \(error)")
      }
    default:
      Issue.record("unknown fuzz target folder '\(target)'")
    }
  }

  /// The typed errors the parsers document; anything else is a leak.
  static func isParserError(_ error: Error) -> Bool {
    error is ImageError || error is TensorFileError || error is TextInputError || error is TextEncoderError
      || error is DensityError || error is IdentityError
  }

  /// The loaders on bytes held in memory read the seed files exactly as the
  /// path loaders do (the fuzzers only exercise the in-memory forms).
  @Test("in-memory loaders agree with the path loaders on the fuzz seeds")
  func inMemoryMatchesPath() throws {
    let seeds = TestPaths.repositoryRoot + "/Fuzz/Seeds/banks/"
    func copy(_ name: String) throws -> SafeTensorsFile {
      let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: seeds + name)))
      return try SafeTensorsFile(mapped: MappedFile(copying: bytes, path: seeds + name))
    }
    for name in ["bank-knn.safetensors", "bank-gaussian.safetensors", "bank-meanshifted-sqrt.safetensors"] {
      let fromPath = try BankFile.read(path: seeds + name)
      let fromBytes = try BankFile.read(copy(name))
      #expect(fromBytes.features == fromPath.features && fromBytes.metadata == fromPath.metadata && fromBytes.threshold == fromPath.threshold)
    }
    for name in ["detector-predictive.safetensors", "detector-coldfusion-empty.safetensors"] {
      let fromPath = try DetectorFile.read(path: seeds + name)
      let fromBytes = try DetectorFile.read(copy(name))
      #expect(fromBytes.prototypes == fromPath.prototypes && fromBytes.classNames == fromPath.classNames)
      #expect(fromBytes.observations == fromPath.observations)
    }
    let identityPath = try IdentityBankFile.read(path: seeds + "identity.safetensors")
    let identityBytes = try IdentityBankFile.read(copy("identity.safetensors"))
    #expect(identityBytes.name == identityPath.name && identityBytes.references == identityPath.references)

    let npy = TestPaths.repositoryRoot + "/Tests/Fixtures/tensorfiles/f4_2d.npy"
    let npyBytes = try Array(Data(contentsOf: URL(fileURLWithPath: npy)))
    let fromPath = try NPYFile.read(path: npy)
    let fromBytes = try npyBytes.withUnsafeBytes { try NPYFile.read(bytes: $0, path: npy) }
    #expect(fromBytes.rows == fromPath.rows && fromBytes.columns == fromPath.columns && fromBytes.values == fromPath.values)

    let lines = TestPaths.repositoryRoot + "/Fuzz/Seeds/text/unicode.txt"
    let lineBytes = try Array(Data(contentsOf: URL(fileURLWithPath: lines)))
    #expect(try TextLines.read(bytes: lineBytes, path: lines, keepBlank: true) == TextLines.read(lines, keepBlank: true))
    for name in ["descriptions.json", "descriptions.txt"] {
      let p = TestPaths.repositoryRoot + "/Fuzz/Seeds/text/" + name
      let b = try Array(Data(contentsOf: URL(fileURLWithPath: p)))
      #expect(try ClassDescriptions.read(bytes: b, path: p) == ClassDescriptions.read(p))
    }
  }
}
