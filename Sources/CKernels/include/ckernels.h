#ifndef AK_CKERNELS_H
#define AK_CKERNELS_H

// CPU kernels for the convolutional backbones and the transformer text
// encoder, written in C so that x86_64 builds get AVX2 + FMA code without
// compiler flags on the package: the fast paths carry
// `__attribute__((target("avx2,fma")))` and are chosen at run time; every
// other CPU (x86_64 without AVX2, aarch64) runs a portable path.
//
// Layout everywhere: row-major float32; images channels-last (HWC).

#include <stddef.h>
#include <stdint.h>

/// Activation applied after a convolution's bias.
typedef enum {
  AK_ACTIVATION_NONE = 0,
  AK_ACTIVATION_RELU6 = 1,  /* min(max(x, 0), 6) */
  AK_ACTIVATION_RELU = 2,   /* max(x, 0) */
  AK_ACTIVATION_GELU_ERF = 3 /* x·½·(1 + erf(x/√2)), as ak_gelu_erf computes it */
} ak_activation;

/// 1 when this CPU (and OS) can run the AVX2 + FMA kernels; 0 otherwise.
/// Constant for the life of the process.
int ak_cpu_has_avx2_fma(void);

/// 1 when this CPU (and OS) can run the AVX-512 FP32 kernels (AVX-512 F, BW
/// and DQ, with AVX2 + FMA) and ANOMALYKIT_KERNELS is not `portable` or
/// `avx2`; 0 otherwise. Constant for the life of the process.
int ak_cpu_has_avx512f(void);

/// Depthwise k×k convolution with bias and activation:
///
///   out[oy, ox, c] = act(bias[c] + Σ_{ky,kx} in[oy·s + ky − padTop, ox·s + kx − padLeft, c] · w[ky·k + kx, c])
///
/// taps outside the input count as zero. `weights` is `(k·k) × channels`,
/// `input` is `height × width × channels`, `output` is
/// `outHeight × outWidth × channels`. Each output is the bias followed by
/// one multiply-add per tap inside the input, rows outer, columns inner: fused
/// on the AVX-512 copy (sixteen channels at a time, for channel counts that
/// are multiples of 16) and the AVX2 copy (eight at a time), which therefore
/// give the same bits; separate on the portable copy. The order depends only
/// on the arguments (not on threads or batches), so results are reproducible.
void ak_depthwise_conv2d(const float *input, ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels,
                         const float *weights, const float *bias, ptrdiff_t kernel, ptrdiff_t stride,
                         ptrdiff_t padTop, ptrdiff_t padLeft, float *output, ptrdiff_t outHeight,
                         ptrdiff_t outWidth, ak_activation activation);

/// Dense k×k convolution to exactly 8 output channels, unpadded,
/// channels-last, then a per-channel affine map (an inference batch norm)
/// and an activation:
///
///   out[oy, ox, o] = act(scale[o] · Σ_{ky,kx,ci} in[oy·s + ky, ox·s + kx, ci] · w[(ky·k + kx)·C + ci, o] + shift[o])
///
/// `input` rows are `rowStride` floats apart (`width·channels` for a
/// contiguous image) and must hold rows `0 … (outHeight − 1)·s + k − 1` and
/// columns `0 … (outWidth − 1)·s + k − 1`; `weights` is `(k·k·C) × 8`;
/// `scale`, `shift` hold 8 floats; `output` is `outHeight × outWidth × 8`.
/// Each sum runs over (ky, kx, ci) in ascending order from zero, with fused
/// multiply-adds on the AVX2 + FMA path; the result of a pixel does not
/// depend on its neighbours or on threads. For small-width networks whose
/// layers are 8 channels wide (Tiny-LaDeDa), where a GEMM's packing costs
/// more than the arithmetic.
void ak_conv2d_out8(const float *input, ptrdiff_t rowStride, ptrdiff_t channels, const float *weights,
                    ptrdiff_t kernel, ptrdiff_t stride, const float *scale, const float *shift, float *output,
                    ptrdiff_t outHeight, ptrdiff_t outWidth, ak_activation activation);

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
/// Fast with `ak_cpu_has_avx512f()` (12×32 ZMM tiles) or `ak_cpu_has_avx2_fma()`
/// (6×16 YMM tiles), which give the same bits; elsewhere a plain reference loop
/// (callers should prefer a BLAS there).
void ak_gemm_bias_activation(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                             const float *packed, const float *residual, float *c, ptrdiff_t ldc,
                             ak_activation activation);

