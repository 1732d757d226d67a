/// The input representation Tiny-LaDeDa computes from the normalised image
/// before its first convolution (`preprocess` in the authors'
/// `networks/Tiny_LaDeDa.py`), per RGB channel:
///
/// - a **gradient** filter, a 3×3 cross-correlation with zero "same"
///   padding, `g[y,x] = Σ_{i,j ∈ −1…1} K[i+1, j+1] · x[y+i, x+j]`
///   (`x` = 0 outside the image), with one of the authors' kernels
///   `right_diag` [[-2,-1,0],[-1,0,1],[0,1,2]] (their default),
///   `left_diag` [[0,1,2],[-1,0,1],[-2,-1,0]],
///   `x_grad` [[-1,0,1],[-2,0,2],[-1,0,1]] or
///   `y_grad` [[-1,-2,-1],[0,0,0],[1,2,1]];
/// - **NPR** (neighbouring pixel relationships), the residual of a
///   nearest-neighbour down- and up-sampling by 2,
///   `g[y,x] = x[y,x] − x[2⌊y/2⌋, 2⌊x/2⌋]`: each pixel minus the top-left
///   pixel of its 2×2 block. (PyTorch's two `interpolate` calls need even
///   sides; the formula is defined for any size.)
///
/// A checkpoint does not record which one it was trained on; the converter
/// writes it into the weights file's `preprocess` metadata (see
/// `Weights/FORMAT.md`).
public enum TinyLaDeDaPreprocess: Sendable, Equatable {
  /// A 3×3 gradient kernel, row-major, with its name in the authors' code.
  case gradient(name: String, kernel: [Float])
  /// `x − up₂(down₂(x))`, nearest neighbour.
  case npr

  /// The authors' four gradient kernels, by name.
  public static let gradientKernels: [String: [Float]] = [
    "right_diag": [-2, -1, 0, -1, 0, 1, 0, 1, 2],
    "left_diag": [0, 1, 2, -1, 0, 1, -2, -1, 0],
    "x_grad": [-1, 0, 1, -2, 0, 2, -1, 0, 1],
    "y_grad": [-1, -2, -1, 0, 0, 0, 1, 2, 1],
  ]

  /// The representation called `name` in the authors' code (`right_diag`,
  /// `left_diag`, `x_grad`, `y_grad` or `NPR`).
  public init?(name: String) {
    if name == "NPR" {
      self = .npr
    } else if let kernel = Self.gradientKernels[name] {
      self = .gradient(name: name, kernel: kernel)
    } else {
      return nil
    }
  }

  /// The name in the authors' code.
  public var name: String {
    switch self {
    case .gradient(let name, _): return name
    case .npr: return "NPR"
    }
  }

  /// Every name `init(name:)` accepts.
  public static var names: [String] { gradientKernels.keys.sorted() + ["NPR"] }

  /// The patch grid's window in input pixels, from the layers that follow
  /// (3×3 conv, then 3×3 stride-2 conv; see `TinyLaDeDa`): a gradient filter
  /// sees one more pixel on each side, so cell `i` covers `2i − 1 ..< 2i + 6`
  /// (7 pixels); NPR only looks back to the even pixel of a 2×2 block, which
  /// the window already starts on, so cell `i` covers `2i ..< 2i + 5`.
  public var receptiveField: ReceptiveField {
    switch self {
    case .gradient: return ReceptiveField(size: 7, stride: 2, offset: -1)
    case .npr: return ReceptiveField(size: 5, stride: 2, offset: 0)
    }
  }
}
