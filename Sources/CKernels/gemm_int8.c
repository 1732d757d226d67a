// Matrix product in 8-bit integers with int32 accumulation, and the same
// fused epilogue as ak_gemm_bias_activation: C = act(deq(q(A)·q(B)) + bias) (+ R).
//
// Quantisation (static, affine for activations, symmetric per column for
// weights), with every quantity float32 unless it says otherwise:
//
//   activations, from a calibrated range [lo, hi] widened to contain 0:
//     s_a = (hi − lo) / 255 (1 when hi = lo),  z = clamp(rint(−lo / s_a), 0, 255)  (int)
//     q(a) = rint(clamp(a · (1 / s_a), −z, 255 − z)) + z                          (uint8)
//   weights, per output column c:
//     s_c = max_k |B[k, c]| / 127 (1 for a zero column)
//     q(B[k, c]) = clamp(rint(B[k, c] / s_c), −127, 127)                           (int8)
//   output:
//     acc[i, c] = Σ_k q(a[i, k]) · q(B[k, c])                                       (exact, int32)
//     c[i, c] = act(float(acc[i, c] − z · Σ_k q(B[k, c])) · (s_a · s_c) + bias[c]) (+ r[i, c])
//
// so the affine zero point is removed exactly, in integers, before the one
// multiplication that dequantises. rint rounds to nearest, ties to even.
//
// Per-row codes (`ak_i8_gemm_pack_per_row`, for inputs with no calibrated
// range): each row i of A gets the code of its own range,
//     [lo_i, hi_i] = [min(0, min_k a[i, k]), max(0, max_k a[i, k])]  (NaN ignored)
//     s_i, z_i as s_a, z above;  q(a[i, k]) as above with s_i, z_i
//     c[i, c] = act(float(acc[i, c] − z_i · Σ_k q(B[k, c])) · (s_c · s_i) + bias[c]) (+ r[i, c])
// which is, bit for bit, the static product packed with the range
// [lo_i, hi_i] applied to that row alone; a row still depends only on itself.
//
// B (the weights) is quantised and packed once, at model load, behind a
// 64-byte header [1 / s_a as float, z as int32, codes as int32 (0 static,
// 1 per row), zeros]:
//
//   panel j: [bias[16j ..< 16j+16] as 16 floats] [s_a·s_c as 16 floats]
//            [z·Σ_k q(B[k, c]) as 16 int32]
//            (per row: s_c and Σ_k q(B[k, c]), i.e. s_a = 1 and z = 1)
//            then for g = 0 ..< ⌈k/4⌉: for c = 0 ..< 16: q(B[4g ..< 4g+4, 16j+c]) (4 bytes)
//
// zero past row k and column n: the operand layout of vpdpbusd, which adds
// the four products of four unsigned bytes of A and four signed bytes of B
// to each int32 lane. Rows of A are quantised once per call into groups of
// four bytes (zero past k). The tiles are those of the bfloat16 kernel: 8
// rows × 32 columns, or 12 × 16 for a lone last panel.
//
// The sums are exact and the epilogue is two float operations in a fixed
// order, so the AVX-512 VNNI path and the portable loop give the same bits
// for every activation but GELU (whose vector and scalar forms differ in
// the last place). A row of C depends only on its own row of A. k must be
// below 66,000 so that no sum can overflow int32 (255 · 127 · k < 2³¹).

#include "ckernels.h"

#include <math.h>
#include <string.h>

enum { AK_I8_PANEL = 16, AK_I8_HEADER = 64, AK_I8_PANEL_HEADER = 3 * 16 * 4 };

static ptrdiff_t ak_i8_groups(ptrdiff_t k) { return (k + 3) / 4; }
static ptrdiff_t ak_i8_panel_count(ptrdiff_t n) { return (n + AK_I8_PANEL - 1) / AK_I8_PANEL; }
static ptrdiff_t ak_i8_panel_size(ptrdiff_t k) { return AK_I8_PANEL_HEADER + ak_i8_groups(k) * 4 * AK_I8_PANEL; }

