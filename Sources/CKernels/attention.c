// Multi-head scaled dot-product self-attention over the tokens of one
// sequence (no mask: the caller passes only real tokens):
//
//   S[i, j]   = scale · Σ_c Q[i, c] · K[j, c]          c over the head's d_h columns, in order
//   P[i, ·]   = softmax(S[i, ·]) = exp(S[i, j] − max_j S[i, j]) / Σ_j exp(…)
//   out[i, c] = Σ_j P[i, j] · V[j, c]                   j = 0, 1, …, t−1 in order
//
// AVX2 + FMA path, per head: K_h is transposed into scratch (d_h × t,
// padded to a multiple of 8 with zeros), then four query rows at a time
// get their scores sixteen keys at a time (eight independent FMA chains
// over c), a softmax with the vectorised exp of vector_math.h, and their
// context vectors two rows at a time (eight FMA chains over j). Which keys
// or rows share a register never changes an element's order of summation.
// The portable path is the same sums on scalars, with expf. Either way a row's result
// depends only on the sequence, never on other sequences or threads.

#include "ckernels.h"

#include <math.h>

ptrdiff_t ak_attention_scratch_count(ptrdiff_t tokens, ptrdiff_t headDimension) {
  if (tokens <= 0 || headDimension <= 0) return 0;
  const ptrdiff_t padded = (tokens + 7) / 8 * 8;
  return headDimension * padded + 4 * padded;
}

static void ak_attention_portable(ptrdiff_t t, ptrdiff_t heads, ptrdiff_t dh, const float *q, const float *k,
                                  const float *v, ptrdiff_t ld, float scale, float *out, ptrdiff_t ldo,
                                  float *scratch) {
  float *p = scratch;  // one row of probabilities
  for (ptrdiff_t h = 0; h < heads; h++) {
    const float *qh = q + h * dh, *kh = k + h * dh, *vh = v + h * dh;
    for (ptrdiff_t i = 0; i < t; i++) {
      float top = -INFINITY;
      for (ptrdiff_t j = 0; j < t; j++) {
        float dot = 0;
        for (ptrdiff_t c = 0; c < dh; c++) dot += qh[i * ld + c] * kh[j * ld + c];
        p[j] = scale * dot;
        if (p[j] > top) top = p[j];
      }
      float sum = 0;
      for (ptrdiff_t j = 0; j < t; j++) {
        p[j] = expf(p[j] - top);
        sum += p[j];
      }
      const float inverse = 1 / sum;
      for (ptrdiff_t j = 0; j < t; j++) p[j] *= inverse;
      float *o = out + i * ldo + h * dh;
      for (ptrdiff_t c = 0; c < dh; c++) {
        float acc = 0;
        for (ptrdiff_t j = 0; j < t; j++) acc += p[j] * vh[j * ld + c];
        o[c] = acc;
      }
    }
  }
}

#if defined(__x86_64__) && defined(__clang__)
#include "vector_math.h"

/// Sum of the eight lanes, always in the same order.
AK_INLINE AK_AVX2 float ak_horizontal_sum(__m256 v) {
  const __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 b = _mm_add_ps(a, _mm_movehl_ps(a, a));
  return _mm_cvtss_f32(_mm_add_ss(b, _mm_movehdup_ps(b)));
}

AK_INLINE AK_AVX2 float ak_horizontal_max(__m256 v) {
  const __m128 a = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 b = _mm_max_ps(a, _mm_movehl_ps(a, a));
  return _mm_cvtss_f32(_mm_max_ss(b, _mm_movehdup_ps(b)));
}

/// Softmax in place of a row of `t` scores stored in `padded` floats; the
/// padding lanes come out 0.
AK_INLINE AK_AVX2 void ak_softmax_row(float *p, ptrdiff_t t, ptrdiff_t padded) {
  const __m256 negativeInfinity = _mm256_set1_ps(-INFINITY);
  __m256 top = negativeInfinity;
  for (ptrdiff_t j = 0; j < padded; j += 8) {
    const __m256 valid = _mm256_castsi256_ps(ak_lane_mask(t - j));
    top = _mm256_max_ps(top, _mm256_blendv_ps(negativeInfinity, _mm256_loadu_ps(p + j), valid));
  }
  const __m256 rowMax = _mm256_set1_ps(ak_horizontal_max(top));
  __m256 sum = _mm256_setzero_ps();
  for (ptrdiff_t j = 0; j < padded; j += 8) {
    const __m256 valid = _mm256_castsi256_ps(ak_lane_mask(t - j));
    const __m256 e = _mm256_and_ps(valid, ak_exp8(_mm256_sub_ps(_mm256_loadu_ps(p + j), rowMax)));
    _mm256_storeu_ps(p + j, e);
    sum = _mm256_add_ps(sum, e);
  }
  const __m256 inverse = _mm256_set1_ps(1 / ak_horizontal_sum(sum));
  for (ptrdiff_t j = 0; j < padded; j += 8) _mm256_storeu_ps(p + j, _mm256_mul_ps(_mm256_loadu_ps(p + j), inverse));
}

