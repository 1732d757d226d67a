import FeatureExtraction
import Foundation

/// Where to cut an aligned face chip from an image: dlib's `chip_details`.
/// The chip is `rows × cols` pixels sampled from the rectangle `rect` of the
/// image turned by `angle` radians about the rectangle's centre.
public struct FaceChipDetails: Sendable, Equatable {
  /// The source rectangle before rotation (dlib's `drectangle`, inclusive sides).
  public var left: Double, top: Double, right: Double, bottom: Double
  /// Rotation in radians, positive turning the image's x axis towards its y axis.
  public var angle: Double
  /// Chip height in pixels.
  public var rows: Int
  /// Chip width in pixels.
  public var cols: Int

  var rect: DoubleRect { DoubleRect(left: left, top: top, right: right, bottom: bottom) }
}

/// Aligned face chips, as dlib's `get_face_chip(img, shape, size, padding)`
/// (`get_face_chip_details` + `extract_image_chip`,
/// `dlib/image_transforms/interpolation.h`), the input of dlib's face
/// recognition ResNet (150 × 150, padding 0.25).
///
/// **Alignment.** The 5 landmarks are matched to dlib's template for the
/// 5-point model, `T_i ∈ [0, 1]²` (eye corners and nose base of a mean face),
/// padded to `(padding + T_i)/(2·padding + 1)` and scaled by `size`. The
/// least-squares similarity `S(p) = s·R(θ)p + t` from template to landmarks
/// (`SimilarityTransform`) gives the chip's angle `θ` and a source rectangle
/// of `size·s` pixels per side centred on `S(size/2, size/2)`.
///
/// **Sampling.** Chip pixel `(c, r)` reads the source at the point the
/// rotated rectangle's corners map it to, by bilinear interpolation in
/// `Double`, each channel clamped to 0…255 and truncated. Points whose 2 × 2
/// neighbourhood is not inside the source are black. When the source
/// rectangle, halved, still has more pixels than the chip, dlib first builds
/// an image pyramid (`HalfScalePyramid`, each level half the size) over the
/// part of the image around the chip (the rotated rectangle grown by a
/// border that covers the filter at each level) and samples the deepest
/// level whose halved rectangle would drop below the chip's pixel count;
/// bilinear sampling alone would alias. Pixels outside that bounding region
/// count as outside the image, as in dlib.
///
/// Where we differ from dlib: the chip-to-source affine transform is built
/// directly from the three corners instead of by dlib's pseudo-inverse, and the
/// similarity uses a closed form instead of an SVD. Both agree with dlib to
/// ≈1e-16 relative; a sample that lands within that of a whole grey level
/// can truncate the other way, so chips match dlib within 1 grey level (on the
/// 5 test chips and the 61 faces of `bench_landmarks.py` they are identical).
///
/// **Pre-cropped input.** An image that is already an aligned
/// `size × size` chip (for instance one written by this type, or a dataset
/// of aligned 150 × 150 faces) can go straight to the embedder; the
/// landmarks and this extraction are only needed for uncropped photos.
public enum FaceChip {
  /// dlib's chip size for its face recognition model.
  public static let defaultSize = 150
  /// dlib's padding for its face recognition model (`get_face_chip`'s default).
  public static let defaultPadding = 0.25

  /// dlib's template of the 5-point model's landmarks in the unit square
  /// (`get_face_chip_details`), in the predictor's landmark order.
  static let template: [(x: Double, y: Double)] = [
    (0.8595674595992, 0.2134981538014),
    (0.6460604764104, 0.2289674387677),
    (0.1205750620789, 0.2137274526848),
    (0.3340850613712, 0.2290642403242),
    (0.4901123135679, 0.6277975316475),
  ]