void ak_i8_activation_quantization(float lo, float hi, float *scale, int32_t *zero) {
  if (!(lo < 0)) lo = 0;  // also maps NaN to 0
  if (!(hi > 0)) hi = 0;
  float s = (hi - lo) / 255.0f;
  if (!(s > 0) || !isfinite(s)) s = 1;
  float z = rintf(-lo / s);
  *scale = s;
  *zero = z < 0 ? 0 : z > 255 ? 255 : (int32_t)z;
}

ptrdiff_t ak_i8_gemm_packed_count(ptrdiff_t k, ptrdiff_t n) {
  if (k <= 0 || n <= 0) return 0;
  return AK_I8_HEADER + ak_i8_panel_count(n) * ak_i8_panel_size(k);
}

enum { AK_I8_STATIC = 0, AK_I8_PER_ROW = 1 };

/// Packs with the activation code (scale, zero) and the header's `codes`.
static void ak_i8_pack(const float *b, const float *bias, ptrdiff_t k, ptrdiff_t n, float scale, int32_t zero,
                       int32_t codes, uint8_t *packed) {
  if (k <= 0 || n <= 0) return;
  memset(packed, 0, (size_t)ak_i8_gemm_packed_count(k, n));
  const float inverse = 1.0f / scale;
  memcpy(packed, &inverse, sizeof inverse);
  memcpy(packed + 4, &zero, sizeof zero);
  memcpy(packed + 8, &codes, sizeof codes);
  const ptrdiff_t panels = ak_i8_panel_count(n), groups = ak_i8_groups(k);
  for (ptrdiff_t j = 0; j < panels; j++) {
    uint8_t *panel = packed + AK_I8_HEADER + j * ak_i8_panel_size(k);
    for (ptrdiff_t col = 0; col < AK_I8_PANEL; col++) {
      const ptrdiff_t column = j * AK_I8_PANEL + col;
      if (column >= n) continue;
      float largest = 0;
      for (ptrdiff_t row = 0; row < k; row++) {
        const float v = fabsf(b[row * n + column]);
        if (v > largest) largest = v;
      }
      float s = largest / 127.0f;
      if (!(s > 0) || !isfinite(s)) s = 1;
      int32_t sum = 0;
      for (ptrdiff_t g = 0; g < groups; g++) {
        for (ptrdiff_t h = 0; h < 4; h++) {
          const ptrdiff_t row = 4 * g + h;
          if (row >= k) continue;
          float q = rintf(b[row * n + column] / s);
          q = q < -127 ? -127 : q > 127 ? 127 : q;
          const int8_t v = (int8_t)q;
          sum += v;
          memcpy(panel + AK_I8_PANEL_HEADER + g * 4 * AK_I8_PANEL + 4 * col + h, &v, 1);
        }
      }
      const float multiplier = scale * s;
      const int32_t offset = zero * sum;
      memcpy(panel + 4 * col, bias + column, sizeof(float));
      memcpy(panel + 64 + 4 * col, &multiplier, sizeof multiplier);
      memcpy(panel + 128 + 4 * col, &offset, sizeof offset);
    }
  }
}

void ak_i8_gemm_pack(const float *b, const float *bias, ptrdiff_t k, ptrdiff_t n, float lo, float hi,
                     uint8_t *packed) {
  float scale;
  int32_t zero;
  ak_i8_activation_quantization(lo, hi, &scale, &zero);
  ak_i8_pack(b, bias, k, n, scale, zero, AK_I8_STATIC, packed);
}

void ak_i8_gemm_pack_per_row(const float *b, const float *bias, ptrdiff_t k, ptrdiff_t n, uint8_t *packed) {
  // s_a = 1 and z = 1 leave s_c and Σ_k q(B[k, c]) in the panel headers.
  ak_i8_pack(b, bias, k, n, 1.0f, 1, AK_I8_PER_ROW, packed);
}

static int32_t ak_i8_codes(const uint8_t *packed) {
  int32_t codes;
  memcpy(&codes, packed + 8, sizeof codes);
  return codes;
}