/// Writes the transpose of the 8×8 block at `src` (leading dimension `lds`)
/// to `dst` (leading dimension `ldd`).
AK_INLINE AK_AVX2 void ak_transpose8x8(const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd) {
  __m256 r[8], u[8], w[8];
  for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * lds);
  for (int i = 0; i < 8; i += 2) {
    u[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    u[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    w[i] = _mm256_shuffle_ps(u[i], u[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    w[i + 1] = _mm256_shuffle_ps(u[i], u[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    w[i + 2] = _mm256_shuffle_ps(u[i + 1], u[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    w[i + 3] = _mm256_shuffle_ps(u[i + 1], u[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; i++) {
    _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(w[i], w[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(w[i], w[i + 4], 0x31));
  }
}

/// Scores of four query rows against keys [j, j + 8·J) (J = 1 or 2 blocks
/// of eight), scaled, stored in rows of `padded` floats of `scores`.
AK_INLINE AK_AVX2 void ak_scores(const int J, const float *q0, const float *q1, const float *q2, const float *q3,
                                 const float *kt, ptrdiff_t padded, ptrdiff_t dh, ptrdiff_t j, __m256 scale,
                                 float *scores) {
  __m256 a[4][2];
  for (int r = 0; r < 4; r++) a[r][0] = a[r][1] = _mm256_setzero_ps();
  for (ptrdiff_t c = 0; c < dh; c++) {
    const __m256 k0 = _mm256_loadu_ps(kt + c * padded + j);
    const __m256 k1 = J == 2 ? _mm256_loadu_ps(kt + c * padded + j + 8) : _mm256_setzero_ps();
    const __m256 x0 = _mm256_broadcast_ss(q0 + c), x1 = _mm256_broadcast_ss(q1 + c);
    const __m256 x2 = _mm256_broadcast_ss(q2 + c), x3 = _mm256_broadcast_ss(q3 + c);
    a[0][0] = _mm256_fmadd_ps(x0, k0, a[0][0]);
    a[1][0] = _mm256_fmadd_ps(x1, k0, a[1][0]);
    a[2][0] = _mm256_fmadd_ps(x2, k0, a[2][0]);
    a[3][0] = _mm256_fmadd_ps(x3, k0, a[3][0]);
    if (J == 2) {
      a[0][1] = _mm256_fmadd_ps(x0, k1, a[0][1]);
      a[1][1] = _mm256_fmadd_ps(x1, k1, a[1][1]);
      a[2][1] = _mm256_fmadd_ps(x2, k1, a[2][1]);
      a[3][1] = _mm256_fmadd_ps(x3, k1, a[3][1]);
    }
  }
  for (int r = 0; r < 4; r++) {
    _mm256_storeu_ps(scores + r * padded + j, _mm256_mul_ps(scale, a[r][0]));
    if (J == 2) _mm256_storeu_ps(scores + r * padded + j + 8, _mm256_mul_ps(scale, a[r][1]));
  }
}

/// Context columns [c, c + 8·C) (C = 1 or 4 blocks of eight) of R = 1 or 2
/// query rows: out_r = Σ_j p_r[j]·V[j], j in order.
AK_INLINE AK_AVX2 void ak_context(const int R, const int C, const float *p0, const float *p1, const float *v,
                                  ptrdiff_t ld, ptrdiff_t t, float *o0, float *o1) {
  __m256 a[2][4];
  for (int r = 0; r < 2; r++)
    for (int b = 0; b < 4; b++) a[r][b] = _mm256_setzero_ps();
  for (ptrdiff_t j = 0; j < t; j++) {
    const __m256 w0 = _mm256_broadcast_ss(p0 + j);
    const __m256 w1 = R == 2 ? _mm256_broadcast_ss(p1 + j) : _mm256_setzero_ps();
    for (int b = 0; b < C; b++) {
      const __m256 x = _mm256_loadu_ps(v + j * ld + 8 * b);
      a[0][b] = _mm256_fmadd_ps(w0, x, a[0][b]);
      if (R == 2) a[1][b] = _mm256_fmadd_ps(w1, x, a[1][b]);
    }
  }
  for (int b = 0; b < C; b++) {
    _mm256_storeu_ps(o0 + 8 * b, a[0][b]);
    if (R == 2) _mm256_storeu_ps(o1 + 8 * b, a[1][b]);
  }
}

static AK_AVX2 void ak_attention_avx2(ptrdiff_t t, ptrdiff_t heads, ptrdiff_t dh, const float *q, const float *k,
                                      const float *v, ptrdiff_t ld, float scale, float *out, ptrdiff_t ldo,
                                      float *scratch) {
  const ptrdiff_t padded = (t + 7) / 8 * 8;
  float *kt = scratch;                   // d_h × padded: K_h transposed, zero past t
  float *probs = scratch + dh * padded;  // 4 × padded: scores, then probabilities, of four query rows
  const __m256 vscale = _mm256_set1_ps(scale);
  for (ptrdiff_t c = 0; c < dh; c++) {
    for (ptrdiff_t j = t; j < padded; j++) kt[c * padded + j] = 0;
  }
  for (ptrdiff_t h = 0; h < heads; h++) {
    const float *qh = q + h * dh, *kh = k + h * dh, *vh = v + h * dh;
    ptrdiff_t j = 0;
    for (; j + 8 <= t; j += 8) {
      for (ptrdiff_t c = 0; c < dh; c += 8) ak_transpose8x8(kh + j * ld + c, ld, kt + c * padded + j, padded);
    }
    for (; j < t; j++) {
      for (ptrdiff_t c = 0; c < dh; c++) kt[c * padded + j] = kh[j * ld + c];
    }
    for (ptrdiff_t i0 = 0; i0 < t; i0 += 4) {
      const ptrdiff_t rows = t - i0 < 4 ? t - i0 : 4;
      // Rows past t repeat the last row; their results are not used.
      const float *q0 = qh + i0 * ld;
      const float *q1 = qh + (rows > 1 ? i0 + 1 : t - 1) * ld;
      const float *q2 = qh + (rows > 2 ? i0 + 2 : t - 1) * ld;
      const float *q3 = qh + (rows > 3 ? i0 + 3 : t - 1) * ld;
      j = 0;
      for (; j + 16 <= padded; j += 16) ak_scores(2, q0, q1, q2, q3, kt, padded, dh, j, vscale, probs);
      if (j < padded) ak_scores(1, q0, q1, q2, q3, kt, padded, dh, j, vscale, probs);
      for (ptrdiff_t r = 0; r < rows; r++) ak_softmax_row(probs + r * padded, t, padded);
      for (ptrdiff_t r = 0; r < rows; r += 2) {
        const float *p0 = probs + r * padded, *p1 = probs + (r + 1) * padded;
        float *o0 = out + (i0 + r) * ldo + h * dh, *o1 = o0 + ldo;
        ptrdiff_t c = 0;
        if (r + 1 < rows) {
          for (; c + 32 <= dh; c += 32) ak_context(2, 4, p0, p1, vh + c, ld, t, o0 + c, o1 + c);
          for (; c < dh; c += 8) ak_context(2, 1, p0, p1, vh + c, ld, t, o0 + c, o1 + c);
        } else {
          for (; c + 32 <= dh; c += 32) ak_context(1, 4, p0, p0, vh + c, ld, t, o0 + c, o0 + c);
          for (; c < dh; c += 8) ak_context(1, 1, p0, p0, vh + c, ld, t, o0 + c, o0 + c);
        }
      }
    }
  }
}
#endif

void ak_attention(ptrdiff_t tokens, ptrdiff_t heads, ptrdiff_t headDimension, const float *q, const float *k,
                  const float *v, ptrdiff_t ldqkv, float scale, float *out, ptrdiff_t ldout, float *scratch) {
  if (tokens <= 0 || heads <= 0 || headDimension <= 0) return;
#if defined(__x86_64__) && defined(__clang__)
  if (ak_cpu_has_avx2_fma() && headDimension % 8 == 0) {
    ak_attention_avx2(tokens, heads, headDimension, q, k, v, ldqkv, scale, out, ldout, scratch);
    return;
  }
#endif
  ak_attention_portable(tokens, heads, headDimension, q, k, v, ldqkv, scale, out, ldout, scratch);
}
