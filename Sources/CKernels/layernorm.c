// Row-wise LayerNorm:
//
//   μ = (1/n) Σ_j x_j,  σ² = (1/n) Σ_j (x_j − μ)²   (biased; both accumulated in double)
//   y_j = float((x_j − μ) / √(σ² + ε)) · γ_j + β_j  (the last multiply and add in float)
//
// The AVX2 path converts four floats at a time to double and keeps four
// partial sums per statistic (added in a fixed order at the end); the
// portable path sums one element at a time. Each row depends only on itself.

#include "ckernels.h"

#include <math.h>

static void ak_layer_norm_row_portable(ptrdiff_t n, const float *x, const float *gamma, const float *beta, double eps,
                                       float *y) {
  double sum = 0;
  for (ptrdiff_t j = 0; j < n; j++) sum += x[j];
  const double mean = sum / (double)n;
  double squares = 0;
  for (ptrdiff_t j = 0; j < n; j++) {
    const double c = x[j] - mean;
    squares += c * c;
  }
  const double inverse = 1 / sqrt(squares / (double)n + eps);
  for (ptrdiff_t j = 0; j < n; j++) {
    const float normalized = (float)((x[j] - mean) * inverse);
    const float scaled = normalized * gamma[j];
    y[j] = scaled + beta[j];
  }
}

#if defined(__x86_64__) && defined(__clang__)
#include "vector_math.h"

AK_INLINE AK_AVX2 double ak_horizontal_sum_pd(__m256d v) {
  const __m128d a = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(a, _mm_unpackhi_pd(a, a)));
}

static AK_AVX2 void ak_layer_norm_row_avx2(ptrdiff_t n, const float *x, const float *gamma, const float *beta,
                                           double eps, float *y) {
  const ptrdiff_t vectorized = n / 8 * 8;
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  for (ptrdiff_t j = 0; j < vectorized; j += 8) {
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm_loadu_ps(x + j)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm_loadu_ps(x + j + 4)));
  }
  double sum = ak_horizontal_sum_pd(_mm256_add_pd(s0, s1));
  for (ptrdiff_t j = vectorized; j < n; j++) sum += x[j];
  const double mean = sum / (double)n;
  const __m256d vmean = _mm256_set1_pd(mean);
  s0 = _mm256_setzero_pd();
  s1 = _mm256_setzero_pd();
  for (ptrdiff_t j = 0; j < vectorized; j += 8) {
    const __m256d c0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + j)), vmean);
    const __m256d c1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + j + 4)), vmean);
    s0 = _mm256_fmadd_pd(c0, c0, s0);
    s1 = _mm256_fmadd_pd(c1, c1, s1);
  }
  double squares = ak_horizontal_sum_pd(_mm256_add_pd(s0, s1));
  for (ptrdiff_t j = vectorized; j < n; j++) {
    const double c = x[j] - mean;
    squares += c * c;
  }
  const double inverse = 1 / sqrt(squares / (double)n + eps);
  const __m256d vinverse = _mm256_set1_pd(inverse);
  for (ptrdiff_t j = 0; j < vectorized; j += 8) {
    const __m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + j)), vmean), vinverse));
    const __m128 hi = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + j + 4)), vmean), vinverse));
    const __m256 normalized = _mm256_set_m128(hi, lo);
    _mm256_storeu_ps(y + j, _mm256_add_ps(_mm256_mul_ps(normalized, _mm256_loadu_ps(gamma + j)), _mm256_loadu_ps(beta + j)));
  }
  for (ptrdiff_t j = vectorized; j < n; j++) {
    const float normalized = (float)((x[j] - mean) * inverse);
    const float scaled = normalized * gamma[j];
    y[j] = scaled + beta[j];
  }
}
#endif

void ak_layer_norm(ptrdiff_t rows, ptrdiff_t n, const float *x, ptrdiff_t ldx, const float *gamma, const float *beta,
                   float eps, float *y, ptrdiff_t ldy) {
  if (rows <= 0 || n <= 0) return;
#if defined(__x86_64__) && defined(__clang__)
  if (ak_cpu_has_avx2_fma()) {
    for (ptrdiff_t r = 0; r < rows; r++) ak_layer_norm_row_avx2(n, x + r * ldx, gamma, beta, eps, y + r * ldy);
    return;
  }
#endif
  for (ptrdiff_t r = 0; r < rows; r++) ak_layer_norm_row_portable(n, x + r * ldx, gamma, beta, eps, y + r * ldy);
}