int32_t ak_i8_gemm_zero_point(const uint8_t *packed) {
  int32_t zero;
  memcpy(&zero, packed + 4, sizeof zero);
  return zero;
}

// Scratch layout for m rows: the codes, ⌈k/4⌉ words per row; then, for
// per-row codes, each row's s_i (m floats) and z_i (m int32).
ptrdiff_t ak_i8_gemm_scratch_count(ptrdiff_t m, ptrdiff_t k) {
  return m <= 0 || k <= 0 ? 0 : m * (ak_i8_groups(k) + 2);
}

/// The per-row scales and zero points in the scratch of `m` rows, or NULLs
/// for a static code.
static void ak_i8_row_codes(const uint8_t *packed, ptrdiff_t m, ptrdiff_t k, const uint32_t *rows, const float **scales,
                            const int32_t **zeros) {
  if (ak_i8_codes(packed) != AK_I8_PER_ROW) {
    *scales = 0;
    *zeros = 0;
    return;
  }
  *scales = (const float *)(rows + m * ak_i8_groups(k));
  *zeros = (const int32_t *)(rows + m * ak_i8_groups(k) + m);
}

/// q(a) for one value, given 1 / s_a and z.
static uint8_t ak_i8_quantize_one(float a, float inverse, int32_t zero) {
  float f = a * inverse;
  f = fmaxf(f, (float)-zero);
  f = fminf(f, (float)(255 - zero));
  return (uint8_t)((int32_t)rintf(f) + zero);
}

/// One row of A into groups of four bytes, zero past k.
static void ak_i8_quantize_row_portable(ptrdiff_t k, const float *row, float inverse, int32_t zero, uint8_t *o) {
  for (ptrdiff_t t = 0; t < 4 * ak_i8_groups(k); t++) o[t] = t < k ? ak_i8_quantize_one(row[t], inverse, zero) : 0;
}

/// [min(0, min row), max(0, max row)], NaN ignored.
static void ak_i8_row_range_portable(ptrdiff_t k, const float *row, float *lo, float *hi) {
  float low = 0, high = 0;
  for (ptrdiff_t t = 0; t < k; t++) {
    if (row[t] < low) low = row[t];
    if (row[t] > high) high = row[t];
  }
  *lo = low;
  *hi = high;
}

/// Reference loop for CPUs without AVX-512 VNNI: the same integers, the same
/// epilogue order.
static void ak_i8_gemm_portable(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint32_t *rows, const uint8_t *packed,
                                const float *residual, float *c, ptrdiff_t ldc, ak_activation activation) {
  const ptrdiff_t groups = ak_i8_groups(k);
  const float *scales;
  const int32_t *zeros;
  ak_i8_row_codes(packed, m, k, rows, &scales, &zeros);
  for (ptrdiff_t i = 0; i < m; i++) {
    const uint8_t *qa = (const uint8_t *)(rows + i * groups);
    for (ptrdiff_t column = 0; column < n; column++) {
      const ptrdiff_t j = column / AK_I8_PANEL, col = column % AK_I8_PANEL;
      const uint8_t *panel = packed + AK_I8_HEADER + j * ak_i8_panel_size(k);
      int32_t acc = 0;
      for (ptrdiff_t t = 0; t < 4 * groups; t++) {
        int8_t w;
        memcpy(&w, panel + AK_I8_PANEL_HEADER + (t / 4) * 4 * AK_I8_PANEL + 4 * col + t % 4, 1);
        acc += (int32_t)qa[t] * w;
      }
      float bias, multiplier;
      int32_t offset;
      memcpy(&bias, panel + 4 * col, sizeof bias);
      memcpy(&multiplier, panel + 64 + 4 * col, sizeof multiplier);
      memcpy(&offset, panel + 128 + 4 * col, sizeof offset);
      if (scales) {  // per row: s_c · s_i and z_i · Σ q(B)
        multiplier *= scales[i];
        offset *= zeros[i];
      }
      const float scaled = (float)(acc - offset) * multiplier;
      float v = ak_activate1(scaled + bias, activation);
      if (residual) v += residual[i * ldc + column];
      c[i * ldc + column] = v;
    }
  }
}