// MARK: - Transformer kernels

/// e^x element-wise for x ≤ 0 (`y` may be `x`). AVX2 + FMA: the vectorised
/// exp of vector_math.h (under 1 ulp; x < −87.34 gives 0, not a subnormal);
/// elsewhere the C library's expf.
void ak_exp(const float *x, float *y, ptrdiff_t count);

/// erf(x) element-wise (`y` may be `x`). AVX2 + FMA: the vectorised erf of
/// vector_math.h (about 1 ulp); elsewhere the C library's erff.
void ak_erf(const float *x, float *y, ptrdiff_t count);

/// The exact (erf) GELU element-wise, `y = 0.5f·x·(1 + erf(x·0.70710678f))`
/// evaluated in that order (`y` may be `x`), with `ak_erf`'s erf. The same
/// function as `AK_ACTIVATION_GELU_ERF` in `ak_gemm_bias_activation`, bit for
/// bit.
void ak_gelu_erf(const float *x, float *y, ptrdiff_t count);

/// The portable GELU of one float, with the C library's erff.
float ak_gelu_erf1(float x);

/// `activation` of one float, as the portable GEMM loops apply it (GELU by
/// `ak_gelu_erf1`).
float ak_activate1(float v, ak_activation activation);

/// Floats of scratch that `ak_attention` needs for a sequence of `tokens`.
ptrdiff_t ak_attention_scratch_count(ptrdiff_t tokens, ptrdiff_t headDimension);

/// Multi-head self-attention over all `tokens` rows of one sequence (no
/// mask): for each head h, with Q, K, V the head's `headDimension` columns
/// starting at h·headDimension of `q`, `k`, `v` (row-major, leading
/// dimension `ldqkv`),
///
///   out[i, h·d_h + c] = Σ_j softmax_j(scale · Q[i]·K[j]) · V[j, c]
///
/// written to `out` (leading dimension `ldout`; must not overlap q, k, v).
/// Dot products are summed over c in order, the context over j in order; a
/// row's result depends only on this sequence. `scratch` holds
/// `ak_attention_scratch_count(tokens, headDimension)` floats.
void ak_attention(ptrdiff_t tokens, ptrdiff_t heads, ptrdiff_t headDimension, const float *q, const float *k,
                  const float *v, ptrdiff_t ldqkv, float scale, float *out, ptrdiff_t ldout, float *scratch);

/// LayerNorm of each of `rows` rows of `n` floats:
/// `y = float((x − μ)/√(σ² + ε))·γ + β`, with μ and the biased σ²
/// accumulated in double. `x` (leading dimension `ldx`) may be `y` (leading
/// dimension `ldy`, then equal to `ldx`).
void ak_layer_norm(ptrdiff_t rows, ptrdiff_t n, const float *x, ptrdiff_t ldx, const float *gamma, const float *beta,
                   float eps, float *y, ptrdiff_t ldy);

/// 1 when this CPU (and OS) can run the AVX-512 BF16 kernels (AVX-512 F,
/// BW and BF16's vdpbf16ps) and ANOMALYKIT_KERNELS is not `portable` or
/// `avx2`; 0 otherwise. Constant for the life of the process.
int ak_cpu_has_avx512_bf16(void);

