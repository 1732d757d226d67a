// Matrix product with fused bias, activation and residual for 1×1 and
// im2col convolutions: C = act(A·B + bias) (+ R).
//
// B (the weights) is packed once, at model load, into column panels:
//
//   panel j (width w = 16, or 8 for a short last panel):
//     [bias[16j ..< 16j+w]] [B[0, 16j ..< 16j+w]] … [B[k−1, 16j ..< 16j+w]]
//
// zero-padded past column n. The AVX2 micro-kernel computes a 6×16 (or 6×8)
// tile of C in twelve (six) YMM accumulators: per step p it loads one panel
// row, broadcasts A[i, p] for the six rows and issues twelve FMAs. A is read
// in place (no packing); the columns are taken in chunks whose panels fit in
// L2, so each 6-row block of A is reused from L1 across a chunk's panels.
// The bias, activation and residual are applied to the accumulators before
// the single store, so C is written once and never read.
//
// Every element of C is computed the same way whichever tile, tile shape
// (MR = 1…6 rows, 16 or 8 columns, masked last columns) or chunk it falls
// in: zero, then one FMA per p = 0, 1, …, k−1, then + bias, activation and
// + residual. A row of C therefore depends only on its own row of A: the
// result does not change with M or with the rows around it.

#include "ckernels.h"

enum { AK_PANEL = 16 };

/// Number of panels and the width of panel `j`.
static ptrdiff_t ak_panel_count(ptrdiff_t n) { return (n + AK_PANEL - 1) / AK_PANEL; }

static ptrdiff_t ak_panel_width(ptrdiff_t n, ptrdiff_t j) {
  const ptrdiff_t rest = n - j * AK_PANEL;
  return rest >= AK_PANEL ? AK_PANEL : (rest <= 8 ? 8 : AK_PANEL);
}

ptrdiff_t ak_gemm_packed_count(ptrdiff_t k, ptrdiff_t n) {
  if (k <= 0 || n <= 0) return 0;
  const ptrdiff_t panels = ak_panel_count(n);
  return (panels - 1) * AK_PANEL * (k + 1) + ak_panel_width(n, panels - 1) * (k + 1);
}

void ak_gemm_pack(const float *b, const float *bias, ptrdiff_t k, ptrdiff_t n, float *packed) {
  if (k <= 0 || n <= 0) return;
  const ptrdiff_t panels = ak_panel_count(n);
  for (ptrdiff_t j = 0; j < panels; j++) {
    const ptrdiff_t width = ak_panel_width(n, j);
    float *panel = packed + j * AK_PANEL * (k + 1);
    for (ptrdiff_t col = 0; col < width; col++) {
      const ptrdiff_t column = j * AK_PANEL + col;
      panel[col] = column < n ? bias[column] : 0;
      for (ptrdiff_t p = 0; p < k; p++) panel[(p + 1) * width + col] = column < n ? b[p * n + column] : 0;
    }
  }
}

/// Reference loop for CPUs without AVX2 + FMA (same packed layout, same
/// order of summation).
static void ak_gemm_portable(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                             const float *packed, const float *residual, float *c, ptrdiff_t ldc,
                             ak_activation activation) {
  for (ptrdiff_t i = 0; i < m; i++) {
    for (ptrdiff_t column = 0; column < n; column++) {
      const ptrdiff_t j = column / AK_PANEL, col = column % AK_PANEL;
      const ptrdiff_t width = ak_panel_width(n, j);
      const float *panel = packed + j * AK_PANEL * (k + 1);
      float sum = 0;
      for (ptrdiff_t p = 0; p < k; p++) sum += a[i * lda + p] * panel[(p + 1) * width + col];
      float v = ak_activate1(sum + panel[col], activation);
      if (residual) v += residual[i * ldc + column];
      c[i * ldc + column] = v;
    }
  }
}

#if defined(__x86_64__) && defined(__clang__)
#include "vector_math.h"

