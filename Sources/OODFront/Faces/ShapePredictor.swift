import FeatureExtraction
import TensorFiles

/// dlib's face landmark predictor (`shape_predictor`): a cascade of
/// regression-tree ensembles (Kazemi & Sullivan 2014, "One Millisecond Face
/// Alignment with an Ensemble of Regression Trees"), loaded from
/// `Weights/dlib-shape-predictor-5.safetensors` (layout in `Weights/FORMAT.md`).
///
/// Shapes live in the face box normalised to the unit square: the box's
/// top-left corner `(l, t)` is `(0, 0)` and its bottom-right `(r, b)` is
/// `(1, 1)`, so a normalised point `(u, v)` is the pixel `((r − l)u + l, (b − t)v + t)`.
/// Starting from the mean shape `s₀`, each cascade level `k`
///
/// 1. fits the similarity `M_k` (rotation and scale only) that takes `s₀` to
///    the current shape `s` (`SimilarityTransform`), in `Double`, then rounds
///    it to `Float`;
/// 2. places its feature pixels: pixel `j` is anchored to landmark `a_j` with
///    the offset `δ_j` (both stored), so it lies at `M_k δ_j + s[a_j]` in `Float`,
///    mapped to the image in `Double` and rounded to the nearest pixel
///    (`⌊x + 0.5⌋`); its value is the pixel's intensity `⌊(R + G + B) / 3⌋`, or 0
///    when it falls outside the image;
/// 3. walks every tree: at node `n`, go left (`2n + 1`) when
///    `I[idx₁] − I[idx₂] > θ`, else right (`2n + 2`), in `Float`; and adds the
///    reached leaf's vector to `s` (`Float`, tree by tree, in file order).
///
/// The final shape is mapped to pixels and rounded as in step 2: dlib
/// returns integer points, and so does `landmarks(in:box:)`. All of this
/// follows `dlib::shape_predictor::operator()` for an `rgb_pixel` image
/// (`dlib/image_processing/shape_predictor.h`), including its float/double
/// split. One difference: dlib maps box coordinates with an affine transform
/// found by a pseudo-inverse, exact up to ≈1e-16; we use the exact formula.
public struct ShapePredictor: Sendable {
  /// Number of landmarks (5 for the bundled model).
  public let landmarkCount: Int
  /// Cascade levels, trees per level, splits per tree, feature pixels per level.
  let levels: Int, trees: Int, splits: Int, features: Int
  /// Mean shape, `x0, y0, x1, y1, …` normalised to the box.
  let initialShape: [Float]
  /// `[levels][trees][splits]`, row-major.
  let splitFeature1: [Int32], splitFeature2: [Int32]
  let splitThreshold: [Float]
  /// `[levels][trees][splits + 1][2 · landmarkCount]`.
  let leafValues: [Float]
  /// `[levels][features]` landmark index and `[levels][features][2]` offset.
  let anchorIndex: [Int32]
  let deltas: [Float]
  private let file: SafeTensorsFile

  /// SHA-256 of the weights file, for the provenance of identity banks.
  public var weightsSHA256: String { file.sha256() }