/// float32 → bfloat16, rounding to nearest with ties to even (the upper 16
/// bits of the rounded float; NaN stays NaN).
uint16_t ak_f32_to_bf16_one(float x);
/// `ak_f32_to_bf16_one` over `n` values.
void ak_f32_to_bf16(const float *x, uint16_t *y, ptrdiff_t n);
/// bfloat16 → float32, exactly.
float ak_bf16_to_f32_one(uint16_t x);
/// `ak_bf16_to_f32_one` over `n` values.
void ak_bf16_to_f32(const uint16_t *x, float *y, ptrdiff_t n);

/// Dot products of bfloat16 rows, accumulated in float32:
///
///   c[i·ldc + j] = Σ_t a[i·d + t] · b[j·d + t],   i < m, j < n
///
/// Each product of two bfloat16 values is exact in float32. The AVX-512
/// path (vdpbf16ps, 32 products per instruction) sums them in pairs and
/// lanes; the portable path sums them in order, so the two agree to float
/// rounding, not bit for bit.
void ak_bf16_gemm_nt(const uint16_t *a, ptrdiff_t m, const uint16_t *b, ptrdiff_t n, ptrdiff_t d, float *c, ptrdiff_t ldc);

// MARK: - bfloat16 matrix product

/// bfloat16 values needed by `ak_bf16_gemm_pack` for a `k × n` weight
/// matrix and its bias.
ptrdiff_t ak_bf16_gemm_packed_count(ptrdiff_t k, ptrdiff_t n);

/// Rounds a row-major `k × n` matrix `b` to bfloat16 (nearest, ties to even)
/// and packs it with its `n` float biases into the 16-column panels of
/// column pairs read by `ak_bf16_gemm_bias_activation` (zero past row k and
/// column n). `packed` must hold `ak_bf16_gemm_packed_count(k, n)` values.
void ak_bf16_gemm_pack(const float *b, const float *bias, ptrdiff_t k, ptrdiff_t n, uint16_t *packed);

/// 32-bit words of scratch that `ak_bf16_gemm_bias_activation` needs for
/// `m` rows of length `k` (A rounded to bfloat16 pairs).
ptrdiff_t ak_bf16_gemm_scratch_count(ptrdiff_t m, ptrdiff_t k);

/// `C = act(bf16(A) · B + bias) (+ R)` with float32 accumulation, for
/// row-major float `A` (`m × k`, leading dimension `lda`), `B` and `bias` as
/// packed by `ak_bf16_gemm_pack`, and optional `residual` `R` (`m × n`,
/// leading dimension `ldc`, may be NULL; must not alias `c`):
///
///   c[i, j] = act(bias[j] + Σ_p (ã[i, 2p]·b̃[2p, j] + ã[i, 2p+1]·b̃[2p+1, j])) (+ r[i, j])
///
/// where ã and b̃ are the operands rounded to bfloat16; each product is exact
/// in float32 and pairs are added in order p = 0, 1, …. A row of C depends
/// only on its own row of A. `scratch` holds
/// `ak_bf16_gemm_scratch_count(m, k)` words.
///
/// Fast with `ak_cpu_has_avx512_bf16()` (vdpbf16ps, which treats denormal
/// operands as zero); elsewhere a plain reference loop with the same
/// operands, equal to float rounding.
void ak_bf16_gemm_bias_activation(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                  const uint16_t *packed, const float *residual, float *c, ptrdiff_t ldc,
                                  ak_activation activation, uint32_t *scratch);

// MARK: - 8-bit integer matrix product

/// 1 when this CPU (and OS) can run the AVX-512 VNNI kernels (AVX-512 F, BW,
/// DQ and VNNI's vpdpbusd) and ANOMALYKIT_KERNELS is not `portable` or
/// `avx2`; 0 otherwise. Constant for the life of the process.
int ak_cpu_has_avx512_vnni(void);