/// GELU of `count` vectors in place. Kept out of line (inlined into every
/// tile shape it would only grow the code; it runs once per tile, not per
/// step of k) and four vectors at a time, so that the long dependency
/// chains of independent vectors overlap.
static AK_AVX2 __attribute__((noinline)) void ak_gelu_vectors(__m256 *v, int count) {
  int i = 0;
  for (; i + 4 <= count; i += 4) {
    const __m256 g0 = ak_gelu8(v[i]), g1 = ak_gelu8(v[i + 1]), g2 = ak_gelu8(v[i + 2]), g3 = ak_gelu8(v[i + 3]);
    v[i] = g0;
    v[i + 1] = g1;
    v[i + 2] = g2;
    v[i + 3] = g3;
  }
  for (; i < count; i++) v[i] = ak_gelu8(v[i]);
}

AK_INLINE AK_AVX2 __m256 ak_activate8(__m256 v, ak_activation activation) {
  switch (activation) {
  case AK_ACTIVATION_RELU6: return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(6));
  case AK_ACTIVATION_RELU: return _mm256_max_ps(v, _mm256_setzero_ps());
  default: return v;
  }
}

/// Adds the residual (if any) to `v` and stores the first `count` (1…8)
/// lanes.
AK_INLINE AK_AVX2 void ak_store8(__m256 v, const float *residual, float *c, ptrdiff_t count) {
  if (count >= 8) {
    if (residual) v = _mm256_add_ps(v, _mm256_loadu_ps(residual));
    _mm256_storeu_ps(c, v);
  } else {
    const __m256i mask = ak_lane_mask(count);
    if (residual) v = _mm256_add_ps(v, _mm256_maskload_ps(residual, mask));
    _mm256_maskstore_ps(c, mask, v);
  }
}

/// One MR×NR tile (MR ≤ 6, NR = 16 or 8) of C; `columns` ≤ NR are stored.
/// Inlined with constant MR and NR so the accumulators live in registers.
AK_INLINE AK_AVX2 void ak_tile(const int MR, const int NR, ptrdiff_t k, const float *a, ptrdiff_t lda,
                               const float *panel, const float *residual, float *c, ptrdiff_t ldc, ptrdiff_t columns,
                               ak_activation activation) {
  __m256 acc0[6], acc1[6];
  for (int i = 0; i < MR; i++) {
    acc0[i] = _mm256_setzero_ps();
    acc1[i] = _mm256_setzero_ps();
  }
  const float *b = panel + NR;
  for (ptrdiff_t p = 0; p < k; p++) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = NR == 16 ? _mm256_loadu_ps(b + 8) : _mm256_setzero_ps();
    for (int i = 0; i < MR; i++) {
      const __m256 x = _mm256_broadcast_ss(a + i * lda + p);
      acc0[i] = _mm256_fmadd_ps(x, b0, acc0[i]);
      if (NR == 16) acc1[i] = _mm256_fmadd_ps(x, b1, acc1[i]);
    }
    b += NR;
  }
  // Epilogue: v = act(acc + bias) for the tile's vectors (row i's at
  // v[i·V], v[i·V + 1] with V vectors per row), then + residual and store.
  const int V = NR == 16 ? 2 : 1;
  __m256 v[12];
  const __m256 bias0 = _mm256_loadu_ps(panel);
  const __m256 bias1 = NR == 16 ? _mm256_loadu_ps(panel + 8) : _mm256_setzero_ps();
  for (int i = 0; i < MR; i++) {
    v[i * V] = _mm256_add_ps(acc0[i], bias0);
    if (NR == 16) v[i * V + 1] = _mm256_add_ps(acc1[i], bias1);
  }
  if (activation == AK_ACTIVATION_GELU_ERF) {
    ak_gelu_vectors(v, MR * V);
  } else {
    for (int i = 0; i < MR * V; i++) v[i] = ak_activate8(v[i], activation);
  }
  for (int i = 0; i < MR; i++) {
    const float *r = residual ? residual + i * ldc : 0;
    ak_store8(v[i * V], r, c + i * ldc, columns < 8 ? columns : 8);
    if (NR == 16 && columns > 8) ak_store8(v[i * V + 1], r ? r + 8 : 0, c + i * ldc + 8, columns - 8);
  }
}