  /// Loads the predictor's weights.
  ///
  /// - Throws: `TensorFileError` (naming the file and tensor) for a missing
  ///   tensor or one whose shape disagrees with the others, and
  ///   `FaceAlignmentError.invalidShapePredictor` for wrong metadata,
  ///   out-of-range indices or non-finite values.
  public init(path: String) throws {
    let file = try SafeTensorsFile(path: path)
    self.file = file
    func invalid(_ reason: String) -> FaceAlignmentError { .invalidShapePredictor(path: path, reason: reason) }
    guard file.metadata["format"] == "weights", file.metadata["architecture"] == "dlib-shape-predictor" else {
      throw invalid("metadata must say format=weights, architecture=dlib-shape-predictor (got \(file.metadata["format"] ?? "none"), \(file.metadata["architecture"] ?? "none"))")
    }
    guard file.metadata["format_version"] == "1" else {
      throw invalid("unknown format_version \(file.metadata["format_version"] ?? "none") (this reader knows 1)")
    }
    let initial = try file.info("initial_shape")
    guard initial.shape.count == 2, initial.shape[1] == 2, initial.shape[0] >= 2 else {
      throw invalid("initial_shape must be [landmarks ≥ 2, 2], got \(initial.shape)")
    }
    let split = try file.info("split_feature_1")
    guard split.shape.count == 3, split.shape.allSatisfy({ $0 >= 1 }) else {
      throw invalid("split_feature_1 must be [levels, trees, splits], got \(split.shape)")
    }
    let anchors = try file.info("anchor_index")
    guard anchors.shape.count == 2, anchors.shape[0] == split.shape[0], anchors.shape[1] >= 1 else {
      throw invalid("anchor_index must be [levels = \(split.shape[0]), features], got \(anchors.shape)")
    }
    let (p, l, t, s, f) = (initial.shape[0], split.shape[0], split.shape[1], split.shape[2], anchors.shape[1])
    guard (s + 1) & s == 0 else { throw invalid("\(s) splits per tree is not a full binary tree (2^depth − 1)") }
    landmarkCount = p
    (levels, trees, splits, features) = (l, t, s, f)
    initialShape = try file.floats("initial_shape", shape: [p, 2])
    splitFeature1 = try Self.indices(file, "split_feature_1", shape: [l, t, s], below: f, invalid)
    splitFeature2 = try Self.indices(file, "split_feature_2", shape: [l, t, s], below: f, invalid)
    splitThreshold = try file.floats("split_threshold", shape: [l, t, s])
    leafValues = try file.floats("leaf_values", shape: [l, t, s + 1, 2 * p])
    anchorIndex = try Self.indices(file, "anchor_index", shape: [l, f], below: p, invalid)
    deltas = try file.floats("deltas", shape: [l, f, 2])
    for (name, values) in [("initial_shape", initialShape), ("split_threshold", splitThreshold),
                           ("leaf_values", leafValues), ("deltas", deltas)] {
      if let i = values.firstIndex(where: { !$0.isFinite }) {
        throw TensorFileError.nonFiniteValue(path: path, tensor: name, index: i)
      }
    }
  }

  private static func indices(
    _ file: SafeTensorsFile, _ name: String, shape: [Int], below limit: Int,
    _ invalid: (String) -> FaceAlignmentError
  ) throws -> [Int32] {
    _ = try file.info(name, shape: shape)
    let values = try file.integers(name)
    if let i = values.firstIndex(where: { $0 < 0 || $0 >= Int64(limit) }) {
      throw invalid("\(name)[\(i)] = \(values[i]) is outside 0..<\(limit)")
    }
    return values.map { Int32($0) }
  }

  /// The landmarks of the face in `box`, as dlib's integer pixel positions
  /// (for the bundled model: eye A outer and inner corner, eye B outer and
  /// inner corner, base of the nose; eye A is on the image's right in an
  /// upright face).
  ///
  /// The box may cross the image border (pixels outside read as 0), but must
  /// share at least one pixel with the image.
  public func landmarks(in image: RGBImage, box: FaceRect) throws -> [FacePoint] {
    guard image.width > 0, image.height > 0 else {
      throw FaceAlignmentError.emptyImage(width: image.width, height: image.height)
    }
    guard box.overlapsImage(width: image.width, height: image.height) else {
      throw FaceAlignmentError.boxOutsideImage(box: box, width: image.width, height: image.height)
    }
    let shape = normalizedShape(in: image, box: box)
    let frame = BoxFrame(box)
    return (0..<landmarkCount).map { i in
      let (x, y) = frame.pixel(shape[2 * i], shape[2 * i + 1])
      return FacePoint(x: (x + 0.5).rounded(.down), y: (y + 0.5).rounded(.down))
    }
  }

