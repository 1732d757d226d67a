#include "ckernels.h"

/// Eight floats; lowered to one YMM register with AVX2, two XMM/NEON
/// registers otherwise.
typedef float ak_v8 __attribute__((vector_size(32)));

/// Sixteen floats: one ZMM register with AVX-512.
typedef float ak_v16 __attribute__((vector_size(64)));

#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define AK_DW(name) ak_depthwise_avx2_##name
#define AK_MADD(acc, x, w) __builtin_elementwise_fma((x), (w), (acc))
#define AK_DW_V ak_v8
#define AK_DW_L 8
#include "depthwise_impl.h"
#undef AK_DW
#undef AK_DW_V
#undef AK_DW_L
#pragma clang attribute pop
#define AK_HAS_AVX2_PATH 1

// The same body on sixteen channels at a time; every output is the same
// FMA chain as in the AVX2 copy, so both give the same bits.
#pragma clang attribute push(__attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl"))), apply_to = function)
#define AK_DW(name) ak_depthwise_avx512_##name
#define AK_DW_V ak_v16
#define AK_DW_L 16
#include "depthwise_impl.h"
#undef AK_DW
#undef AK_DW_V
#undef AK_DW_L
#undef AK_MADD
#pragma clang attribute pop
#endif

// Portable copy: SSE2 on x86_64, NEON on aarch64 (which contracts the
// multiply-add into FMLA). Its helpers that pass `ak_v8` by value are static
// and always inlined, so no call ever uses the 32-byte vector ABI that
// -Wpsabi warns about on x86_64 without AVX.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"
#define AK_DW(name) ak_depthwise_portable_##name
#define AK_MADD(acc, x, w) ((acc) + (x) * (w))
#define AK_DW_V ak_v8
#define AK_DW_L 8
#include "depthwise_impl.h"
#undef AK_DW
#undef AK_MADD
#undef AK_DW_V
#undef AK_DW_L
#pragma clang diagnostic pop

void ak_depthwise_conv2d_rows(const float *input, ptrdiff_t rowOffset, ptrdiff_t height, ptrdiff_t width,
                              ptrdiff_t channels, const float *weights, const float *bias, ptrdiff_t kernel,
                              ptrdiff_t stride, ptrdiff_t padTop, ptrdiff_t padLeft, float *output, ptrdiff_t outWidth,
                              ak_activation activation, ptrdiff_t rowBegin, ptrdiff_t rowEnd) {
  if (height <= 0 || width <= 0 || channels <= 0 || kernel <= 0 || stride <= 0 || rowEnd <= rowBegin) return;
#ifdef AK_HAS_AVX2_PATH
  if (channels % 16 == 0 && ak_cpu_has_avx512f()) {
    ak_depthwise_avx512_conv(input, rowOffset, height, width, channels, weights, bias, kernel, stride, padTop, padLeft,
                             output, outWidth, activation, rowBegin, rowEnd);
    return;
  }
  if (ak_cpu_has_avx2_fma()) {
    ak_depthwise_avx2_conv(input, rowOffset, height, width, channels, weights, bias, kernel, stride, padTop, padLeft,
                           output, outWidth, activation, rowBegin, rowEnd);
    return;
  }
#endif
  ak_depthwise_portable_conv(input, rowOffset, height, width, channels, weights, bias, kernel, stride, padTop, padLeft,
                             output, outWidth, activation, rowBegin, rowEnd);
}

void ak_depthwise_conv2d(const float *input, ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels,
                         const float *weights, const float *bias, ptrdiff_t kernel, ptrdiff_t stride,
                         ptrdiff_t padTop, ptrdiff_t padLeft, float *output, ptrdiff_t outHeight,
                         ptrdiff_t outWidth, ak_activation activation) {
  ak_depthwise_conv2d_rows(input, 0, height, width, channels, weights, bias, kernel, stride, padTop, padLeft, output,
                           outWidth, activation, 0, outHeight);
}

ptrdiff_t ak_depthwise_band_count(ptrdiff_t outWidth, ptrdiff_t channels) {
  if (outWidth <= 0 || channels <= 0) return 0;
  const ptrdiff_t rows = 16384 / (outWidth * channels);
  return (rows < 1 ? 1 : rows) * outWidth * channels;
}

void ak_depthwise_conv2d_i8(const float *input, ptrdiff_t rowOffset, ptrdiff_t height, ptrdiff_t width,
                            ptrdiff_t channels, const float *weights, const float *bias, ptrdiff_t kernel,
                            ptrdiff_t stride, ptrdiff_t padTop, ptrdiff_t padLeft, ptrdiff_t outWidth,
                            ak_activation activation, ptrdiff_t rowBegin, ptrdiff_t rowEnd, const uint8_t *packed,
                            float *band, uint32_t *quantized) {
  if (height <= 0 || width <= 0 || channels <= 0 || kernel <= 0 || stride <= 0 || outWidth <= 0) return;
  const ptrdiff_t rows = ak_depthwise_band_count(outWidth, channels) / (outWidth * channels);
  const ptrdiff_t groups = (channels + 3) / 4;
  for (ptrdiff_t r0 = rowBegin; r0 < rowEnd; r0 += rows) {
    const ptrdiff_t r1 = r0 + rows < rowEnd ? r0 + rows : rowEnd;
    ak_depthwise_conv2d_rows(input, rowOffset, height, width, channels, weights, bias, kernel, stride, padTop, padLeft,
                             band, outWidth, activation, r0, r1);
    ak_i8_gemm_quantize_input((r1 - r0) * outWidth, channels, band, channels, packed,
                              quantized + (r0 - rowBegin) * outWidth * groups);
  }
}