#define AK_TILE_CASES(NR)                                                                                             \
  switch (rows) {                                                                                                     \
  case 6: ak_tile(6, NR, k, a, lda, panel, residual, c, ldc, columns, activation); break;                            \
  case 5: ak_tile(5, NR, k, a, lda, panel, residual, c, ldc, columns, activation); break;                            \
  case 4: ak_tile(4, NR, k, a, lda, panel, residual, c, ldc, columns, activation); break;                            \
  case 3: ak_tile(3, NR, k, a, lda, panel, residual, c, ldc, columns, activation); break;                            \
  case 2: ak_tile(2, NR, k, a, lda, panel, residual, c, ldc, columns, activation); break;                            \
  default: ak_tile(1, NR, k, a, lda, panel, residual, c, ldc, columns, activation); break;                           \
  }

static AK_AVX2 void ak_tile_any(int rows, ptrdiff_t width, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                const float *panel, const float *residual, float *c, ptrdiff_t ldc, ptrdiff_t columns,
                                ak_activation activation) {
  if (width == 16) {
    AK_TILE_CASES(16)
  } else {
    AK_TILE_CASES(8)
  }
}

static AK_AVX2 void ak_gemm_avx2(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                 const float *packed, const float *residual, float *c, ptrdiff_t ldc,
                                 ak_activation activation) {
  const ptrdiff_t panels = ak_panel_count(n);
  // Panels per chunk: about 128 KiB of packed weights, so that they stay in
  // L2 while every 6-row block of A passes over them.
  ptrdiff_t chunk = (32 * 1024) / (AK_PANEL * (k + 1));
  if (chunk < 1) chunk = 1;
  for (ptrdiff_t j0 = 0; j0 < panels; j0 += chunk) {
    const ptrdiff_t j1 = j0 + chunk < panels ? j0 + chunk : panels;
    for (ptrdiff_t i = 0; i < m; i += 6) {
      const int rows = m - i < 6 ? (int)(m - i) : 6;
      for (ptrdiff_t j = j0; j < j1; j++) {
        const ptrdiff_t column = j * AK_PANEL;
        const ptrdiff_t columns = n - column < AK_PANEL ? n - column : AK_PANEL;
        ak_tile_any(rows, ak_panel_width(n, j), k, a + i * lda, lda, packed + j * AK_PANEL * (k + 1),
                    residual ? residual + i * ldc + column : 0, c + i * ldc + column, ldc, columns, activation);
      }
    }
  }
}

// MARK: AVX-512 (FP32)
//
// The same packed panels, read one 16-column panel per ZMM register: tiles
// of up to 12 rows × 32 columns (two panels, 24 accumulators in the 32 ZMM
// registers) or, for a lone panel, 12 rows × 16 columns; an 8-wide last
// panel goes to the AVX2 tiles, which fill a YMM register with it. Each
// element of C goes through the same operations in the same order as on the
// AVX2 path (zero, one FMA per p, + bias, activation, + residual; GELU by
// the same 8-lane ak_gelu8), so both paths give the same bits.

/// One MR × (16·P) tile of 16-wide panels. Inlined with constant MR and P.
AK_INLINE AK_AVX512 void ak_tile16(const int MR, const int P, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                    const float *panel0, const float *panel1, const float *residual, float *c,
                                    ptrdiff_t ldc, ptrdiff_t columns, ak_activation activation) {
  __m512 acc0[12], acc1[12];
  #pragma clang loop unroll(full)
  for (int i = 0; i < MR; i++) {
    acc0[i] = _mm512_setzero_ps();
    if (P == 2) acc1[i] = _mm512_setzero_ps();
  }
  const float *b0 = panel0 + 16, *b1 = panel1 + 16;
  for (ptrdiff_t p = 0; p < k; p++) {
    const __m512 w0 = _mm512_loadu_ps(b0);
    const __m512 w1 = P == 2 ? _mm512_loadu_ps(b1) : w0;
    #pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
      const __m512 x = _mm512_set1_ps(a[i * lda + p]);
      acc0[i] = _mm512_fmadd_ps(x, w0, acc0[i]);
      if (P == 2) acc1[i] = _mm512_fmadd_ps(x, w1, acc1[i]);
    }
    b0 += 16;
    b1 += 16;
  }
  ak_tile_epilogue16(MR, P, acc0, acc1, panel0, panel1, residual, c, ldc, columns, activation);
}

