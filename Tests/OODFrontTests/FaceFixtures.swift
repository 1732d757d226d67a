import FeatureExtraction
import Foundation
import OODFront

/// `Tests/Fixtures/faces-landmarks/faces-landmarks.json`, written by
/// `make_fixtures.py` there with dlib (dlib-bin 20.0.1) as the reference.
struct FaceFixtures: Decodable {
  struct Case: Decodable {
    let name: String
    let image: String
    /// The image is enlarged this many times by pixel repetition first.
    let `repeat`: Int
    let box: [Int]
    let landmarks: [[Int]]
    let chip: String
  }
  struct LandmarkCase: Decodable {
    let image: String
    let box: [Int]
    let landmarks: [[Int]]
  }
  let reference: String
  let chip_size: Int
  let chip_padding: Double
  let cases: [Case]
  let landmark_cases: [LandmarkCase]

  static func load() throws -> FaceFixtures {
    let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("faces-landmarks/faces-landmarks.json")))
    return try JSONDecoder().decode(FaceFixtures.self, from: data)
  }

  static func image(_ name: String, repeat factor: Int = 1) throws -> RGBImage {
    let image = try ImageDecoder.decode(path: TestPaths.fixture("faces-landmarks/" + name))
    return factor == 1 ? image : enlarged(image, by: factor)
  }

  /// Every pixel repeated `factor` times along both axes (numpy's
  /// `np.repeat(np.repeat(img, f, 0), f, 1)`).
  static func enlarged(_ image: RGBImage, by factor: Int) -> RGBImage {
    let w = image.width * factor, h = image.height * factor
    var pixels = [UInt8](repeating: 0, count: w * h * 3)
    for y in 0..<h {
      for x in 0..<w {
        let s = 3 * ((y / factor) * image.width + x / factor), d = 3 * (y * w + x)
        pixels[d] = image.pixels[s]; pixels[d + 1] = image.pixels[s + 1]; pixels[d + 2] = image.pixels[s + 2]
      }
    }
    return RGBImage(width: w, height: h, pixels: pixels)
  }

  static func rect(_ box: [Int]) -> FaceRect { FaceRect(left: box[0], top: box[1], right: box[2], bottom: box[3]) }
}