  /// dlib's `get_face_chip_details(shape, size, padding)` for a 5-point shape.
  ///
  /// - Parameters:
  ///   - landmarks: the 5 points from `ShapePredictor.landmarks(in:box:)`.
  ///   - size: chip side in pixels (150 for the face ResNet); at least 2.
  ///   - padding: margin around the template, as a fraction of the template's
  ///     span on each side (0.25 for the face ResNet).
  public static func details(
    landmarks: [FacePoint], size: Int = defaultSize, padding: Double = defaultPadding
  ) throws -> FaceChipDetails {
    guard landmarks.count == template.count else {
      throw FaceAlignmentError.wrongLandmarkCount(expected: template.count, actual: landmarks.count)
    }
    if let i = landmarks.firstIndex(where: { !$0.x.isFinite || !$0.y.isFinite }) {
      throw FaceAlignmentError.nonFiniteLandmark(index: i)
    }
    guard size >= 2, size <= 1 << 15, padding.isFinite, padding >= 0 else {
      throw FaceAlignmentError.invalidChipParameters(size: size, padding: padding)
    }
    var from: [Double] = []
    for t in template {
      from.append((padding + t.x) / (2 * padding + 1) * Double(size))
      from.append((padding + t.y) / (2 * padding + 1) * Double(size))
    }
    let to = landmarks.flatMap { [$0.x, $0.y] }
    let s = from.withUnsafeBufferPointer { f in to.withUnsafeBufferPointer { SimilarityTransform.fit(from: f, to: $0) } }
    // The image of the unit x vector: (a, c) = scale · (cos θ, sin θ).
    let angle = atan2(s.c, s.a)
    let scale = (s.a * s.a + s.c * s.c).squareRoot()
    let center = s.apply(x: Double(size) / 2.0, y: Double(size) / 2.0)
    let rect = DoubleRect(center: center, width: Double(size) * scale, height: Double(size) * scale)
    return FaceChipDetails(left: rect.left, top: rect.top, right: rect.right, bottom: rect.bottom,
                           angle: angle, rows: size, cols: size)
  }

  /// The aligned chip for 5 landmarks: `details` then `extract(from:details:)`.
  public static func extract(
    from image: RGBImage, landmarks: [FacePoint], size: Int = defaultSize, padding: Double = defaultPadding
  ) throws -> RGBImage {
    try extract(from: image, details: details(landmarks: landmarks, size: size, padding: padding))
  }

