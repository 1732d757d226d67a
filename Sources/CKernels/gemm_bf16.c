// Matrix product in bfloat16 with float32 accumulation, and the same fused
// epilogue as ak_gemm_bias_activation: C = act(bf16(A)·bf16(B) + bias) (+ R).
//
// B (the weights) is rounded to bfloat16 and packed once, at model load, into
// 16-column panels of column pairs, the operand layout of vdpbf16ps:
//
//   panel j: [bias[16j ..< 16j+16] as 16 floats]
//            then for p = 0 ..< ⌈k/2⌉: for c = 0 ..< 16: bf16(B[2p, 16j+c]), bf16(B[2p+1, 16j+c])
//
// zero past row k and column n. A is rounded to bfloat16 once per call with
// vcvtne2ps2bf16 (round to nearest even; denormals count as zero), two
// neighbouring values of a row forming one 32-bit lane. The micro-kernels
// broadcast such a pair and issue one vdpbf16ps per 16 output columns: each
// lane adds a[2p]·b[2p, c] + a[2p+1]·b[2p+1, c] to its float32 accumulator.
// Tiles are 8 rows × 32 columns (two panels, 16 accumulators) or, for a lone
// last panel, 12 rows × 16 columns; their heights are compile-time constants
// so the accumulators stay in registers.
//
// Every element of C is computed the same way whichever tile it falls in:
// zero, then one vdpbf16ps per pair p = 0, 1, …, ⌈k/2⌉−1, then + bias,
// activation and + residual. A row of C depends only on its own row of A, as
// in the float32 kernel, so results do not change with M, the batch or the
// worker count.

#include "ckernels.h"

#include <string.h>

enum { AK_BF16_PANEL = 16 };

static ptrdiff_t ak_bf16_pairs(ptrdiff_t k) { return (k + 1) / 2; }
static ptrdiff_t ak_bf16_panel_count(ptrdiff_t n) { return (n + AK_BF16_PANEL - 1) / AK_BF16_PANEL; }
/// bfloat16 values per panel: the bias (16 floats = 32 values) and the pairs.
static ptrdiff_t ak_bf16_panel_size(ptrdiff_t k) { return 2 * AK_BF16_PANEL + ak_bf16_pairs(k) * 2 * AK_BF16_PANEL; }

ptrdiff_t ak_bf16_gemm_packed_count(ptrdiff_t k, ptrdiff_t n) {
  if (k <= 0 || n <= 0) return 0;
  return ak_bf16_panel_count(n) * ak_bf16_panel_size(k);
}

void ak_bf16_gemm_pack(const float *b, const float *bias, ptrdiff_t k, ptrdiff_t n, uint16_t *packed) {
  if (k <= 0 || n <= 0) return;
  const ptrdiff_t panels = ak_bf16_panel_count(n), pairs = ak_bf16_pairs(k);
  for (ptrdiff_t j = 0; j < panels; j++) {
    uint16_t *panel = packed + j * ak_bf16_panel_size(k);
    for (ptrdiff_t col = 0; col < AK_BF16_PANEL; col++) {
      const ptrdiff_t column = j * AK_BF16_PANEL + col;
      const float v = column < n ? bias[column] : 0;
      memcpy(panel + 2 * col, &v, sizeof v);
      for (ptrdiff_t p = 0; p < pairs; p++) {
        for (ptrdiff_t h = 0; h < 2; h++) {
          const ptrdiff_t row = 2 * p + h;
          panel[2 * AK_BF16_PANEL + p * 2 * AK_BF16_PANEL + 2 * col + h] =
              (row < k && column < n) ? ak_f32_to_bf16_one(b[row * n + column]) : 0;
        }
      }
    }
  }
}

