import FeatureExtraction
import Foundation

/// Finds and reads the ground-truth defect mask of a test image.
///
/// For an image `…/<type>/<name>.<ext>` and a mask folder `M`, the mask is
/// the first of `M/<name>_mask.png`, `M/<name>.png`, `M/<type>/<name>_mask.png`
/// and `M/<type>/<name>.png` that exists (MVTec AD keeps
/// `ground_truth/<type>/<name>_mask.png`). A pixel is defective when its
/// first channel is at least 128. A mask of another size than its image is
/// resized nearest-neighbour, with a warning.
struct GroundTruthMasks {
  let folders: [String]

  func candidates(for image: String) -> [String] {
    let url = URL(fileURLWithPath: image)
    let stem = url.deletingPathExtension().lastPathComponent
    let type = url.deletingLastPathComponent().lastPathComponent
    let names: [String] = [stem + "_mask.png", stem + ".png", type + "/" + stem + "_mask.png", type + "/" + stem + ".png"]
    return folders.flatMap { (m: String) -> [String] in names.map { m + "/" + $0 } }
  }

  /// The mask of `image` at `width × height`, row-major.
  ///
  /// - Throws: `CLIError` naming the image and every path tried when no mask exists.
  func mask(for image: String, width: Int, height: Int, limits: ImageLimits) throws -> [Bool] {
    let tried = candidates(for: image)
    guard let path = tried.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
      throw CLIError("\(image): no ground-truth mask for this defective image; looked for \(tried.joined(separator: ", "))")
    }
    let m = try ImageDecoder.decode(path: path, limits: limits)
    var out = [Bool](repeating: false, count: width * height)
    if m.width != width || m.height != height {
      warn("warning: \(path): mask is \(m.width)×\(m.height) but \(image) is \(width)×\(height); resized nearest-neighbour")
    }
    for y in 0..<height {
      let sy = min(m.height - 1, y * m.height / height)
      for x in 0..<width {
        let sx = min(m.width - 1, x * m.width / width)
        out[y * width + x] = m.pixels[3 * (sy * m.width + sx)] >= 128
      }
    }
    return out
  }
}
