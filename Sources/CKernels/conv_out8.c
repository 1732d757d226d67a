#include "ckernels.h"

/// Eight floats; lowered to one YMM register with AVX2, two XMM/NEON
/// registers otherwise.
typedef float ak_v8 __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define AK_C8(name) ak_conv_out8_avx2_##name
#define AK_MADD(acc, x, w) __builtin_elementwise_fma((x), (w), (acc))
#define AK_C8_RUN 8
#include "conv_out8_impl.h"
#undef AK_C8
#undef AK_MADD
#undef AK_C8_RUN
#pragma clang attribute pop
#define AK_HAS_AVX2_PATH 1
#endif

// Portable copy: SSE2 on x86_64 (where eight accumulators of two XMM
// registers each would spill, hence runs of four), NEON on aarch64. Its
// helpers that pass `ak_v8` by value are static and always inlined, so no
// call uses the 32-byte vector ABI that -Wpsabi warns about.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"
#define AK_C8(name) ak_conv_out8_portable_##name
#define AK_MADD(acc, x, w) ((acc) + (x) * (w))
#define AK_C8_RUN 4
#include "conv_out8_impl.h"
#undef AK_C8
#undef AK_MADD
#undef AK_C8_RUN
#pragma clang diagnostic pop

void ak_conv2d_out8(const float *input, ptrdiff_t rowStride, ptrdiff_t channels, const float *weights,
                    ptrdiff_t kernel, ptrdiff_t stride, const float *scale, const float *shift, float *output,
                    ptrdiff_t outHeight, ptrdiff_t outWidth, ak_activation activation) {
  if (channels <= 0 || kernel <= 0 || stride <= 0 || outHeight <= 0 || outWidth <= 0) return;
#ifdef AK_HAS_AVX2_PATH
  if (ak_cpu_has_avx2_fma()) {
    ak_conv_out8_avx2_conv(input, rowStride, channels, weights, kernel, stride, scale, shift, output, outHeight,
                           outWidth, activation);
    return;
  }
#endif
  ak_conv_out8_portable_conv(input, rowStride, channels, weights, kernel, stride, scale, shift, output, outHeight,
                             outWidth, activation);
}
