import Foundation
import TensorFiles
import Testing

@Suite("AtomicFile")
struct AtomicFileTests {
  struct BodyFailed: Error {}

  /// Temp files AtomicFile leaves behind would be named `.NAME.tmp-XXXXXX`.
  static func leftovers(_ dir: TemporaryFolder) throws -> [String] {
    try dir.listing().filter { $0.hasPrefix(".") && $0.contains(".tmp-") }
  }

  @Test("a successful write creates, then replaces, the content")
  func replaces() throws {
    let dir = try TemporaryFolder()
    let path = dir.path + "/out.bin"
    try AtomicFile.write(Array("first".utf8), to: path)
    #expect(try dir.read("out.bin") == Array("first".utf8))
    try AtomicFile.write(to: path) { w in
      try w.write("sec")
      try w.write([UInt8(ascii: "o"), UInt8(ascii: "n")])
      try [UInt8(ascii: "d")].withUnsafeBytes { try w.write($0) }
      #expect(w.bytesWritten == 6)
    }
    #expect(try dir.read("out.bin") == Array("second".utf8))
    // A shorter write leaves nothing of the longer old content.
    try AtomicFile.write([], to: path)
    #expect(try dir.read("out.bin").isEmpty)
    #expect(try dir.listing() == ["out.bin"])
  }

  @Test("a large write goes through whole")
  func large() throws {
    let dir = try TemporaryFolder()
    let path = dir.path + "/big.bin"
    let bytes = (0..<3_000_001).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    try AtomicFile.write(bytes, to: path)
    #expect(try dir.read("big.bin") == bytes)
  }

  @Test("the new file gets the requested permission bits")
  func mode() throws {
    let dir = try TemporaryFolder()
    let path = dir.path + "/m.bin"
    try AtomicFile.write(Array("x".utf8), to: path)
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o644)
    try AtomicFile.write(to: path, mode: 0o600) { try $0.write("y") }
    let after = try FileManager.default.attributesOfItem(atPath: path)
    #expect((after[.posixPermissions] as? NSNumber)?.intValue == 0o600)
  }

  @Test("a throwing body leaves the old content intact and no temp file behind")
  func throwingBody() throws {
    let dir = try TemporaryFolder()
    let path = dir.path + "/keep.txt"
    try AtomicFile.write(Array("original".utf8), to: path)
    #expect(throws: BodyFailed.self) {
      try AtomicFile.write(to: path) { w in
        try w.write("half-written replacement")
        throw BodyFailed()
      }
    }
    #expect(try dir.read("keep.txt") == Array("original".utf8))
    #expect(try Self.leftovers(dir) == [])
    #expect(try dir.listing() == ["keep.txt"])

    // With no previous file, a failed write creates nothing.
    let fresh = dir.path + "/never.txt"
    #expect(throws: BodyFailed.self) {
      try AtomicFile.write(to: fresh) { _ in throw BodyFailed() }
    }
    #expect(!FileManager.default.fileExists(atPath: fresh))
    #expect(try dir.listing() == ["keep.txt"])
  }

  @Test("writing into a missing folder throws .writeFailed naming the path")
  func missingFolder() throws {
    let dir = try TemporaryFolder()
    let path = dir.path + "/no/such/folder/out.bin"
    let e = expectTensorFileError(path: path) { try AtomicFile.write([1, 2, 3], to: path) }
    guard case .writeFailed(_, let reason) = e else {
      Issue.record("\(String(describing: e))")
      return
    }
    #expect(reason.contains("does not exist"))
    #expect(try dir.listing() == [])
  }

  @Test("writing to a path whose folder is a file throws .writeFailed")
  func folderIsAFile() throws {
    let dir = try TemporaryFolder()
    try dir.write("plain", [1])
    let path = dir.path + "/plain/out.bin"
    let e = expectTensorFileError(path: path) { try AtomicFile.write([1, 2, 3], to: path) }
    if case .writeFailed = e {} else { Issue.record("\(String(describing: e))") }
  }

  @Test("writing to a path that is a directory throws and leaves it alone")
  func directory() throws {
    let dir = try TemporaryFolder()
    let path = dir.path + "/folder"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    try Data([9]).write(to: URL(fileURLWithPath: path + "/inside"))
    let e = expectTensorFileError(path: path) { try AtomicFile.write([1, 2, 3], to: path) }
    guard case .writeFailed(_, let reason) = e else {
      Issue.record("\(String(describing: e))")
      return
    }
    #expect(reason.contains("directory"))
    var isDirectory: ObjCBool = false
    #expect(FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue)
    #expect(try dir.listing() == ["folder"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["inside"])
  }

  @Test("checkDestination accepts a new file path and refuses the bad ones")
  func checkDestination() throws {
    let dir = try TemporaryFolder()
    try AtomicFile.checkDestination(dir.path + "/new.bin")
    #expect(throws: TensorFileError.self) { try AtomicFile.checkDestination(dir.path + "/missing/new.bin") }
    #expect(throws: TensorFileError.self) { try AtomicFile.checkDestination(dir.path) }
  }
}