#if defined(__x86_64__) && defined(__clang__)
#include "vector_math.h"

#define AK_VNNI __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")))

/// `ak_i8_quantize_row_portable` sixteen values at a time; the same bits
/// (the float clamp comes before the conversion, which rounds to nearest
/// even like rintf).
static AK_VNNI void ak_i8_quantize_row(ptrdiff_t k, const float *row, float inverse, int32_t zero, uint8_t *o) {
  const __m512 scale = _mm512_set1_ps(inverse), lo = _mm512_set1_ps((float)-zero), hi = _mm512_set1_ps((float)(255 - zero));
  const __m512i z = _mm512_set1_epi32(zero);
  const ptrdiff_t groups = ak_i8_groups(k);
  for (ptrdiff_t t = 0; t < 4 * groups; t += 16) {
    const ptrdiff_t rest = k - t;
    const __mmask16 valid = ak_mask16(rest);
    __m512 f = _mm512_mul_ps(_mm512_maskz_loadu_ps(valid, row + t), scale);
    f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
    const __m512i q = _mm512_maskz_add_epi32(valid, _mm512_cvtps_epi32(f), z);
    const ptrdiff_t width = 4 * groups - t;
    // Narrow in registers, then store: the memory form of vpmovdb is slow on Zen 4.
    const __m128i bytes = _mm512_cvtepi32_epi8(q);
    if (width >= 16) {
      _mm_storeu_si128((__m128i *)(o + t), bytes);
    } else {
      _mm_mask_storeu_epi8(o + t, ak_mask16(width), bytes);
    }
  }
}

/// `ak_i8_row_range_portable` sixteen values at a time (min and max are
/// exact, so the order does not matter; min_ps(v, m) keeps m for a NaN v,
/// as the scalar comparison does; masked-off lanes read 0, inside the range).
static AK_VNNI void ak_i8_row_range(ptrdiff_t k, const float *row, float *lo, float *hi) {
  __m512 low = _mm512_setzero_ps(), high = _mm512_setzero_ps();
  for (ptrdiff_t t = 0; t < k; t += 16) {
    const __m512 v = _mm512_maskz_loadu_ps(ak_mask16(k - t), row + t);
    low = _mm512_min_ps(v, low);
    high = _mm512_max_ps(v, high);
  }
  *lo = _mm512_reduce_min_ps(low);
  *hi = _mm512_reduce_max_ps(high);
}

