import FeatureExtraction
import Foundation
import OODFront
import Testing

/// `FaceChip` against dlib's `get_face_chip(img, shape, size=150, padding=0.25)`
/// (`Tests/Fixtures/faces-landmarks/make_fixtures.py`).
@Suite("FaceChip parity with dlib")
struct FaceChipTests {
  @Test("150x150 chips within 1 grey level of dlib's (plain, border-crossing, pyramid)")
  func parity() throws {
    let fixtures = try FaceFixtures.load()
    #expect(fixtures.chip_size == FaceChip.defaultSize && fixtures.chip_padding == FaceChip.defaultPadding)
    var worst = 0
    var differing = 0
    var total = 0
    for c in fixtures.cases {
      let image = try FaceFixtures.image(c.image, repeat: c.`repeat`)
      let landmarks = c.landmarks.map { FacePoint(x: Double($0[0]), y: Double($0[1])) }
      let chip = try FaceChip.extract(from: image, landmarks: landmarks)
      let expected = try ImageDecoder.decode(path: TestPaths.fixture("faces-landmarks/" + c.chip))
      #expect(chip.width == 150 && chip.height == 150, "\(c.name)")
      #expect(expected.width == chip.width && expected.height == chip.height, "\(c.name)")
      var caseWorst = 0
      for (a, b) in zip(chip.pixels, expected.pixels) {
        let d = abs(Int(a) - Int(b))
        caseWorst = max(caseWorst, d)
        if d != 0 { differing += 1 }
      }
      total += chip.pixels.count
      #expect(caseWorst <= 1, "\(c.name): max |Δ| = \(caseWorst)")
      worst = max(worst, caseWorst)
    }
    print("FaceChip parity: max |Δ| = \(worst) grey levels, \(differing) of \(total) channel values differ")
    #expect(worst <= 1)
  }

  @Test("the pyramid case really goes through pyramid_down")
  func pyramidCase() throws {
    let fixtures = try FaceFixtures.load()
    let c = try #require(fixtures.cases.first { $0.name.hasSuffix("-pyramid") })
    let details = try FaceChip.details(landmarks: c.landmarks.map { FacePoint(x: Double($0[0]), y: Double($0[1])) })
    let halfWidth = (details.right - details.left + 1) / 2, halfHeight = (details.bottom - details.top + 1) / 2
    #expect(halfWidth * halfHeight > Double(details.rows * details.cols))
  }

  @Test("wrong landmark counts, non-finite points, bad sizes and empty images are refused")
  func badInput() throws {
    let five: [FacePoint] = [
      FacePoint(x: 40, y: 20), FacePoint(x: 33, y: 21), FacePoint(x: 12, y: 20), FacePoint(x: 19, y: 21),
      FacePoint(x: 26, y: 35),
    ]
    #expect(throws: FaceAlignmentError.wrongLandmarkCount(expected: 5, actual: 4)) {
      try FaceChip.details(landmarks: Array(five.prefix(4)))
    }
    var nan = five
    nan[2].y = Double.nan
    #expect(throws: FaceAlignmentError.nonFiniteLandmark(index: 2)) { try FaceChip.details(landmarks: nan) }
    #expect(throws: FaceAlignmentError.invalidChipParameters(size: 0, padding: 0.25)) {
      try FaceChip.details(landmarks: five, size: 0)
    }
    #expect(throws: FaceAlignmentError.invalidChipParameters(size: 150, padding: -1)) {
      try FaceChip.details(landmarks: five, padding: -1)
    }
    #expect(throws: FaceAlignmentError.emptyImage(width: 0, height: 0)) {
      try FaceChip.extract(from: RGBImage(width: 0, height: 0, pixels: []), landmarks: five)
    }
  }

  @Test("a chip whose source lies entirely outside the image is black")
  func outside() throws {
    let image = RGBImage(width: 40, height: 30, pixels: [UInt8](repeating: 200, count: 40 * 30 * 3))
    let far = [
      FacePoint(x: 1040, y: 1020), FacePoint(x: 1033, y: 1021), FacePoint(x: 1012, y: 1020), FacePoint(x: 1019, y: 1021),
      FacePoint(x: 1026, y: 1035),
    ]
    let chip = try FaceChip.extract(from: image, landmarks: far)
    #expect(chip.width == 150 && chip.height == 150)
    #expect(chip.pixels.allSatisfy { $0 == 0 })
  }
}
