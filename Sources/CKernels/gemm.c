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

static inline __attribute__((always_inline)) float ak_activate1(float v, ak_activation activation) {
  switch (activation) {
  case AK_ACTIVATION_RELU6: return v < 0 ? 0 : (v > 6 ? 6 : v);
  case AK_ACTIVATION_RELU: return v < 0 ? 0 : v;
  default: return v;
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
#include <immintrin.h>

#define AK_AVX2 __attribute__((target("avx2,fma")))
#define AK_INLINE static inline __attribute__((always_inline))

AK_INLINE AK_AVX2 __m256 ak_activate8(__m256 v, ak_activation activation) {
  switch (activation) {
  case AK_ACTIVATION_RELU6: return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(6));
  case AK_ACTIVATION_RELU: return _mm256_max_ps(v, _mm256_setzero_ps());
  default: return v;
  }
}

/// Lanes [0, count) set, for the last columns of C.
AK_INLINE AK_AVX2 __m256i ak_lane_mask(ptrdiff_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// Applies bias, activation and residual to one accumulator and stores the
/// first `count` (1…8) lanes.
AK_INLINE AK_AVX2 void ak_finish8(__m256 acc, const float *bias, const float *residual, float *c, ptrdiff_t count,
                                  ak_activation activation) {
  __m256 v = ak_activate8(_mm256_add_ps(acc, _mm256_loadu_ps(bias)), activation);
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
  for (int i = 0; i < MR; i++) {
    const float *r = residual ? residual + i * ldc : 0;
    ak_finish8(acc0[i], panel, r, c + i * ldc, columns < 8 ? columns : 8, activation);
    if (NR == 16 && columns > 8) ak_finish8(acc1[i], panel + 8, r ? r + 8 : 0, c + i * ldc + 8, columns - 8, activation);
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
#endif

void ak_gemm_bias_activation(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                             const float *packed, const float *residual, float *c, ptrdiff_t ldc,
                             ak_activation activation) {
  if (m <= 0 || n <= 0 || k <= 0) return;
#if defined(__x86_64__) && defined(__clang__)
  if (ak_cpu_has_avx2_fma()) {
    ak_gemm_avx2(m, n, k, a, lda, packed, residual, c, ldc, activation);
    return;
  }
#endif
  ak_gemm_portable(m, n, k, a, lda, packed, residual, c, ldc, activation);
}
