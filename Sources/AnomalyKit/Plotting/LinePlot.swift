import FeatureExtraction
import Foundation

/// A line chart rendered straight to pixels (no plotting library on the
/// CPU-only target): axes, a light grid, tick labels, one coloured line per
/// series and a legend, in a small built-in bitmap font. Used for
/// `coldstart eval --plot`; the numbers behind it are always available as
/// CSV/JSON for a proper plotting tool.
public struct LinePlot: Sendable {
  /// One line of the chart.
  public struct Series: Sendable {
    /// The line's name in the legend.
    public var label: String
    /// The y value at each step, from step 1; non-finite values are skipped.
    public var values: [Double]
    /// A named line.
    ///
    /// - Parameters:
    ///   - label: the name in the legend.
    ///   - values: the y value at each step.
    public init(label: String, values: [Double]) {
      self.label = label
      self.values = values
    }
  }

  /// The lines, coloured in turn from matplotlib's tab10 palette.
  public var series: [Series]
  /// Label under the x axis (the steps).
  public var xLabel: String
  /// Label above the y axis.
  public var yLabel: String
  /// Title above the chart; empty for none.
  public var title: String
  /// Image width in pixels (default 900).
  public var width = 900
  /// Image height in pixels (default 540).
  public var height = 540
  /// Glyph scale (pixels per font cell).
  public var scale = 2

  /// A chart of `series` at the default size (900 × 540, glyph scale 2).
  ///
  /// - Parameters:
  ///   - series: the lines.
  ///   - xLabel: label under the x axis.
  ///   - yLabel: label above the y axis.
  ///   - title: title above the chart (default none).
  public init(series: [Series], xLabel: String, yLabel: String, title: String = "") {
    self.series = series
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.title = title
  }

  /// matplotlib's tab10 colours, in order.
  static let palette: [(UInt8, UInt8, UInt8)] = [
    (31, 119, 180), (214, 39, 40), (148, 103, 189), (44, 160, 44), (255, 127, 14), (140, 86, 75), (227, 119, 194), (127, 127, 127),
  ]

  /// Draws the chart: y ticks at 1, 2 or 5 × 10ᵏ spanning the finite
  /// values, x ticks at 0, 25, 50, 75 and 100 % of the longest series.
  ///
  /// - Returns: a `width × height` image on a white background.
  public func render() -> RGBImage {
    var canvas = Canvas(width: width, height: height)
    let left = 90
    let right = width - 20
    let top = title.isEmpty ? 36 : 60
    let bottom = height - 60
    let finite = series.flatMap(\.values).filter(\.isFinite)
    let steps = series.map(\.values.count).max() ?? 0
    var low = finite.min() ?? 0
    var high = finite.max() ?? 1
    if high - low < 1e-9 {
      low -= 0.01
      high += 0.01
    }
    // Nice ticks: 1, 2 or 5 × 10^k, about six of them.
    let rawStep = (high - low) / 6
    let magnitude = pow(10, floor(log10(rawStep)))
    let tick = [1.0, 2.0, 5.0, 10.0].map { $0 * magnitude }.first { $0 >= rawStep } ?? rawStep
    low = (low / tick).rounded(.down) * tick
    high = (high / tick).rounded(.up) * tick
    func x(_ step: Double) -> Int { left + Int((step / Double(max(1, steps - 1))) * Double(right - left)) }
    func y(_ v: Double) -> Int { bottom - Int(((v - low) / (high - low)) * Double(bottom - top)) }

    // Grid and y ticks.
    var v = low
    let decimals = max(0, -Int(floor(log10(tick))))
    while v <= high + tick / 2 {
      canvas.line(left, y(v), right, y(v), color: (225, 225, 225))
      let label = String(format: "%.*f", decimals, v)
      canvas.text(label, x: left - 8 - label.count * 6 * scale, y: y(v) - 3 * scale, scale: scale, color: (60, 60, 60))
      v += tick
    }
    // x ticks at 0, 25, 50, 75, 100% of the stream.
    for fraction in [0.0, 0.25, 0.5, 0.75, 1.0] {
      let step = fraction * Double(max(1, steps - 1))
      canvas.line(x(step), bottom, x(step), bottom + 5, color: (0, 0, 0))
      let label = String(Int(step.rounded()) + 1)
      canvas.text(label, x: x(step) - label.count * 3 * scale, y: bottom + 10, scale: scale, color: (60, 60, 60))
    }
    canvas.line(left, top, left, bottom, color: (0, 0, 0))
    canvas.line(left, bottom, right, bottom, color: (0, 0, 0))
    canvas.text(xLabel, x: (left + right) / 2 - xLabel.count * 3 * scale, y: height - 24, scale: scale, color: (0, 0, 0))
    canvas.text(yLabel, x: left - 8 - yLabel.count * 6 * scale / 2, y: top - 22, scale: scale, color: (0, 0, 0))
    if !title.isEmpty { canvas.text(title, x: left, y: 12, scale: scale, color: (0, 0, 0)) }

    // Curves, then the legend on top.
    for (i, s) in series.enumerated() {
      let color = Self.palette[i % Self.palette.count]
      var previous: (Int, Int)?
      for (t, value) in s.values.enumerated() where value.isFinite {
        let point = (x(Double(t)), y(value))
        if let p = previous { canvas.line(p.0, p.1, point.0, point.1, color: color, thickness: 2) }
        previous = point
      }
    }
    let legendX = right - 14 * scale * 6 - 40
    for (i, s) in series.enumerated() {
      let color = Self.palette[i % Self.palette.count]
      let rowY = bottom - 12 - (series.count - i) * 11 * scale
      canvas.fill(legendX - 6, rowY - 6, legendX + 14 * scale * 6 + 34, rowY + 8 * scale - 2, color: (255, 255, 255))
      canvas.line(legendX, rowY + 3 * scale, legendX + 24, rowY + 3 * scale, color: color, thickness: 3)
      canvas.text(s.label, x: legendX + 32, y: rowY, scale: scale, color: (0, 0, 0))
    }
    return RGBImage(width: width, height: height, pixels: canvas.pixels)
  }
}