/// One MR×(16·P) tile of C (P = 1 or 2 panels); `columns` ≤ 16·P are stored.
/// `scales` and `zeros` (per-row codes; NULL for a static code) start at
/// the tile's first row.
AK_INLINE AK_VNNI void ak_i8_tile(const int MR, const int P, ptrdiff_t groups, const uint32_t *a, const float *scales,
                                  const int32_t *zeros, const uint8_t *panel0, const uint8_t *panel1,
                                  const float *residual, float *c, ptrdiff_t ldc, ptrdiff_t columns,
                                  ak_activation activation) {
  __m512i acc0[12], acc1[12];
#pragma clang loop unroll(full)
  for (int i = 0; i < MR; i++) {
    acc0[i] = _mm512_setzero_si512();
    if (P == 2) acc1[i] = _mm512_setzero_si512();
  }
  const uint8_t *b0 = panel0 + AK_I8_PANEL_HEADER, *b1 = panel1 + AK_I8_PANEL_HEADER;
  for (ptrdiff_t g = 0; g < groups; g++) {
    const __m512i w0 = _mm512_loadu_si512((const void *)(b0 + g * 4 * AK_I8_PANEL));
    const __m512i w1 = P == 2 ? _mm512_loadu_si512((const void *)(b1 + g * 4 * AK_I8_PANEL)) : w0;
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
      const __m512i x = _mm512_set1_epi32((int)a[i * groups + g]);
      acc0[i] = _mm512_dpbusd_epi32(acc0[i], x, w0);
      if (P == 2) acc1[i] = _mm512_dpbusd_epi32(acc1[i], x, w1);
    }
  }
  __m512 f0[12], f1[12];
  const __m512 m0 = _mm512_loadu_ps((const float *)(panel0 + 64)), m1 = _mm512_loadu_ps((const float *)(panel1 + 64));
  const __m512i o0 = _mm512_loadu_si512((const void *)(panel0 + 128)), o1 = _mm512_loadu_si512((const void *)(panel1 + 128));
  if (scales) {  // per row: (acc − z_i·Σ q(B)) · (s_c · s_i)
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
      const __m512i z = _mm512_set1_epi32(zeros[i]);
      const __m512 s = _mm512_set1_ps(scales[i]);
      f0[i] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc0[i], _mm512_mullo_epi32(o0, z))), _mm512_mul_ps(m0, s));
      if (P == 2)
        f1[i] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc1[i], _mm512_mullo_epi32(o1, z))), _mm512_mul_ps(m1, s));
    }
  } else {
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
      f0[i] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc0[i], o0)), m0);
      if (P == 2) f1[i] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc1[i], o1)), m1);
    }
  }
  ak_tile_epilogue16(MR, P, f0, f1, (const float *)panel0, (const float *)panel1, residual, c, ldc, columns, activation);
}

#define AK_I8_TILE(MR, P) \
  ak_i8_tile(MR, P, groups, a, scales, zeros, panel0, panel1, residual, c, ldc, columns, activation)

/// Two panels, 1…8 rows.
static AK_VNNI void ak_i8_tile_pair(int rows, ptrdiff_t groups, const uint32_t *a, const float *scales,
                                    const int32_t *zeros, const uint8_t *panel0,
                                    const uint8_t *panel1, const float *residual, float *c, ptrdiff_t ldc,
                                    ptrdiff_t columns, ak_activation activation) {
#define AK_PAIR(MR) AK_I8_TILE(MR, 2)
  AK_ROWS_1_TO_8(rows, AK_PAIR)
#undef AK_PAIR
}

/// One panel, 1…12 rows.
static AK_VNNI void ak_i8_tile_single(int rows, ptrdiff_t groups, const uint32_t *a, const float *scales,
                                      const int32_t *zeros, const uint8_t *panel0,
                                      const float *residual, float *c, ptrdiff_t ldc, ptrdiff_t columns,
                                      ak_activation activation) {
  const uint8_t *panel1 = panel0;
#define AK_SINGLE(MR) AK_I8_TILE(MR, 1)
  AK_ROWS_1_TO_12(rows, AK_SINGLE)
#undef AK_SINGLE
}

