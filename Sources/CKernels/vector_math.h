// Vectorised exp, erf and GELU on eight floats (AVX2 + FMA), shared by the
// kernels that need them (gelu.c, gemm.c, gemm_bf16.c, attention.c), and the
// AVX-512 GEMM epilogue helpers. Included only on
// x86_64 with clang, inside code compiled for "avx2,fma"; the portable paths
// call the C library's expf / erff instead.
//
// Every function here is lane-wise: a lane's result depends only on that
// lane's input, never on its neighbours or on where the vector came from.
//
// The polynomial coefficients were fitted by
// Notebooks-export/scripts/fit_erf.py (weighted minimax, rounded to float32
// one coefficient at a time), which also documents the methods:
//
// - exp: Cody & Waite's range reduction (W. J. Cody and W. Waite, "Software
//   Manual for the Elementary Functions", 1980): x = n·ln2 + r with ln2 split
//   into a high part with trailing zero bits and a low part, |r| ≤ ln2/2,
//   then e^r = 1 + r·P(r) (P of degree 6) scaled by 2^n. Emulated max error
//   0.86 ulp on [−87, 0].
// - erf: for |x| < 7/8, erf(x) = x + x·q(x²) (q of degree 6), so the last
//   fused multiply-add only adds a small correction to x; for |x| ≥ 7/8,
//   erf(x) = sign(x)·(1 − exp(p(|x|))) with p(t) ≈ log(erfc(t)) (degree 8),
//   the approach of N. Juffa's faithfully rounded erff
//   (https://stackoverflow.com/a/35148199). |x| is clamped at 4, where
//   1 − erfc rounds to 1 in float32 (erf(x) does for every x ≥ 3.92).
//   Emulated max error 1.07 ulp on [−4.5, 4.5]; the tests compare it with
//   glibc's erff on a dense grid.

#ifndef AK_VECTOR_MATH_H
#define AK_VECTOR_MATH_H

#include <immintrin.h>

#define AK_AVX2 __attribute__((target("avx2,fma")))
#define AK_INLINE static inline __attribute__((always_inline))

/// e^x for x ≤ 0, the only arguments the kernels pass (softmax after the row
/// maximum is subtracted; the erf tail). Below −87.3365 (where e^x drops
/// under FLT_MIN) the result is 0 rather than a subnormal; −∞ gives 0 and
/// NaN gives NaN.
AK_INLINE AK_AVX2 __m256 ak_exp8(__m256 x) {
  const __m256 underflow = _mm256_cmp_ps(x, _mm256_set1_ps(-87.33654475f), _CMP_LT_OQ);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(0x1.715476p+0f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x);   // ln2, high part (exact products)
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f), r);       // ln2, low part
  __m256 p = _mm256_set1_ps(0x1.b1d5f8p-13f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.6de004p-10f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.110aa8p-7f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.55548ep-5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.555556p-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1p-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i biased = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
  const __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(biased, 23));
  return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, scale));
}

/// erf(x), lane-wise; erf(±∞) = ±1, erf(±0) = ±0, NaN stays NaN.
AK_INLINE AK_AVX2 __m256 ak_erf8(__m256 x) {
  const __m256 signBit = _mm256_set1_ps(-0.0f);
  const __m256 sign = _mm256_and_ps(x, signBit);
  const __m256 t = _mm256_andnot_ps(signBit, x);
  // |x| < 7/8: x + x·q(x²).
  const __m256 s = _mm256_mul_ps(x, x);
  __m256 q = _mm256_set1_ps(0x1.905c22p-14f);
  q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(-0x1.b7b9bcp-11f));
  q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(0x1.5612cep-8f));
  q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(-0x1.b82b04p-6f));
  q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(0x1.ce2f1cp-4f));
  q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(-0x1.812746p-2f));
  q = _mm256_fmadd_ps(q, s, _mm256_set1_ps(0x1.06eba8p-3f));
  const __m256 small = _mm256_fmadd_ps(x, q, x);
  // |x| ≥ 7/8: sign·(1 − exp(p(min(|x|, 4)))). min(4, NaN) is NaN.
  const __m256 u = _mm256_min_ps(_mm256_set1_ps(4.0f), t);
  __m256 p = _mm256_set1_ps(0x1.4c3b76p-20f);
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(-0x1.49168p-15f));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(0x1.1ee738p-11f));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(-0x1.2ad33ap-8f));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(0x1.a8dd4ap-6f));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(-0x1.bfd566p-4f));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(-0x1.43d936p-1f));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(-0x1.213faep+0f));
  p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(0x1.fbdc2ap-13f));
  const __m256 tail = _mm256_or_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), ak_exp8(p)), sign);
  return _mm256_blendv_ps(tail, small, _mm256_cmp_ps(t, _mm256_set1_ps(0.875f), _CMP_LT_OQ));
}

