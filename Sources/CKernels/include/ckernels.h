#ifndef AK_CKERNELS_H
#define AK_CKERNELS_H

// CPU kernels for the convolutional backbones, written in C so that x86_64
// builds get AVX2 + FMA code without compiler flags on the package: the fast
// paths carry `__attribute__((target("avx2,fma")))` and are chosen at run
// time; every other CPU (x86_64 without AVX2, aarch64) runs a portable path.
//
// Layout everywhere: channels-last (HWC), row-major, float32.

#include <stddef.h>

/// Activation applied after a convolution's bias.
typedef enum {
  AK_ACTIVATION_NONE = 0,
  AK_ACTIVATION_RELU6 = 1,  /* min(max(x, 0), 6) */
  AK_ACTIVATION_RELU = 2    /* max(x, 0) */
} ak_activation;

/// 1 when this CPU (and OS) can run the AVX2 + FMA kernels; 0 otherwise.
/// Constant for the life of the process.
int ak_cpu_has_avx2_fma(void);

/// Depthwise k×k convolution with bias and activation:
///
///   out[oy, ox, c] = act(bias[c] + Σ_{ky,kx} in[oy·s + ky − padTop, ox·s + kx − padLeft, c] · w[ky·k + kx, c])
///
/// taps outside the input count as zero. `weights` is `(k·k) × channels`,
/// `input` is `height × width × channels`, `output` is
/// `outHeight × outWidth × channels`. The summation order depends only on the
/// arguments (not on threads or batches), so results are reproducible.
void ak_depthwise_conv2d(const float *input, ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels,
                         const float *weights, const float *bias, ptrdiff_t kernel, ptrdiff_t stride,
                         ptrdiff_t padTop, ptrdiff_t padLeft, float *output, ptrdiff_t outHeight,
                         ptrdiff_t outWidth, ak_activation activation);

/// im2col of output rows [outRowBegin, outRowEnd) of a dense k×k
/// convolution: row r of `columns` (`(outRowEnd − outRowBegin)·outWidth` rows
/// of `k·k·channels` floats) holds the inputs under output pixel
/// (outRowBegin·outWidth + r), ordered (ky, kx, ci), zero outside the input:
///
///   columns[r, (ky·k + kx)·C + ci] = in[oy·s + ky − padTop, ox·s + kx − padLeft, ci]
void ak_im2col(const float *input, ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels, ptrdiff_t kernel,
               ptrdiff_t stride, ptrdiff_t padTop, ptrdiff_t padLeft, ptrdiff_t outRowBegin, ptrdiff_t outRowEnd,
               ptrdiff_t outWidth, float *columns);

/// Floats needed by `ak_gemm_pack` for a `k × n` weight matrix and its bias.
ptrdiff_t ak_gemm_packed_count(ptrdiff_t k, ptrdiff_t n);

/// Packs a row-major `k × n` matrix `b` and its `n` biases into the column
/// panels read by `ak_gemm_bias_activation` (panel width 16, the last panel
/// 8 when at most 8 columns remain; padding is zero). `packed` must hold
/// `ak_gemm_packed_count(k, n)` floats.
void ak_gemm_pack(const float *b, const float *bias, ptrdiff_t k, ptrdiff_t n, float *packed);

/// `C = act(A · B + bias) (+ R)` for row-major `A` (`m × k`, leading
/// dimension `lda`), `B` and `bias` as packed by `ak_gemm_pack`, and
/// optional `residual` `R` (`m × n`, leading dimension `ldc`, may be NULL;
/// must not alias `c`). Each output element is summed over `k` in order
/// 0, 1, …, k−1 with fused multiply-adds, then the bias is added.
///
/// Fast with `ak_cpu_has_avx2_fma()`; elsewhere a plain reference loop
/// (callers should prefer a BLAS there).
void ak_gemm_bias_activation(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                             const float *packed, const float *residual, float *c, ptrdiff_t ldc,
                             ak_activation activation);

#endif