/// Reference loop for CPUs without AVX-512 BF16: the same rounded operands
/// and pair order, each pair's two products summed before they are added.
/// It agrees with the vector path to float rounding (vdpbf16ps flushes
/// denormals), not bit for bit.
static void ak_bf16_gemm_portable(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                  const uint16_t *packed, const float *residual, float *c, ptrdiff_t ldc,
                                  ak_activation activation) {
  const ptrdiff_t pairs = ak_bf16_pairs(k);
  for (ptrdiff_t i = 0; i < m; i++) {
    for (ptrdiff_t column = 0; column < n; column++) {
      const ptrdiff_t j = column / AK_BF16_PANEL, col = column % AK_BF16_PANEL;
      const uint16_t *panel = packed + j * ak_bf16_panel_size(k);
      float sum = 0;
      for (ptrdiff_t p = 0; p < pairs; p++) {
        const float a0 = ak_bf16_to_f32_one(ak_f32_to_bf16_one(a[i * lda + 2 * p]));
        const float a1 = 2 * p + 1 < k ? ak_bf16_to_f32_one(ak_f32_to_bf16_one(a[i * lda + 2 * p + 1])) : 0;
        const uint16_t *w = panel + 2 * AK_BF16_PANEL + p * 2 * AK_BF16_PANEL + 2 * col;
        sum += a0 * ak_bf16_to_f32_one(w[0]) + a1 * ak_bf16_to_f32_one(w[1]);
      }
      float bias;
      memcpy(&bias, panel + 2 * col, sizeof bias);
      float v = ak_activate1(sum + bias, activation);
      if (residual) v += residual[i * ldc + column];
      c[i * ldc + column] = v;
    }
  }
}

#if defined(__x86_64__) && defined(__clang__)
#include "vector_math.h"

#define AK_BF16 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512bf16")))

/// Rounds rows of A to bfloat16 pairs: `out[i·pairs + p]` holds a[i, 2p]
/// in its low half and a[i, 2p+1] (0 past k) in its high half.
static AK_BF16 void ak_bf16_convert_rows(ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t lda, uint32_t *out) {
  const ptrdiff_t pairs = ak_bf16_pairs(k);
  for (ptrdiff_t i = 0; i < m; i++) {
    const float *row = a + i * lda;
    uint16_t *o = (uint16_t *)(out + i * pairs);
    ptrdiff_t t = 0;
    for (; t + 32 <= k; t += 32) {
      const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + t + 16), _mm512_loadu_ps(row + t));
      _mm512_storeu_si512((void *)(o + t), (__m512i)v);
    }
    if (t < k) {
      const ptrdiff_t rest = k - t;
      const __mmask16 low = (__mmask16)(rest >= 16 ? 0xFFFFu : ((1u << rest) - 1));
      const __mmask16 high = (__mmask16)(rest > 16 ? ((1u << (rest - 16)) - 1) : 0);
      const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(high, row + t + 16), _mm512_maskz_loadu_ps(low, row + t));
      const ptrdiff_t width = 2 * pairs - t;  // the rest and the zero that pads an odd k
      _mm512_mask_storeu_epi16((void *)(o + t), (__mmask32)(width >= 32 ? 0xFFFFFFFFu : ((1u << width) - 1)), (__m512i)v);
    }
  }
}

/// One MR×(16·P) tile of C (P = 1 or 2 panels); `columns` ≤ 16·P are stored.
/// Inlined with constant MR and P so the accumulators live in registers.
AK_INLINE AK_BF16 void ak_bf16_tile(const int MR, const int P, ptrdiff_t pairs, const uint32_t *a,
                                    const uint16_t *panel0, const uint16_t *panel1, const float *residual, float *c,
                                    ptrdiff_t ldc, ptrdiff_t columns, ak_activation activation) {
  __m512 acc0[12], acc1[12];
  #pragma clang loop unroll(full)
  for (int i = 0; i < MR; i++) {
    acc0[i] = _mm512_setzero_ps();
    if (P == 2) acc1[i] = _mm512_setzero_ps();
  }
  const uint16_t *b0 = panel0 + 2 * AK_BF16_PANEL, *b1 = panel1 + 2 * AK_BF16_PANEL;
  for (ptrdiff_t p = 0; p < pairs; p++) {
    const __m512bh w0 = (__m512bh)_mm512_loadu_si512((const void *)(b0 + p * 2 * AK_BF16_PANEL));
    const __m512bh w1 = P == 2 ? (__m512bh)_mm512_loadu_si512((const void *)(b1 + p * 2 * AK_BF16_PANEL)) : w0;
    #pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
      const __m512bh x = (__m512bh)_mm512_set1_epi32((int)a[i * pairs + p]);
      acc0[i] = _mm512_dpbf16_ps(acc0[i], x, w0);
      if (P == 2) acc1[i] = _mm512_dpbf16_ps(acc1[i], x, w1);
    }
  }
  ak_tile_epilogue16(MR, P, acc0, acc1, (const float *)panel0, (const float *)panel1, residual, c, ldc, columns,
                     activation);
}

