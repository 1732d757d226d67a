import FeatureExtraction

/// Several line plots tiled into one image, row by row: one panel per
/// dataset, so a reader compares the shapes of the curves at a glance.
public enum SmallMultiples {
  /// `plots` rendered at `panelWidth × panelHeight` each, `columns` per row,
  /// on a white background.
  public static func render(_ plots: [LinePlot], columns: Int, panelWidth: Int = 720, panelHeight: Int = 440) -> RGBImage {
    let columns = max(1, min(columns, plots.count))
    let rows = (plots.count + columns - 1) / columns
    let width = columns * panelWidth
    let height = max(1, rows) * panelHeight
    var pixels = [UInt8](repeating: 255, count: width * height * 3)
    for (i, plot) in plots.enumerated() {
      var p = plot
      p.width = panelWidth
      p.height = panelHeight
      let panel = p.render()
      let x0 = (i % columns) * panelWidth
      let y0 = (i / columns) * panelHeight
      for y in 0..<panel.height {
        let source = y * panel.width * 3
        let target = ((y0 + y) * width + x0) * 3
        pixels.replaceSubrange(target..<(target + panel.width * 3), with: panel.pixels[source..<(source + panel.width * 3)])
      }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }
}