  /// dlib's `extract_image_chip(img, details, chip)` with bilinear interpolation.
  public static func extract(from image: RGBImage, details: FaceChipDetails) throws -> RGBImage {
    guard image.width > 0, image.height > 0 else {
      throw FaceAlignmentError.emptyImage(width: image.width, height: image.height)
    }
    guard details.rows >= 1, details.cols >= 1, details.rows <= 1 << 15, details.cols <= 1 << 15,
          [details.left, details.top, details.right, details.bottom, details.angle].allSatisfy(\.isFinite),
          !details.rect.isEmpty
    else {
      throw FaceAlignmentError.invalidChipParameters(size: max(details.rows, details.cols), padding: .nan)
    }
    let rect = details.rect
    let chipPixels = Double(details.rows * details.cols)
    let imageRect = DoubleRect(FaceRect(left: 0, top: 0, right: image.width - 1, bottom: image.height - 1))

    // A chip with no rotation or scaling is a plain copy (dlib's basic_extract_image_chip).
    if details.angle == 0, Double(details.rows) == rect.height, Double(details.cols) == rect.width {
      return copyChip(from: image, rect: rect.rounded)
    }

    // Pyramid depth, and the region of the image that the chip can read.
    var depth = 0
    var grow = 2.0
    var down = HalfScalePyramid.mapDown(rect)
    while down.area > chipPixels {
      down = HalfScalePyramid.mapDown(down)
      depth += 1
      grow = grow * 2 + 2
    }
    let corners = [rect.topLeft, rect.topRight, rect.bottomLeft, rect.bottomRight]
      .map { DoubleRect.rotate($0, about: rect.center, angle: details.angle) }
    let turned = DoubleRect(
      left: corners.map(\.x).min()!, top: corners.map(\.y).min()!,
      right: corners.map(\.x).max()!, bottom: corners.map(\.y).max()!)
    let region = turned.grown(by: grow).intersection(imageRect).rounded
    var source = region.isEmpty ? RGBPlane(width: 0, height: 0) : RGBPlane(image, cropping: region)
    let origin = region.isEmpty ? (x: 0, y: 0) : (x: region.left, y: region.top)

    // The level to sample: go down while the halved rectangle still has more
    // pixels than the chip.
    var local = rect.translated(dx: -Double(origin.x), dy: -Double(origin.y))
    var level = -1
    while HalfScalePyramid.mapDown(local).area > chipPixels {
      level += 1
      local = HalfScalePyramid.mapDown(local)
    }
    if level >= 0 {
      for _ in 0...level { source = HalfScalePyramid.down(source) }
    }

    // Chip corners (0,0), (cols−1, 0), (0, rows−1) go to the rotated corners
    // of the rectangle in the sampled level.
    let c = local.center
    let tl = DoubleRect.rotate(local.topLeft, about: c, angle: details.angle)
    let tr = DoubleRect.rotate(local.topRight, about: c, angle: details.angle)
    let bl = DoubleRect.rotate(local.bottomLeft, about: c, angle: details.angle)
    let cols = details.cols, rows = details.rows
    let m00 = cols > 1 ? (tr.x - tl.x) / Double(cols - 1) : 0, m10 = cols > 1 ? (tr.y - tl.y) / Double(cols - 1) : 0
    let m01 = rows > 1 ? (bl.x - tl.x) / Double(rows - 1) : 0, m11 = rows > 1 ? (bl.y - tl.y) / Double(rows - 1) : 0
    var chip = [UInt8](repeating: 0, count: rows * cols * 3)
    let (sw, sh, stride, offset) = (source.width, source.height, source.rowStride, source.offset)
    source.pixels.withUnsafeBufferPointer { src in
      chip.withUnsafeMutableBufferPointer { dst in
        for r in 0..<rows {
          for col in 0..<cols {
            let x = (m00 * Double(col) + m01 * Double(r)) + tl.x
            let y = (m10 * Double(col) + m11 * Double(r)) + tl.y
            // dlib: left = ⌊x⌋, top = ⌊y⌋, inside when left ≥ 0 and left + 1 < width
            // (same for y); that is x in [0, width − 1), where ⌊·⌋ is truncation.
            guard x >= 0, y >= 0, x < Double(sw - 1), y < Double(sh - 1) else { continue }
            let left = Int(x), top = Int(y)
            let lrFrac = x - Double(left), tbFrac = y - Double(top)
            let o = offset + top * stride + 3 * left, below = o + stride
            let d = 3 * (r * cols + col)
            let wtl = 1 - lrFrac, wbt = 1 - tbFrac
            for ch in 0..<3 {
              let vtl = Double(src[o + ch]), vtr = Double(src[o + 3 + ch])
              let vbl = Double(src[below + ch]), vbr = Double(src[below + 3 + ch])
              let v = wbt * (wtl * vtl + lrFrac * vtr) + tbFrac * (wtl * vbl + lrFrac * vbr)
              // dlib's assign_pixel: clamp to 0…255, then truncate.
              dst[d + ch] = UInt8(min(max(v, 0), 255))
            }
          }
        }
      }
    }
    return RGBImage(width: cols, height: rows, pixels: chip)
  }

  /// dlib's `basic_extract_image_chip`: the pixels of `rect`, black outside the image.
  private static func copyChip(from image: RGBImage, rect: FaceRect) -> RGBImage {
    var pixels = [UInt8](repeating: 0, count: rect.width * rect.height * 3)
    for y in 0..<rect.height {
      let sy = rect.top + y
      guard sy >= 0, sy < image.height else { continue }
      for x in 0..<rect.width {
        let sx = rect.left + x
        guard sx >= 0, sx < image.width else { continue }
        for ch in 0..<3 { pixels[3 * (y * rect.width + x) + ch] = image.pixels[3 * (sy * image.width + sx) + ch] }
      }
    }
    return RGBImage(width: rect.width, height: rect.height, pixels: pixels)
  }
}