/// An RGB pixel buffer with clipped drawing.
struct Canvas {
  let width: Int
  let height: Int
  var pixels: [UInt8]

  init(width: Int, height: Int) {
    self.width = width
    self.height = height
    pixels = [UInt8](repeating: 255, count: width * height * 3)
  }

  mutating func set(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
    guard x >= 0, y >= 0, x < width, y < height else { return }
    let i = (y * width + x) * 3
    pixels[i] = c.0
    pixels[i + 1] = c.1
    pixels[i + 2] = c.2
  }

  mutating func fill(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, color: (UInt8, UInt8, UInt8)) {
    for y in min(y0, y1)...max(y0, y1) {
      for x in min(x0, x1)...max(x0, x1) { set(x, y, color) }
    }
  }

  /// Bresenham's line, `thickness` pixels wide.
  mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, color: (UInt8, UInt8, UInt8), thickness: Int = 1) {
    var x = x0
    var y = y0
    let dx = abs(x1 - x0)
    let dy = -abs(y1 - y0)
    let sx = x0 < x1 ? 1 : -1
    let sy = y0 < y1 ? 1 : -1
    var err = dx + dy
    while true {
      for ox in 0..<thickness {
        for oy in 0..<thickness { set(x + ox - thickness / 2, y + oy - thickness / 2, color) }
      }
      if x == x1 && y == y1 { break }
      let e2 = 2 * err
      if e2 >= dy {
        err += dy
        x += sx
      }
      if e2 <= dx {
        err += dx
        y += sy
      }
    }
  }

  mutating func text(_ s: String, x: Int, y: Int, scale: Int, color: (UInt8, UInt8, UInt8)) {
    var cursor = x
    for ch in s {
      for gy in 0..<BitmapFont.height {
        for gx in 0..<BitmapFont.width where BitmapFont.ink(ch, x: gx, y: gy) {
          fill(cursor + gx * scale, y + gy * scale, cursor + gx * scale + scale - 1, y + gy * scale + scale - 1, color: color)
        }
      }
      cursor += (BitmapFont.width + 1) * scale
    }
  }
}