#define AK_TILE16(MR, P) ak_tile16(MR, P, k, a, lda, panel0, panel1, residual, c, ldc, columns, activation)
#define AK_TILE16_PAIR(MR) AK_TILE16(MR, 2)
#define AK_TILE16_SINGLE(MR) AK_TILE16(MR, 1)

/// `rows` (1…12) rows of one 16-wide panel pair (P = 2) or panel (P = 1).
static AK_AVX512 void ak_tile16_any(int rows, int P, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                    const float *panel0, const float *panel1, const float *residual, float *c,
                                    ptrdiff_t ldc, ptrdiff_t columns, ak_activation activation) {
  if (P == 2) {
    AK_ROWS_1_TO_12(rows, AK_TILE16_PAIR)
  } else {
    AK_ROWS_1_TO_12(rows, AK_TILE16_SINGLE)
  }
}

static AK_AVX512 void ak_gemm_avx512(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                     const float *packed, const float *residual, float *c, ptrdiff_t ldc,
                                     ak_activation activation) {
  const ptrdiff_t panels = ak_panel_count(n), size = AK_PANEL * (k + 1);
  // Panels per chunk: about 128 KiB of packed weights, an even number.
  ptrdiff_t chunk = (32 * 1024) / size;
  chunk = chunk < 2 ? 2 : chunk & ~(ptrdiff_t)1;
  for (ptrdiff_t j0 = 0; j0 < panels; j0 += chunk) {
    const ptrdiff_t j1 = j0 + chunk < panels ? j0 + chunk : panels;
    for (ptrdiff_t i = 0; i < m; i += 12) {
      const int rows = m - i < 12 ? (int)(m - i) : 12;
      // Pairs of full panels; a lone panel (the chunk's last, or an 8-wide last panel) alone.
      for (ptrdiff_t j = j0; j < j1;) {
        const ptrdiff_t column = j * AK_PANEL;
        if (ak_panel_width(n, j) != AK_PANEL) {
          // An 8-wide last panel fills half a ZMM register: the AVX2 tiles
          // (same bits) do it without the wasted half.
          for (int i6 = 0; i6 < rows; i6 += 6) {
            const int r6 = rows - i6 < 6 ? rows - i6 : 6;
            ak_tile_any(r6, 8, k, a + (i + i6) * lda, lda, packed + j * size,
                        residual ? residual + (i + i6) * ldc + column : 0, c + (i + i6) * ldc + column, ldc, n - column,
                        activation);
          }
          j += 1;
          continue;
        }
        const int pair = j + 1 < j1 && ak_panel_width(n, j + 1) == AK_PANEL;
        const ptrdiff_t span = pair ? 2 * AK_PANEL : AK_PANEL;
        const ptrdiff_t columns = n - column < span ? n - column : span;
        ak_tile16_any(rows, pair ? 2 : 1, k, a + i * lda, lda, packed + j * size,
                      packed + (pair ? j + 1 : j) * size, residual ? residual + i * ldc + column : 0,
                      c + i * ldc + column, ldc, columns, activation);
        j += pair ? 2 : 1;
      }
    }
  }
}
#endif

void ak_gemm_bias_activation(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                             const float *packed, const float *residual, float *c, ptrdiff_t ldc,
                             ak_activation activation) {
  if (m <= 0 || n <= 0 || k <= 0) return;
#if defined(__x86_64__) && defined(__clang__)
  if (ak_cpu_has_avx512f()) {
    ak_gemm_avx512(m, n, k, a, lda, packed, residual, c, ldc, activation);
    return;
  }
  if (ak_cpu_has_avx2_fma()) {
    ak_gemm_avx2(m, n, k, a, lda, packed, residual, c, ldc, activation);
    return;
  }
#endif
  ak_gemm_portable(m, n, k, a, lda, packed, residual, c, ldc, activation);
}