static AK_VNNI void ak_i8_gemm_avx512(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint32_t *rows,
                                      const uint8_t *packed, const float *residual, float *c, ptrdiff_t ldc,
                                      ak_activation activation) {
  const ptrdiff_t groups = ak_i8_groups(k), panels = ak_i8_panel_count(n), size = ak_i8_panel_size(k);
  const uint8_t *first = packed + AK_I8_HEADER;
  const float *scales;
  const int32_t *zeros;
  ak_i8_row_codes(packed, m, k, rows, &scales, &zeros);
#define AK_ROW(p, i) ((p) ? (p) + (i) : 0)
  // Panels per chunk: about 64 KiB of packed weights, an even number, so
  // that they stay in L2 while every block of A passes over them.
  ptrdiff_t chunk = (64 * 1024) / size;
  chunk = chunk < 2 ? 2 : chunk & ~(ptrdiff_t)1;
  for (ptrdiff_t j0 = 0; j0 < panels; j0 += chunk) {
    const ptrdiff_t j1 = j0 + chunk < panels ? j0 + chunk : panels;
    const ptrdiff_t paired = j0 + ((j1 - j0) & ~(ptrdiff_t)1);
    for (ptrdiff_t i = 0; i < m; i += 8) {
      const int count = m - i < 8 ? (int)(m - i) : 8;
      for (ptrdiff_t j = j0; j < paired; j += 2) {
        const ptrdiff_t column = j * AK_I8_PANEL;
        const ptrdiff_t columns = n - column < 2 * AK_I8_PANEL ? n - column : 2 * AK_I8_PANEL;
        ak_i8_tile_pair(count, groups, rows + i * groups, AK_ROW(scales, i), AK_ROW(zeros, i), first + j * size, first + (j + 1) * size,
                        residual ? residual + i * ldc + column : 0, c + i * ldc + column, ldc, columns, activation);
      }
    }
    if (paired < j1) {
      const ptrdiff_t column = paired * AK_I8_PANEL;
      const ptrdiff_t columns = n - column < AK_I8_PANEL ? n - column : AK_I8_PANEL;
      for (ptrdiff_t i = 0; i < m; i += 12) {
        const int count = m - i < 12 ? (int)(m - i) : 12;
        ak_i8_tile_single(count, groups, rows + i * groups, AK_ROW(scales, i), AK_ROW(zeros, i), first + paired * size,
                          residual ? residual + i * ldc + column : 0, c + i * ldc + column, ldc, columns, activation);
      }
    }
  }
}
#endif

void ak_i8_gemm_quantize_input(ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t lda, const uint8_t *packed,
                               uint32_t *rows) {
  if (m <= 0 || k <= 0) return;
  int vnni = 0;
#if defined(__x86_64__) && defined(__clang__)
  vnni = ak_cpu_has_avx512_vnni();
#endif
  (void)vnni;
  float inverse;
  int32_t zero;
  memcpy(&inverse, packed, sizeof inverse);
  memcpy(&zero, packed + 4, sizeof zero);
  const int perRow = ak_i8_codes(packed) == AK_I8_PER_ROW;
  float *scales = (float *)(rows + m * ak_i8_groups(k));
  int32_t *zeros = (int32_t *)(rows + m * ak_i8_groups(k) + m);
  for (ptrdiff_t i = 0; i < m; i++) {
    const float *row = a + i * lda;
    uint8_t *out = (uint8_t *)(rows + i * ak_i8_groups(k));
    if (perRow) {  // the code of the row's own range, as ak_i8_gemm_pack makes it
      float lo, hi, scale;
#if defined(__x86_64__) && defined(__clang__)
      if (vnni)
        ak_i8_row_range(k, row, &lo, &hi);
      else
#endif
        ak_i8_row_range_portable(k, row, &lo, &hi);
      ak_i8_activation_quantization(lo, hi, &scale, &zero);
      inverse = 1.0f / scale;
      scales[i] = scale;
      zeros[i] = zero;
    }
#if defined(__x86_64__) && defined(__clang__)
    if (vnni) {
      ak_i8_quantize_row(k, row, inverse, zero, out);
      continue;
    }
#endif
    ak_i8_quantize_row_portable(k, row, inverse, zero, out);
  }
}

void ak_i8_gemm_quantized_bias_activation(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint32_t *rows,
                                          const uint8_t *packed, const float *residual, float *c, ptrdiff_t ldc,
                                          ak_activation activation) {
  if (m <= 0 || n <= 0 || k <= 0) return;
#if defined(__x86_64__) && defined(__clang__)
  if (ak_cpu_has_avx512_vnni()) {
    ak_i8_gemm_avx512(m, n, k, rows, packed, residual, c, ldc, activation);
    return;
  }
#endif
  ak_i8_gemm_portable(m, n, k, rows, packed, residual, c, ldc, activation);
}

void ak_i8_gemm_bias_activation(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                const uint8_t *packed, const float *residual, float *c, ptrdiff_t ldc,
                                ak_activation activation, uint32_t *scratch) {
  ak_i8_gemm_quantize_input(m, k, a, lda, packed, scratch);
  ak_i8_gemm_quantized_bias_activation(m, n, k, scratch, packed, residual, c, ldc, activation);
}
