#include "ckernels.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define AK_X86 1
#endif

uint16_t ak_f32_to_bf16_one(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u);  // NaN stays a (quiet) NaN
  u += 0x7FFFu + ((u >> 16) & 1u);  // round to nearest, ties to even
  return (uint16_t)(u >> 16);
}

void ak_f32_to_bf16(const float *x, uint16_t *y, ptrdiff_t n) {
  for (ptrdiff_t i = 0; i < n; i++) y[i] = ak_f32_to_bf16_one(x[i]);
}

float ak_bf16_to_f32_one(uint16_t x) {
  const uint32_t u = (uint32_t)x << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

void ak_bf16_to_f32(const uint16_t *x, float *y, ptrdiff_t n) {
  for (ptrdiff_t i = 0; i < n; i++) y[i] = ak_bf16_to_f32_one(x[i]);
}

// Portable: widen and accumulate in float, d in order.
static float dot_portable(const uint16_t *a, const uint16_t *b, ptrdiff_t d) {
  float s = 0;
  for (ptrdiff_t t = 0; t < d; t++) s += ak_bf16_to_f32_one(a[t]) * ak_bf16_to_f32_one(b[t]);
  return s;
}

#if AK_X86
#define AK_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

// A rows × b rows of dot products, 4 × 4 at a time: 16 accumulators of 16
// float lanes, each vdpbf16ps adding 32 bf16 products in pairs.
AK_BF16_TARGET static void block4x4(const uint16_t *a, const uint16_t *b, ptrdiff_t d, float *c, ptrdiff_t ldc) {
  __m512 acc[4][4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();
  ptrdiff_t t = 0;
  for (; t + 32 <= d; t += 32) {
    __m512bh bv[4];
    for (int j = 0; j < 4; j++) bv[j] = (__m512bh)_mm512_loadu_si512((const void *)(b + j * d + t));
    for (int i = 0; i < 4; i++) {
      __m512bh av = (__m512bh)_mm512_loadu_si512((const void *)(a + i * d + t));
      for (int j = 0; j < 4; j++) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], av, bv[j]);
    }
  }
  if (t < d) {
    __mmask32 m = (__mmask32)((1ull << (d - t)) - 1);
    __m512bh bv[4];
    for (int j = 0; j < 4; j++) bv[j] = (__m512bh)_mm512_maskz_loadu_epi16(m, b + j * d + t);
    for (int i = 0; i < 4; i++) {
      __m512bh av = (__m512bh)_mm512_maskz_loadu_epi16(m, a + i * d + t);
      for (int j = 0; j < 4; j++) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], av, bv[j]);
    }
  }
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) c[i * ldc + j] = _mm512_reduce_add_ps(acc[i][j]);
}

AK_BF16_TARGET static float dot_avx512(const uint16_t *a, const uint16_t *b, ptrdiff_t d) {
  __m512 acc = _mm512_setzero_ps();
  ptrdiff_t t = 0;
  for (; t + 32 <= d; t += 32)
    acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_loadu_si512((const void *)(a + t)), (__m512bh)_mm512_loadu_si512((const void *)(b + t)));
  if (t < d) {
    __mmask32 m = (__mmask32)((1ull << (d - t)) - 1);
    acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_maskz_loadu_epi16(m, a + t), (__m512bh)_mm512_maskz_loadu_epi16(m, b + t));
  }
  return _mm512_reduce_add_ps(acc);
}

AK_BF16_TARGET static void gemm_nt_avx512(const uint16_t *a, ptrdiff_t m, const uint16_t *b, ptrdiff_t n, ptrdiff_t d, float *c, ptrdiff_t ldc) {
  // Blocks sized for a 1 MB L2: 64 query rows and 256 bank rows of
  // 1280 bf16 are 800 KB, reused 16 and 64 times.
  const ptrdiff_t QB = 64, BB = 256;
  for (ptrdiff_t q0 = 0; q0 < m; q0 += QB) {
    ptrdiff_t q1 = q0 + QB < m ? q0 + QB : m;
    for (ptrdiff_t b0 = 0; b0 < n; b0 += BB) {
      ptrdiff_t b1 = b0 + BB < n ? b0 + BB : n;
      ptrdiff_t i = q0;
      for (; i + 4 <= q1; i += 4) {
        ptrdiff_t j = b0;
        for (; j + 4 <= b1; j += 4) block4x4(a + i * d, b + j * d, d, c + i * ldc + j, ldc);
        for (; j < b1; j++)
          for (int r = 0; r < 4; r++) c[(i + r) * ldc + j] = dot_avx512(a + (i + r) * d, b + j * d, d);
      }
      for (; i < q1; i++)
        for (ptrdiff_t j = b0; j < b1; j++) c[i * ldc + j] = dot_avx512(a + i * d, b + j * d, d);
    }
  }
}
#endif

void ak_bf16_gemm_nt(const uint16_t *a, ptrdiff_t m, const uint16_t *b, ptrdiff_t n, ptrdiff_t d, float *c, ptrdiff_t ldc) {
#if AK_X86
  if (ak_cpu_has_avx512_bf16()) {
    gemm_nt_avx512(a, m, b, n, d, c, ldc);
    return;
  }
#endif
  for (ptrdiff_t i = 0; i < m; i++)
    for (ptrdiff_t j = 0; j < n; j++) c[i * ldc + j] = dot_portable(a + i * d, b + j * d, d);
}