#define AK_BF16_TILE(MR, P) ak_bf16_tile(MR, P, pairs, a, panel0, panel1, residual, c, ldc, columns, activation)

/// Two panels, 1…8 rows.
static AK_BF16 void ak_bf16_tile_pair(int rows, ptrdiff_t pairs, const uint32_t *a, const uint16_t *panel0,
                                      const uint16_t *panel1, const float *residual, float *c, ptrdiff_t ldc,
                                      ptrdiff_t columns, ak_activation activation) {
#define AK_PAIR(MR) AK_BF16_TILE(MR, 2)
  AK_ROWS_1_TO_8(rows, AK_PAIR)
#undef AK_PAIR
}

/// One panel, 1…12 rows.
static AK_BF16 void ak_bf16_tile_single(int rows, ptrdiff_t pairs, const uint32_t *a, const uint16_t *panel0,
                                        const float *residual, float *c, ptrdiff_t ldc, ptrdiff_t columns,
                                        ak_activation activation) {
  const uint16_t *panel1 = panel0;
#define AK_SINGLE(MR) AK_BF16_TILE(MR, 1)
  AK_ROWS_1_TO_12(rows, AK_SINGLE)
#undef AK_SINGLE
}

static AK_BF16 void ak_bf16_gemm_avx512(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                        const uint16_t *packed, const float *residual, float *c, ptrdiff_t ldc,
                                        ak_activation activation, uint32_t *rows) {
  const ptrdiff_t pairs = ak_bf16_pairs(k), panels = ak_bf16_panel_count(n), size = ak_bf16_panel_size(k);
  ak_bf16_convert_rows(m, k, a, lda, rows);
  // Panels per chunk: about 128 KiB of packed weights, an even number, so
  // that they stay in L2 while every block of A passes over them.
  ptrdiff_t chunk = (64 * 1024) / size;
  chunk = chunk < 2 ? 2 : chunk & ~(ptrdiff_t)1;
  for (ptrdiff_t j0 = 0; j0 < panels; j0 += chunk) {
    const ptrdiff_t j1 = j0 + chunk < panels ? j0 + chunk : panels;
    const ptrdiff_t paired = j0 + ((j1 - j0) & ~(ptrdiff_t)1);
    for (ptrdiff_t i = 0; i < m; i += 8) {
      const int count = m - i < 8 ? (int)(m - i) : 8;
      for (ptrdiff_t j = j0; j < paired; j += 2) {
        const ptrdiff_t column = j * AK_BF16_PANEL;
        const ptrdiff_t columns = n - column < 2 * AK_BF16_PANEL ? n - column : 2 * AK_BF16_PANEL;
        ak_bf16_tile_pair(count, pairs, rows + i * pairs, packed + j * size, packed + (j + 1) * size,
                          residual ? residual + i * ldc + column : 0, c + i * ldc + column, ldc, columns, activation);
      }
    }
    if (paired < j1) {
      const ptrdiff_t column = paired * AK_BF16_PANEL;
      const ptrdiff_t columns = n - column < AK_BF16_PANEL ? n - column : AK_BF16_PANEL;
      for (ptrdiff_t i = 0; i < m; i += 12) {
        const int count = m - i < 12 ? (int)(m - i) : 12;
        ak_bf16_tile_single(count, pairs, rows + i * pairs, packed + paired * size,
                            residual ? residual + i * ldc + column : 0, c + i * ldc + column, ldc, columns, activation);
      }
    }
  }
}
#endif

ptrdiff_t ak_bf16_gemm_scratch_count(ptrdiff_t m, ptrdiff_t k) {
  return m <= 0 || k <= 0 ? 0 : m * ak_bf16_pairs(k);
}

void ak_bf16_gemm_bias_activation(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                  const uint16_t *packed, const float *residual, float *c, ptrdiff_t ldc,
                                  ak_activation activation, uint32_t *scratch) {
  if (m <= 0 || n <= 0 || k <= 0) return;
#if defined(__x86_64__) && defined(__clang__)
  if (ak_cpu_has_avx512_bf16()) {
    ak_bf16_gemm_avx512(m, n, k, a, lda, packed, residual, c, ldc, activation, scratch);
    return;
  }
#endif
  ak_bf16_gemm_portable(m, n, k, a, lda, packed, residual, c, ldc, activation);
}