/// BERT's exact GELU, x·½·(1 + erf(x/√2)), in the same order of operations
/// as the scalar `0.5f * x * (1.0f + erff(x * 0.70710678f))`.
AK_INLINE AK_AVX2 __m256 ak_gelu8(__m256 x) {
  const __m256 e = ak_erf8(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678f)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

/// Lanes [0, count) set (count clamped to 0…8), for the last elements of a
/// row.
AK_INLINE AK_AVX2 __m256i ak_lane_mask(ptrdiff_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count < 0 ? 0 : (count > 8 ? 8 : count))),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// MARK: - AVX-512 epilogue helpers (the float32 and bfloat16 GEMMs)

#define AK_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq")))

/// GELU of `count` 16-lane vectors in place, by 8-lane halves with
/// `ak_gelu8`, so that every kernel shares one GELU bit for bit. Out of
/// line: it runs once per tile, not per step of k.
static AK_AVX512 __attribute__((noinline, unused)) void ak_gelu_vectors16(__m512 *v, int count) {
  for (int i = 0; i < count; i++) {
    const __m256 low = ak_gelu8(_mm512_castps512_ps256(v[i]));
    const __m256 high = ak_gelu8(_mm512_extractf32x8_ps(v[i], 1));
    v[i] = _mm512_insertf32x8(_mm512_castps256_ps512(low), high, 1);
  }
}

/// act(v) for the ReLU family (GELU goes through ak_gelu_vectors16).
AK_INLINE AK_AVX512 __m512 ak_activate16(__m512 v, ak_activation activation) {
  switch (activation) {
  case AK_ACTIVATION_RELU6: return _mm512_min_ps(_mm512_max_ps(v, _mm512_setzero_ps()), _mm512_set1_ps(6));
  case AK_ACTIVATION_RELU: return _mm512_max_ps(v, _mm512_setzero_ps());
  default: return v;
  }
}

/// Lanes [0, count) set (count ≥ 16 sets all sixteen).
AK_INLINE AK_AVX512 __mmask16 ak_mask16(ptrdiff_t count) {
  return (__mmask16)(count >= 16 ? 0xFFFFu : ((1u << count) - 1));
}

/// A switch that calls TILE(MR) with MR = `rows` as a compile-time
/// constant, for `rows` in 1…8 (AK_ROWS_1_TO_8) or 1…12 (AK_ROWS_1_TO_12;
/// anything else runs one row): a tile keeps its MR accumulators in
/// registers only when MR is a constant.
#define AK_ROWS_1_TO_8(rows, TILE)                                                                                    \
  switch (rows) {                                                                                                     \
  case 8: TILE(8); break;                                                                                             \
  case 7: TILE(7); break;                                                                                             \
  case 6: TILE(6); break;                                                                                             \
  case 5: TILE(5); break;                                                                                             \
  case 4: TILE(4); break;                                                                                             \
  case 3: TILE(3); break;                                                                                             \
  case 2: TILE(2); break;                                                                                             \
  default: TILE(1); break;                                                                                            \
  }
#define AK_ROWS_1_TO_12(rows, TILE)                                                                                   \
  switch (rows) {                                                                                                     \
  case 12: TILE(12); break;                                                                                           \
  case 11: TILE(11); break;                                                                                           \
  case 10: TILE(10); break;                                                                                           \
  case 9: TILE(9); break;                                                                                             \
  default: AK_ROWS_1_TO_8(rows, TILE) break;                                                                          \
  }

/// The epilogue of an MR × (16·P) tile of a GEMM, shared by the float32 and
/// bfloat16 kernels: v = act(acc + bias) (+ residual), stored to the first
/// `columns` (≤ 16·P) columns of MR rows of C. `bias0`, `bias1` point to the
/// panels' 16 float biases. Inlined with constant MR and P, the
/// accumulators stay in registers.
AK_INLINE AK_AVX512 void ak_tile_epilogue16(const int MR, const int P, const __m512 *acc0, const __m512 *acc1,
                                             const float *bias0, const float *bias1, const float *residual, float *c,
                                             ptrdiff_t ldc, ptrdiff_t columns, ak_activation activation) {
  __m512 v[24];
  const __m512 b0 = _mm512_loadu_ps(bias0);
  const __m512 b1 = P == 2 ? _mm512_loadu_ps(bias1) : b0;
#pragma clang loop unroll(full)
  for (int i = 0; i < MR; i++) {
    v[i * P] = _mm512_add_ps(acc0[i], b0);
    if (P == 2) v[i * P + 1] = _mm512_add_ps(acc1[i], b1);
  }
  if (activation == AK_ACTIVATION_GELU_ERF) {
    ak_gelu_vectors16(v, MR * P);
  } else {
#pragma clang loop unroll(full)
    for (int i = 0; i < MR * P; i++) v[i] = ak_activate16(v[i], activation);
  }
  const __mmask16 m0 = ak_mask16(columns), m1 = ak_mask16(columns - 16);
#pragma clang loop unroll(full)
  for (int i = 0; i < MR; i++) {
    const float *r = residual ? residual + i * ldc : 0;
    __m512 x = v[i * P];
    if (r) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m0, r));
    _mm512_mask_storeu_ps(c + i * ldc, m0, x);
    if (P == 2 && columns > 16) {
      x = v[i * P + 1];
      if (r) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m1, r + 16));
      _mm512_mask_storeu_ps(c + i * ldc + 16, m1, x);
    }
  }
}

#endif
