// Element-wise exp, erf and GELU over arrays: the vectorised functions of
// vector_math.h with AVX2 + FMA, the C library's expf / erff elsewhere.
// The last (count mod 8) elements go through the same vector code with
// masked loads and stores, so an element's result never depends on its
// position in the array.

#include "ckernels.h"

#include <math.h>

#if defined(__x86_64__) && defined(__clang__)
#include "vector_math.h"
#define AK_HAS_AVX2_PATH 1

#define AK_ELEMENTWISE_AVX2(name, vector)                                                                              \
  static AK_AVX2 void name(const float *x, float *y, ptrdiff_t count) {                                                \
    ptrdiff_t i = 0;                                                                                                   \
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(y + i, vector(_mm256_loadu_ps(x + i)));                           \
    if (i < count) {                                                                                                   \
      const __m256i mask = ak_lane_mask(count - i);                                                                    \
      _mm256_maskstore_ps(y + i, mask, vector(_mm256_maskload_ps(x + i, mask)));                                       \
    }                                                                                                                  \
  }

AK_ELEMENTWISE_AVX2(ak_exp_avx2, ak_exp8)
AK_ELEMENTWISE_AVX2(ak_erf_avx2, ak_erf8)
AK_ELEMENTWISE_AVX2(ak_gelu_erf_avx2, ak_gelu8)
#endif

float ak_gelu_erf1(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678f)); }

float ak_activate1(float v, ak_activation activation) {
  switch (activation) {
  case AK_ACTIVATION_RELU6: return v < 0 ? 0 : (v > 6 ? 6 : v);
  case AK_ACTIVATION_RELU: return v < 0 ? 0 : v;
  case AK_ACTIVATION_GELU_ERF: return ak_gelu_erf1(v);
  default: return v;
  }
}

void ak_exp(const float *x, float *y, ptrdiff_t count) {
#ifdef AK_HAS_AVX2_PATH
  if (ak_cpu_has_avx2_fma()) {
    ak_exp_avx2(x, y, count);
    return;
  }
#endif
  for (ptrdiff_t i = 0; i < count; i++) y[i] = expf(x[i]);
}

void ak_erf(const float *x, float *y, ptrdiff_t count) {
#ifdef AK_HAS_AVX2_PATH
  if (ak_cpu_has_avx2_fma()) {
    ak_erf_avx2(x, y, count);
    return;
  }
#endif
  for (ptrdiff_t i = 0; i < count; i++) y[i] = erff(x[i]);
}

void ak_gelu_erf(const float *x, float *y, ptrdiff_t count) {
#ifdef AK_HAS_AVX2_PATH
  if (ak_cpu_has_avx2_fma()) {
    ak_gelu_erf_avx2(x, y, count);
    return;
  }
#endif
  for (ptrdiff_t i = 0; i < count; i++) y[i] = ak_gelu_erf1(x[i]);
}