/// The affine 8-bit quantisation of activations in `[lo, hi]`: the range is
/// widened to contain 0, `scale = (hi − lo) / 255` (1 for an empty range)
/// and `zero = clamp(rint(−lo / scale), 0, 255)`, so `q(a) = rint(a / scale) + zero`
/// covers the range and represents 0 exactly.
void ak_i8_activation_quantization(float lo, float hi, float *scale, int32_t *zero);

/// `ak_im2col` on 8-bit codes (an image quantised once, as one row, by
/// `ak_i8_gemm_quantize_input`): each output pixel's row is written in the
/// layout of `ak_i8_gemm_quantize_input` (⌈k·k·Cin / 4⌉ groups of four
/// bytes, zero past k·k·Cin), with `outside` (the code of 0, the zero point)
/// for taps outside the image. The same codes as `ak_im2col` followed by
/// `ak_i8_gemm_quantize_input`.
void ak_im2col_u8(const uint8_t *input, ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels, ptrdiff_t kernel,
                  ptrdiff_t stride, ptrdiff_t padTop, ptrdiff_t padLeft, ptrdiff_t outRowBegin, ptrdiff_t outRowEnd,
                  ptrdiff_t outWidth, uint8_t outside, uint32_t *rows);

/// The activation zero point `z` packed in `packed` (`ak_i8_gemm_pack`).
int32_t ak_i8_gemm_zero_point(const uint8_t *packed);

/// Bytes needed by `ak_i8_gemm_pack` for a `k × n` weight matrix.
ptrdiff_t ak_i8_gemm_packed_count(ptrdiff_t k, ptrdiff_t n);

/// Quantises a row-major `k × n` matrix `b` to int8 per column
/// (`s_c = max_k |b[k, c]| / 127`) and packs it, with its `n` float biases and
/// the activation quantisation of the range `[lo, hi]`, into the 16-column
/// panels of four-row groups read by `ak_i8_gemm_bias_activation`. `packed`
/// must hold `ak_i8_gemm_packed_count(k, n)` bytes; k < 66,000.
void ak_i8_gemm_pack(const float *b, const float *bias, ptrdiff_t k, ptrdiff_t n, float lo, float hi, uint8_t *packed);

/// Packs `b` and `bias` as `ak_i8_gemm_pack` does, for per-row activation
/// codes instead of a calibrated range: each row i of A is quantised with
/// the code of its own range `[min(0, min_k a[i, k]), max(0, max_k a[i, k])]`
/// (`ak_i8_activation_quantization`), computed as the row is quantised, and
///
///   c[i, j] = act(float(Σ_k q(a[i, k])·q(b[k, j]) − z_i·Σ_k q(b[k, j])) · (s_j·s_i) + bias[j]) (+ r[i, j])
///
/// which is bit for bit the product packed by `ak_i8_gemm_pack` with that
/// row's range. For inputs with no calibration pass (the text encoder's
/// linear layers). Not for `ak_depthwise_conv2d_i8` or `ak_im2col_u8`,
/// which need one code for the whole input.
void ak_i8_gemm_pack_per_row(const float *b, const float *bias, ptrdiff_t k, ptrdiff_t n, uint8_t *packed);

/// 32-bit words of scratch that `ak_i8_gemm_bias_activation` needs for `m`
/// rows of length `k`: A quantised to groups of four bytes (⌈k/4⌉ words a
/// row), then, for per-row codes, each row's scale and zero point (2 words
/// a row).
ptrdiff_t ak_i8_gemm_scratch_count(ptrdiff_t m, ptrdiff_t k);

