/// Per-patch descriptors computed straight from the pixels, for forensic
/// (real-vs-generated) banks: a high-pass residual of the image, cut into
/// small patches whose flattened values are the feature.
///
/// Generators leave their traces in the local pixel statistics — the
/// upsampling pattern of the decoder, over-regular texture — rather than in
/// what the image shows (LaDeDa: a 9×9 receptive field is enough). A
/// residual removes most of the content and keeps those statistics.
///
/// Residuals, on the network-normalised input x (HWC):
/// - `npr`: neighbouring-pixel relationships (Tan et al., CVPR 2024, as the
///   LaDeDa code's default preprocessing): r = x − NN_up₂(NN_down₂(x)), each
///   pixel minus the top-left pixel of its 2×2 block. Upsampling layers copy
///   or interpolate pixels inside such blocks, so their residual has a
///   structure camera images lack.
/// - `diagonal`: the right-diagonal gradient of Tiny-LaDeDa's preprocessing,
///   per channel, kernel [[-2,-1,0],[-1,0,1],[0,1,2]] with zero "same" padding
///   (as a cross-correlation, PyTorch's convention).
/// - `none`: the pixels themselves.
///
/// Patches are `patch × patch` windows every `stride` pixels from the top-left
/// corner (LaDeDa: 9×9 every 8, overlapping by one pixel), and each is the
/// `patch² · 3` vector of its residual values in (y, x, channel) order.
public struct PixelPatchDescriptor: Sendable, Equatable {
  /// The high-pass filter applied before the patches are cut; the raw
  /// values are the names recorded in bank files.
  public enum Residual: String, Sendable, CaseIterable {
    /// Each pixel minus the top-left pixel of its 2×2 block (NPR).
    case npr
    /// The right-diagonal gradient of Tiny-LaDeDa, a 3×3 kernel per channel.
    case diagonal
    /// No filter: the normalised pixels themselves.
    case none
  }

  /// The residual the patches are cut from.
  public var residual: Residual
  /// Side of a square patch, in pixels (at least 1; LaDeDa: 9).
  public var patch: Int
  /// Pixels between the top-left corners of neighbouring patches (at least
  /// 1; LaDeDa: 8).
  public var stride: Int

  /// A descriptor with `patch` and `stride` raised to at least 1.
  public init(residual: Residual, patch: Int, stride: Int) {
    self.residual = residual
    self.patch = max(1, patch)
    self.stride = max(1, stride)
  }

  /// Feature width: one value per pixel and channel of a patch.
  public var dimension: Int { patch * patch * 3 }

  /// Patches per side of a `size × size` input.
  public func gridSide(_ size: Int) -> Int { size < patch ? 0 : (size - patch) / stride + 1 }

  /// The residual of one `size × size × 3` HWC image.
  public func residualImage(_ x: UnsafeBufferPointer<Float>, size: Int) -> [Float] {
    var r = [Float](repeating: 0, count: size * size * 3)
    switch residual {
    case .none:
      for i in 0..<r.count { r[i] = x[i] }
    case .npr:
      for y in 0..<size {
        let by = y & ~1
        for xx in 0..<size {
          let bx = xx & ~1
          let o = (y * size + xx) * 3
          let b = (by * size + bx) * 3
          r[o] = x[o] - x[b]
          r[o + 1] = x[o + 1] - x[b + 1]
          r[o + 2] = x[o + 2] - x[b + 2]
        }
      }
    case .diagonal:
      // out[y, x] = Σ_{dy,dx ∈ -1…1} K[dy+1][dx+1] · x[y+dy, x+dx]
      let k: [Float] = [-2, -1, 0, -1, 0, 1, 0, 1, 2]
      for y in 0..<size {
        for xx in 0..<size {
          let o = (y * size + xx) * 3
          var a: Float = 0
          var b: Float = 0
          var c: Float = 0
          for dy in -1...1 {
            let yy = y + dy
            if yy < 0 || yy >= size { continue }
            for dx in -1...1 {
              let w = k[(dy + 1) * 3 + dx + 1]
              let xs = xx + dx
              if w == 0 || xs < 0 || xs >= size { continue }
              let i = (yy * size + xs) * 3
              a += w * x[i]
              b += w * x[i + 1]
              c += w * x[i + 2]
            }
          }
          r[o] = a
          r[o + 1] = b
          r[o + 2] = c
        }
      }
    }
    return r
  }

  /// Appends the `gridSide(size)² × dimension` patch rows of one image
  /// (row-major over the patch grid) to `out`.
  public func describe(_ x: UnsafeBufferPointer<Float>, size: Int, into out: inout [Float]) {
    let r = residualImage(x, size: size)
    let side = gridSide(size)
    out.reserveCapacity(out.count + side * side * dimension)
    for py in 0..<side {
      for px in 0..<side {
        for y in (py * stride)..<(py * stride + patch) {
          let start = (y * size + px * stride) * 3
          out.append(contentsOf: r[start..<(start + patch * 3)])
        }
      }
    }
  }
}
