import AnomalyKit
import Density
import Foundation
import TensorFiles
import Testing

/// Pixel AUROC, AUPRO and dense anomaly maps against scikit-learn, the MVTec
/// AD evaluation algorithm (scipy) and PyTorch + scipy
/// (`Tests/Fixtures/segmentation/make_fixtures.py`).
@Suite("Segmentation metrics: parity with scikit-learn, scipy and PyTorch")
struct SegmentationMetricsTests {
  static func expected() throws -> JSONValue {
    try JSONValue.parse(String(contentsOfFile: DensityPaths.repositoryRoot + "/Tests/Fixtures/segmentation/expected.json", encoding: .utf8))
  }

  static func numbers(_ v: JSONValue?) -> [Double] {
    guard case .array(let items)? = v else { return [] }
    return items.compactMap { if case .number(let x) = $0 { return x } else { return nil } }
  }

  static func rows(_ v: JSONValue?) -> [[Double]] {
    guard case .array(let items)? = v else { return [] }
    return items.map { numbers($0) }
  }

  static func images() throws -> [RegionOverlap.Image] {
    let e = try expected()
    let h = try #require(e["height"]?.nonNegativeInteger), w = try #require(e["width"]?.nonNegativeInteger)
    return zip(rows(e["maps"]), rows(e["masks"])).map { m, g in
      RegionOverlap.Image(scores: m.map { Float($0) }, mask: g.map { $0 != 0 }, height: h, width: w)
    }
  }

  @Test("8-connected regions: diagonal neighbours join, six regions in all")
  func regions() throws {
    let total = try Self.images().reduce(0) { $0 + RegionOverlap.label($1.mask, height: $1.height, width: $1.width).count }
    #expect(total == (try Self.expected()["regions"]?.nonNegativeInteger))
    let (labels, count) = RegionOverlap.label([true, false, false, true], height: 2, width: 2)
    #expect(count == 1 && labels == [1, 0, 0, 1])
  }

  @Test("AUPRO at 0.3 and 0.05 FPR and pixel AUROC match the references to 1e-9")
  func aupro() throws {
    let images = try Self.images()
    let e = try Self.expected()
    let want = Self.numbers(.array(["aupro_0.3", "aupro_0.05", "pixel_auroc"].map { e[$0] ?? .null }))
    try #require(want.count == 3, "missing references")
    let got = try #require(RegionOverlap.aupro(images))
    #expect(abs(got - want[0]) < 1e-9, "\(got) vs \(want[0])")
    let early = try #require(RegionOverlap.aupro(images, maxFPR: 0.05))
    #expect(abs(early - want[1]) < 1e-9, "\(early) vs \(want[1])")
    #expect(RegionOverlap.curve(images)?.fpr.count == e["curve_points"]?.nonNegativeInteger)
    let pixel = try #require(Metrics.auroc(scores: images.flatMap(\.scores), labels: images.flatMap(\.mask)))
    #expect(abs(pixel - want[2]) < 1e-9, "\(pixel) vs \(want[2])")
    // No region at all: undefined, not 0.
    #expect(RegionOverlap.aupro([RegionOverlap.Image(scores: [0, 1], mask: [false, false], height: 1, width: 2)]) == nil)
  }

  @Test("Dense map: bilinear resize and scipy's Gaussian (sigma 4 at input resolution) within 1e-5")
  func denseMap() throws {
    let e = try Self.expected()
    let grid = Self.numbers(e["grid"]).map { Float($0) }
    let want = Self.numbers(e["dense"])
    let got = AnomalyMap.dense(grid, gridHeight: 7, gridWidth: 7, width: 40, height: 30, inputSize: 56)
    #expect(got.count == want.count)
    let worst = zip(got, want).reduce(0.0) { max($0, abs(Double($1.0) - $1.1)) }
    #expect(worst < 1e-5, "max difference \(worst)")
  }
}