/// `C = act(deq(q(A) · q(B)) + bias) (+ R)` with exact int32 sums, for
/// row-major float `A` (`m × k`, leading dimension `lda`), `B`, `bias` and the
/// activation range as packed by `ak_i8_gemm_pack` (or per-row codes, by
/// `ak_i8_gemm_pack_per_row`), and optional `residual`
/// (`m × n`, leading dimension `ldc`, may be NULL; must not alias `c`):
///
///   c[i, j] = act(float(Σ_k q(a[i, k])·q(b[k, j]) − z·Σ_k q(b[k, j])) · (s_a·s_j) + bias[j]) (+ r[i, j])
///
/// (the full definition is at the top of gemm_int8.c). A row of C depends
/// only on its own row of A. `scratch` holds `ak_i8_gemm_scratch_count(m, k)`
/// words. Fast with `ak_cpu_has_avx512_vnni()`; elsewhere a plain loop with
/// the same bits (for every activation but GELU, equal to float rounding).
void ak_i8_gemm_bias_activation(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                const uint8_t *packed, const float *residual, float *c, ptrdiff_t ldc,
                                ak_activation activation, uint32_t *scratch);

/// The first half of `ak_i8_gemm_bias_activation`: quantises `m` rows of A
/// (`m × k`, leading dimension `lda`) with the activation code packed in
/// `packed` into `rows` (`ak_i8_gemm_scratch_count(m, k)` words: each row
/// ⌈k/4⌉ groups of four bytes, zero past k; then, for per-row codes, the m
/// scales and m zero points).
void ak_i8_gemm_quantize_input(ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t lda, const uint8_t *packed,
                               uint32_t *rows);

/// The second half: the product of rows quantised by
/// `ak_i8_gemm_quantize_input` (or `ak_depthwise_conv2d_i8`), with the same
/// epilogue. Both halves in turn give `ak_i8_gemm_bias_activation`'s bits.
void ak_i8_gemm_quantized_bias_activation(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const uint32_t *rows,
                                          const uint8_t *packed, const float *residual, float *c, ptrdiff_t ldc,
                                          ak_activation activation);

/// Floats of the band `ak_depthwise_conv2d_i8` computes at a time: whole
/// output rows, about 64 KiB (at least one row).
ptrdiff_t ak_depthwise_band_count(ptrdiff_t outWidth, ptrdiff_t channels);

/// Output rows [rowBegin, rowEnd) of `ak_depthwise_conv2d` into `output`
/// (row rowBegin first), reading `input` that holds the input rows from
/// `rowOffset` on (at least the rows those outputs read): the same bits as
/// the same rows of the whole convolution, so a map can be made band by
/// band while its input is made band by band.
void ak_depthwise_conv2d_rows(const float *input, ptrdiff_t rowOffset, ptrdiff_t height, ptrdiff_t width,
                              ptrdiff_t channels, const float *weights, const float *bias, ptrdiff_t kernel,
                              ptrdiff_t stride, ptrdiff_t padTop, ptrdiff_t padLeft, float *output, ptrdiff_t outWidth,
                              ak_activation activation, ptrdiff_t rowBegin, ptrdiff_t rowEnd);

/// `ak_depthwise_conv2d_rows` fused with the quantisation of its output for
/// the int8 product that reads it (`packed`, from `ak_i8_gemm_pack`): bands
/// of output rows are computed into `band` (`ak_depthwise_band_count`
/// floats) and quantised into `quantized` (row rowBegin first;
/// `ak_i8_gemm_scratch_count(rows · outWidth, channels)` words) while they
/// are in cache, so the float map is never written out. The same bits as
/// `ak_depthwise_conv2d` followed by `ak_i8_gemm_quantize_input`.
void ak_depthwise_conv2d_i8(const float *input, ptrdiff_t rowOffset, ptrdiff_t height, ptrdiff_t width,
                            ptrdiff_t channels, const float *weights, const float *bias, ptrdiff_t kernel,
                            ptrdiff_t stride, ptrdiff_t padTop, ptrdiff_t padLeft, ptrdiff_t outWidth,
                            ak_activation activation, ptrdiff_t rowBegin, ptrdiff_t rowEnd, const uint8_t *packed,
                            float *band, uint32_t *quantized);

#endif