  /// The box's normalised frame: `(u, v) ↦ ((r − l)u + l, (b − t)v + t)` in `Double`.
  struct BoxFrame {
    let scaleX: Double, scaleY: Double, left: Double, top: Double
    init(_ box: FaceRect) {
      scaleX = Double(box.right - box.left)
      scaleY = Double(box.bottom - box.top)
      left = Double(box.left)
      top = Double(box.top)
    }
    @inline(__always) func pixel(_ u: Float, _ v: Float) -> (Double, Double) {
      (scaleX * Double(u) + left, scaleY * Double(v) + top)
    }
  }

  /// Runs the cascade; returns the final shape, normalised to the box.
  func normalizedShape(in image: RGBImage, box: FaceRect) -> [Float] {
    let dims = 2 * landmarkCount
    var shape = initialShape
    var featureValues = [Float](repeating: 0, count: features)
    var leafStarts = [Int](repeating: 0, count: trees)
    let frame = BoxFrame(box)
    let (width, height) = (image.width, image.height)
    image.pixels.withUnsafeBufferPointer { pixels in
      initialShape.withUnsafeBufferPointer { initial in
        for level in 0..<levels {
          // Step 1: similarity from the mean shape to the current one, as Float.
          let m = shape.withUnsafeBufferPointer { SimilarityTransform.fit(from: initial, to: $0) }
          let (m00, m01, m10, m11) = (Float(m.a), Float(-m.c), Float(m.c), Float(m.a))
          // Step 2: feature pixel intensities.
          anchorIndex.withUnsafeBufferPointer { anchors in
            deltas.withUnsafeBufferPointer { deltas in
              shape.withUnsafeBufferPointer { current in
                featureValues.withUnsafeMutableBufferPointer { values in
                  for j in 0..<features {
                    let dx = deltas[2 * (level * features + j)], dy = deltas[2 * (level * features + j) + 1]
                    let anchor = Int(anchors[level * features + j])
                    let u = (m00 * dx + m01 * dy) + current[2 * anchor]
                    let v = (m10 * dx + m11 * dy) + current[2 * anchor + 1]
                    let (x, y) = frame.pixel(u, v)
                    // ⌊x + 0.5⌋ is inside 0..<width exactly when x + 0.5 is in
                    // [0, width), and there ⌊·⌋ is truncation.
                    let fx = x + 0.5, fy = y + 0.5
                    if fx >= 0, fy >= 0, fx < Double(width), fy < Double(height) {
                      let o = 3 * (Int(fy) * width + Int(fx))
                      values[j] = Float((UInt32(pixels[o]) + UInt32(pixels[o + 1]) + UInt32(pixels[o + 2])) / 3)
                    } else {
                      values[j] = 0
                    }
                  }
                }
              }
            }
          }
          // Step 3: every tree of this level adds its leaf.
          splitFeature1.withUnsafeBufferPointer { idx1 in
            splitFeature2.withUnsafeBufferPointer { idx2 in
              splitThreshold.withUnsafeBufferPointer { thresholds in
                leafValues.withUnsafeBufferPointer { leaves in
                  featureValues.withUnsafeBufferPointer { values in
                    leafStarts.withUnsafeMutableBufferPointer { starts in
                      // First every tree's leaf: the walks are independent, so
                      // their memory loads overlap.
                      for tree in 0..<trees {
                        let base = (level * trees + tree) * splits
                        var node = 0
                        while node < splits {
                          let k = base + node
                          node = values[Int(idx1[k])] - values[Int(idx2[k])] > thresholds[k] ? 2 * node + 1 : 2 * node + 2
                        }
                        starts[tree] = ((level * trees + tree) * (splits + 1) + node - splits) * dims
                      }
                    }
                    // Then the sums, in tree order as dlib adds them.
                    leafStarts.withUnsafeBufferPointer { starts in
                      shape.withUnsafeMutableBufferPointer { current in
                        for tree in 0..<trees {
                          let leaf = starts[tree]
                          for d in 0..<dims { current[d] += leaves[leaf + d] }
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return shape
  }
}
