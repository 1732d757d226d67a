import FeatureExtraction
import ParallelCompute
import TensorFiles

/// dlib's CNN face detector (`mmod_human_face_detector`,
/// `dlib.cnn_face_detection_model_v1`), loaded from
/// `Weights/dlib-mmod-face-detector.safetensors`.
///
/// The network (tools/python/src/cnn_face_detector.cpp) scans a tiled image
/// pyramid (`DlibTiledPyramid`, `pyramid_down<6>`, padding 10, outer padding 11):
///
/// ```
/// downsampler  3 × [conv5×5/2 → affine → relu]      16, 32, 32 channels
/// features     3 × [conv5×5/1 → affine → relu]      45 channels
/// score        conv9×9/1 → 1 channel
/// ```
///
/// and `loss_mmod` turns the score map into detections:
/// 1. every position (r, c) scoring above the threshold is a window: the
///    position mapped back through the convolutions
///    (`p ↦ p·stride − pad + k/2`, here `8c + 14, 8r + 14`), an 80×80 box
///    centred there (`centered_drect`), mapped to image pixels through the
///    pyramid level nearest its centre (`DlibTiledPyramid.imageBox`) and
///    rounded to whole pixels;
/// 2. windows sorted by score, highest first;
/// 3. greedy non-max suppression: a window is dropped when it overlaps an
///    already kept one by IoU > 0.338 or covers (or is covered) > 100 %
///    (`BoxOverlapTest`, thresholds from the file).
///
/// With `upsample > 0` the image is first enlarged the way dlib's Python
/// binding does (`pyramid_up` with `pyramid_down<2>`, see
/// `FaceDetector.upsampled`) and the boxes are mapped back with
/// `p ↦ p/2 − (1.25, 0.75)` per level.
public final class FaceDetector: Sendable {
  /// The `architecture` metadata this loader accepts (`dlib-mmod-face-detector`).
  public static let architecture = "dlib-mmod-face-detector"
  /// Default pixel budget of `detect`: 4096 × 4096 pixels after upsampling
  /// (the tiled pyramid and the first feature maps take ≈ 50 bytes a pixel).
  public static let defaultMaxPixels = 4096 * 4096

  /// The weights file, as given.
  public let path: String
  /// The weights file's metadata.
  public let metadata: [String: String]
  /// Largest image (width × height, after upsampling) that `detect` accepts.
  public let maxPixels: Int
  let inputMean: [Float]
  let layers: [DlibConvolution]
  let windowWidth: Int
  let windowHeight: Int
  let suppression: BoxOverlapTest
  let pyramidPadding: Int
  let pyramidOuterPadding: Int
  let pyramidDownsampling: Int
  private let file: SafeTensorsFile

  /// Loads the detector from the weights file at `path` (see
  /// `init(weights:maxPixels:)`).
  public convenience init(path: String, maxPixels: Int = FaceDetector.defaultMaxPixels) throws {
    try self.init(weights: SafeTensorsFile(path: path), maxPixels: maxPixels)
  }

