import Foundation

/// Expands files and folders into the image files they hold, as every
/// `anomalykit` command does with its inputs.
///
/// Policy (documented in the README):
/// - Folders are walked recursively in sorted (byte-wise) path order;
///   hidden files and folders are ignored.
/// - Inside folders, files without an image extension (`.png`, `.jpg`,
///   `.jpeg`, any case) are skipped, and the skipped files are listed on
///   in one warning (the first five, then a count). Folders of images often carry
///   `README`s, masks in other formats, `.DS_Store` and the like.
/// - A file named explicitly is always used, whatever its extension; if it
///   is not an image, decoding fails with an error naming it.
/// - No images at all is an error.
public enum ImageFiles {
  /// File extensions taken as images inside folders (compared in lower case).
  public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

  /// The image files of `inputs` (files, or folders walked recursively).
  ///
  /// - Parameters:
  ///   - inputs: image files and folders.
  ///   - maxFiles: refuse more than this many files in all.
  ///   - warning: hears about skipped non-image files and folder loops.
  /// - Returns: the images' URLs, folders expanded in sorted path order.
  /// - Throws: `AnomalyKitError.invalidInput` naming a missing input, an
  ///   unlistable folder, too many files, or inputs without any image.
  public static func list(_ inputs: [URL], maxFiles: Int = 1_000_000, warning: ((String) -> Void)? = nil) throws -> [URL] {
    try paths(inputs.map(\.path), maxFiles: maxFiles, warning: warning).map { URL(fileURLWithPath: $0) }
  }

  /// `list(_:maxFiles:warning:)` on paths, as given on a command line.
  package static func paths(_ inputs: [String], maxFiles: Int = 1_000_000, warning: ((String) -> Void)? = nil) throws -> [String] {
    let warn = warning ?? { _ in }
    var result: [String] = []
    var skipped: [String] = []
    let fm = FileManager.default
    for input in inputs {
      var isDirectory: ObjCBool = false
      guard fm.fileExists(atPath: input, isDirectory: &isDirectory) else {
        throw AnomalyKitError.invalidInput("\(input): no such file or folder")
      }
      if !isDirectory.boolValue {
        result.append(input)
        continue
      }
      let found = try walk(input, warn: warn)
      for path in found {
        let ext = (path as NSString).pathExtension.lowercased()
        if imageExtensions.contains(ext) { result.append(path) } else { skipped.append(path) }
      }
      if result.count > maxFiles {
        throw AnomalyKitError.invalidInput("\(input): more than \(maxFiles) files in one run (raise it with --max-files)")
      }
    }
    if !skipped.isEmpty {
      let preview = skipped.prefix(5).joined(separator: ", ")
      let more = skipped.count > 5 ? " and \(skipped.count - 5) more" : ""
      warn("warning: skipped \(skipped.count) non-image file(s): \(preview)\(more)")
    }
    if result.isEmpty {
      throw AnomalyKitError.invalidInput("\(inputs.joined(separator: ", ")): no images found (expected .png, .jpg or .jpeg files)")
    }
    return result
  }

  /// All regular files under `folder`, sorted, hidden entries excluded.
  ///
  /// Symbolic links are followed, but each folder (by device and inode) is
  /// walked once: a link back to an enclosing folder (a loop) or a second
  /// link to a folder already walked is skipped with a warning, instead of
  /// recursing until the path is too long or listing the same images twice.
  private static func walk(_ folder: String, warn: (String) -> Void) throws -> [String] {
    var walked = Set<FolderID>()
    return try walk(folder, walked: &walked, warn: warn)
  }

  private struct FolderID: Hashable {
    let device: UInt64
    let inode: UInt64
  }

  private static func walk(_ folder: String, walked: inout Set<FolderID>, warn: (String) -> Void) throws -> [String] {
    let fm = FileManager.default
    let base = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
    var info = stat()
    if stat(base, &info) == 0 {
      let id = FolderID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
      guard walked.insert(id).inserted else {
        warn("warning: skipped \(base): a link to a folder already walked (a symbolic link loop or a duplicate)")
        return []
      }
    }
    var out: [String] = []
    let entries: [String]
    do {
      entries = try fm.contentsOfDirectory(atPath: base)
    } catch {
      throw AnomalyKitError.invalidInput("\(base): cannot list folder: \(error.localizedDescription)")
    }
    for name in entries.sorted() where !name.hasPrefix(".") {
      let path = base + "/" + name
      var isDirectory: ObjCBool = false
      guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
        if lstat(path, &info) == 0 { warn("warning: skipped \(path): a symbolic link that does not resolve (a loop or a missing target)") }
        continue
      }
      if isDirectory.boolValue {
        out += try walk(path, walked: &walked, warn: warn)
      } else {
        out.append(path)
      }
    }
    return out
  }
}
