import Foundation

/// An MVTec AD-style dataset folder:
///
///     ROOT/train/good/*.png                 normal training images
///     ROOT/test/good/*.png                  normal test images
///     ROOT/test/<type>/*.png                defective test images, one folder per defect type
///     ROOT/ground_truth/<type>/<name>_mask.png   their masks (optional: image metrics only without)
struct MVTecLayout {
  let root: String
  let train: [String]
  let testNormal: [String]
  let testDefective: [String]
  /// `ROOT/ground_truth` when it exists.
  let masks: String?

  static let expected =
    "expected ROOT/train/good (normal training images), ROOT/test/good and ROOT/test/<defect type>/ (test images), "
    + "and optionally ROOT/ground_truth/<defect type>/<name>_mask.png"

  init(root: String, maxFiles: Int) throws {
    self.root = root
    let fm = FileManager.default
    func isFolder(_ p: String) -> Bool {
      var d: ObjCBool = false
      return fm.fileExists(atPath: p, isDirectory: &d) && d.boolValue
    }
    guard isFolder(root) else { throw CLIError("\(root): no such folder; \(Self.expected)") }
    guard isFolder(root + "/train/good") else { throw CLIError("\(root): not an MVTec AD folder: no train/good; \(Self.expected)") }
    guard isFolder(root + "/test") else { throw CLIError("\(root): not an MVTec AD folder: no test/; \(Self.expected)") }
    train = try InputFiles.images([root + "/train/good"], maxFiles: maxFiles)
    guard !train.isEmpty else { throw CLIError("\(root)/train/good: no images; \(Self.expected)") }
    let types = try fm.contentsOfDirectory(atPath: root + "/test").filter { isFolder(root + "/test/" + $0) }.sorted()
    testNormal = types.contains("good") ? try InputFiles.images([root + "/test/good"], maxFiles: maxFiles) : []
    let defective = types.filter { $0 != "good" }.map { root + "/test/" + $0 }
    testDefective = defective.isEmpty ? [] : try InputFiles.images(defective, maxFiles: maxFiles)
    guard !testNormal.isEmpty, !testDefective.isEmpty else {
      throw CLIError("\(root)/test: needs good images and at least one defect type; \(Self.expected)")
    }
    masks = isFolder(root + "/ground_truth") ? root + "/ground_truth" : nil
  }
}