  /// Loads the detector from an opened weights file, checking its
  /// architecture, metadata and tensors; `maxPixels` is `detect`'s budget.
  ///
  /// - Throws: `FaceNetworkError.wrongArchitecture` for another network's
  ///   file, `FaceNetworkError.malformedWeights` for bad metadata or
  ///   non-finite weights, and the file's errors for a missing or misshapen
  ///   tensor.
  public init(weights file: SafeTensorsFile, maxPixels: Int = FaceDetector.defaultMaxPixels) throws {
    self.file = file
    let path = file.path
    self.path = path
    metadata = file.metadata
    self.maxPixels = maxPixels
    let found = file.metadata["architecture"] ?? "(none)"
    guard found == Self.architecture else {
      throw FaceNetworkError.wrongArchitecture(path: path, found: found, expected: Self.architecture)
    }
    func bad(_ reason: String) -> FaceNetworkError { .malformedWeights(path: path, reason: reason) }
    func number(_ key: String) throws -> Double {
      guard let v = Double(file.metadata[key] ?? ""), v.isFinite else { throw bad("metadata '\(key)' is not a number") }
      return v
    }
    func integer(_ key: String) throws -> Int {
      guard let v = Int(file.metadata[key] ?? ""), v >= 0 else {
        throw bad("metadata '\(key)' is not a non-negative integer")
      }
      return v
    }
    inputMean = try FaceEmbedder.means(file, path: path)
    pyramidPadding = try integer("pyramid_padding")
    pyramidOuterPadding = try integer("pyramid_outer_padding")
    pyramidDownsampling = try integer("pyramid_down")
    guard pyramidDownsampling >= 2, try integer("pyramid_min_height") == 5 else {
      throw bad("pyramid_down must be at least 2 and pyramid_min_height 5")
    }
    suppression = BoxOverlapTest(
      iouThreshold: try number("overlaps_nms_iou"), coveredThreshold: try number("overlaps_nms_percent_covered"))
    guard file.metadata["use_bounding_box_regression"] == "false" else {
      throw bad("bounding-box regression is not supported")
    }
    guard let text = file.metadata["detector_windows"], case .array(let windows)? = try? JSONValue.parse(text),
      windows.count == 1, let w = windows[0]["width"]?.nonNegativeInteger,
      let h = windows[0]["height"]?.nonNegativeInteger, w > 0, h > 0
    else {
      throw bad("detector_windows must hold one {width, height} window")
    }
    windowWidth = w
    windowHeight = h

    var layers: [DlibConvolution] = []
    var channels = 3
    let plan: [(String, Int, Int, Int, Bool)] = [
      ("downsample.0", 16, 5, 2, true), ("downsample.1", 32, 5, 2, true), ("downsample.2", 32, 5, 2, true),
      ("features.0", 45, 5, 1, true), ("features.1", 45, 5, 1, true), ("features.2", 45, 5, 1, true),
      ("score", 1, 9, 1, false),
    ]
    for (name, out, kernel, stride, hasAffine) in plan {
      let weights = try file.floats("\(name).conv.weight", shape: [out, channels, kernel, kernel])
      let bias = try file.floats("\(name).conv.bias", shape: [out])
      let gamma = hasAffine ? try file.floats("\(name).affine.gamma", shape: [out]) : nil
      let beta = hasAffine ? try file.floats("\(name).affine.beta", shape: [out]) : nil
      guard (weights + bias + (gamma ?? []) + (beta ?? [])).allSatisfy(\.isFinite) else {
        throw bad("\(name) has non-finite values")
      }
      layers.append(
        DlibConvolution(
          weights: weights, bias: bias, gamma: gamma, beta: beta, outputChannels: out, inputChannels: channels,
          kernel: kernel, stride: stride, relu: hasAffine))
      channels = out
    }
    self.layers = layers
  }

  /// SHA-256 of the weight file (recorded in identity banks).
  public var weightsSHA256: String { file.sha256() }

  /// The faces in `image`, highest confidence first.
  ///
  /// - Parameters:
  ///   - image: the image to search (an empty one has no faces).
  ///   - upsample: how many times to double the image first (as dlib's
  ///     `detector(img, upsample_num_times)`): finds faces down to ≈ 40 px
  ///     at 1, ≈ 20 px at 2, for 4× the pixels each time. Default 0: faces
  ///     from ≈ 80 px.
  ///   - threshold: report windows scoring above this (dlib's
  ///     `adjust_threshold`; default 0, what dlib's Python binding uses).
  ///     Lower finds more faces and more false alarms.
  ///   - workers: threads that share each convolution's rows.
  /// - Throws: `FaceNetworkError.imageTooLarge` above `maxPixels`.
  public func detect(
    _ image: RGBImage, upsample: Int = 0, threshold: Float = 0, workers: Int = ParallelFor.defaultWorkers
  ) throws -> [FaceDetection] {
    guard (0...8).contains(upsample) else {
      throw FaceNetworkError.invalidArgument("upsample must be in 0…8, got \(upsample)")
    }
    guard threshold.isFinite else { throw FaceNetworkError.invalidArgument("threshold must be finite") }
    var rows = image.height
    var cols = image.width
    for _ in 0..<upsample {
      (rows, cols) = Self.upsampledSize(rows: rows, cols: cols)
    }
    let (pixels, overflow) = rows.multipliedReportingOverflow(by: cols)
    guard !overflow, pixels <= maxPixels else {
      throw FaceNetworkError.imageTooLarge(
        width: image.width, height: image.height, upsample: upsample, pixels: overflow ? Int.max : pixels,
        budget: maxPixels)
    }
    guard image.width > 0, image.height > 0 else { return [] }
    var scaled = image
    for _ in 0..<upsample { scaled = Self.upsampled(scaled) }
    let pyramid = DlibTiledPyramid(
      imageHeight: scaled.height, imageWidth: scaled.width, padding: pyramidPadding, outerPadding: pyramidOuterPadding,
      downsampling: pyramidDownsampling)
    let scores = scoreMap(pyramid: pyramid, image: scaled, workers: max(1, workers))
    return windows(in: scores, pyramid: pyramid, threshold: threshold).map { box, score in
      var b = RealBox(left: Double(box.left), top: Double(box.top), right: Double(box.right), bottom: Double(box.bottom))
      for _ in 0..<upsample {  // pyramid_down<2>::point_down
        b = RealBox(left: b.left / 2 - 1.25, top: b.top / 2 - 0.75, right: b.right / 2 - 1.25, bottom: b.bottom / 2 - 0.75)
      }
      let r = upsample > 0 ? b.rounded : box
      return FaceDetection(left: r.left, top: r.top, right: r.right, bottom: r.bottom, confidence: score)
    }
  }
}
