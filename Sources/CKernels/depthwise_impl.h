// The depthwise convolution body, included by depthwise.c once per
// instruction set. The includer defines:
//   AK_DW(name)          the name of each function in this copy
//   AK_MADD(acc, x, w)   acc + x·w (a fused multiply-add where available)
//   AK_DW_V, AK_DW_L     the vector type and its number of floats (8 or 16)
//
// Work goes output row by output row. Within a row:
//
// - For 3×3 and 5×5 filters, stride 1 or 2 (and channels a multiple of
//   AK_DW_L), runs of AK_DW_RUN neighbouring output pixels per group of
//   AK_DW_L channels. For each filter row the k weight vectors are loaded once, and
//   each input vector of the row is loaded once and fed to every pixel of
//   the run that uses it (pixel j reads input column s·j + kx), so an input
//   vector costs one load for up to k FMAs. Runs that touch the left or
//   right border skip the input columns outside the image.
// - Any other filter takes one pixel at a time with the taps clipped to the
//   input, four groups of AK_DW_L channels at once so that four independent
//   FMA chains hide the FMA latency.
//
// Every output is summed in the same order, ky outer and kx inner, whatever
// path computes it, so copies of different vector widths give the same bits.

#ifndef AK_DW_RUN
#define AK_DW_RUN 4
#endif

/// Unaligned load and store of AK_DW_L floats.
static inline __attribute__((always_inline)) AK_DW_V AK_DW(load)(const float *p) {
  AK_DW_V v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

static inline __attribute__((always_inline)) void AK_DW(store)(float *p, AK_DW_V v) {
  __builtin_memcpy(p, &v, sizeof v);
}

static inline __attribute__((always_inline)) AK_DW_V AK_DW(activate)(AK_DW_V v, ak_activation activation) {
  const AK_DW_V zero = {0};
  const AK_DW_V six = zero + 6.0f;
  switch (activation) {
  case AK_ACTIVATION_RELU6: return __builtin_elementwise_min(__builtin_elementwise_max(v, zero), six);
  case AK_ACTIVATION_RELU: return __builtin_elementwise_max(v, zero);
  default: return v;
  }
}

static inline __attribute__((always_inline)) float AK_DW(activate1)(float v, ak_activation activation) {
  switch (activation) {
  case AK_ACTIVATION_RELU6: return v < 0 ? 0 : (v > 6 ? 6 : v);
  case AK_ACTIVATION_RELU: return v < 0 ? 0 : v;
  default: return v;
  }
}

/// One output pixel whose tap (0, 0) is at input offset `origin` (possibly
/// outside the input: only taps in [kyLo, kyHi) × [kxLo, kxHi) are read).
/// `k` is the filter width, the row length of `w`.
static void AK_DW(pixel)(const float *input, ptrdiff_t origin, ptrdiff_t rowStride, ptrdiff_t channels,
                         const float *w, ptrdiff_t k, ptrdiff_t kyLo, ptrdiff_t kyHi, ptrdiff_t kxLo, ptrdiff_t kxHi,
                         const float *bias, float *out, ak_activation activation) {
  const ptrdiff_t C = channels;
  ptrdiff_t c = 0;
  enum { L = AK_DW_L };
  for (; c + 4 * L <= C; c += 4 * L) {
    AK_DW_V a0 = AK_DW(load)(bias + c), a1 = AK_DW(load)(bias + c + L);
    AK_DW_V a2 = AK_DW(load)(bias + c + 2 * L), a3 = AK_DW(load)(bias + c + 3 * L);
    for (ptrdiff_t ky = kyLo; ky < kyHi; ky++) {
      for (ptrdiff_t kx = kxLo; kx < kxHi; kx++) {
        const float *x = input + (origin + ky * rowStride + kx * C + c);
        const float *f = w + ((ky * k + kx) * C + c);
        a0 = AK_MADD(a0, AK_DW(load)(x), AK_DW(load)(f));
        a1 = AK_MADD(a1, AK_DW(load)(x + L), AK_DW(load)(f + L));
        a2 = AK_MADD(a2, AK_DW(load)(x + 2 * L), AK_DW(load)(f + 2 * L));
        a3 = AK_MADD(a3, AK_DW(load)(x + 3 * L), AK_DW(load)(f + 3 * L));
      }
    }
    AK_DW(store)(out + c, AK_DW(activate)(a0, activation));
    AK_DW(store)(out + c + L, AK_DW(activate)(a1, activation));
    AK_DW(store)(out + c + 2 * L, AK_DW(activate)(a2, activation));
    AK_DW(store)(out + c + 3 * L, AK_DW(activate)(a3, activation));
  }
  for (; c + L <= C; c += L) {
    AK_DW_V a = AK_DW(load)(bias + c);
    for (ptrdiff_t ky = kyLo; ky < kyHi; ky++)
      for (ptrdiff_t kx = kxLo; kx < kxHi; kx++)
        a = AK_MADD(a, AK_DW(load)(input + (origin + ky * rowStride + kx * C + c)),
                    AK_DW(load)(w + ((ky * k + kx) * C + c)));
    AK_DW(store)(out + c, AK_DW(activate)(a, activation));
  }
  for (; c < C; c++) {
    float a = bias[c];
    for (ptrdiff_t ky = kyLo; ky < kyHi; ky++)
      for (ptrdiff_t kx = kxLo; kx < kxHi; kx++) a += input[origin + ky * rowStride + kx * C + c] * w[(ky * k + kx) * C + c];
    out[c] = AK_DW(activate1)(a, activation);
  }
}

/// AK_DW_RUN neighbouring output pixels of a row, for a constant kernel size
/// `K` and stride `S`; tap (0, 0) of the first pixel is at input offset
/// `origin`, the input column of that tap is `x0`. With `CLIP`, input
/// columns outside [0, width) are skipped (border runs); without, all are
/// inside (interior runs). Requires `channels` to be a multiple of AK_DW_L.
static inline __attribute__((always_inline)) void AK_DW(run)(
    const float *input, ptrdiff_t origin, ptrdiff_t x0, ptrdiff_t width, ptrdiff_t rowStride, ptrdiff_t channels,
    const float *w, const ptrdiff_t K, const ptrdiff_t S, const int CLIP, ptrdiff_t kyLo, ptrdiff_t kyHi,
    const float *bias, float *out, ak_activation activation) {
  const ptrdiff_t C = channels;
  const ptrdiff_t T = S * (AK_DW_RUN - 1) + K;  // input columns read by the run
  const ptrdiff_t tLo = CLIP && x0 < 0 ? -x0 : 0;
  const ptrdiff_t tHi = CLIP && width - x0 < T ? width - x0 : T;
  for (ptrdiff_t c = 0; c < C; c += AK_DW_L) {
    AK_DW_V acc[AK_DW_RUN];
    for (int j = 0; j < AK_DW_RUN; j++) acc[j] = AK_DW(load)(bias + c);
    for (ptrdiff_t ky = kyLo; ky < kyHi; ky++) {
      const ptrdiff_t x = origin + ky * rowStride + c;
      const float *f = w + (ky * K * C + c);
      AK_DW_V weight[5];
      for (ptrdiff_t kx = 0; kx < K; kx++) weight[kx] = AK_DW(load)(f + kx * C);
      // Input column t feeds pixel j through tap kx = t − S·j. Both loops are
      // unrolled explicitly (K and S are constants), so the taps that do not
      // exist vanish at compile time. SwiftPM compiles C at -O2, which on its
      // own leaves the 5×5 stride-2 runs (11 columns × 4 pixels) rolled, at
      // half the speed (Notebooks-export/explorations/depthwise-unroll.md).
#pragma clang loop unroll(full)
      for (ptrdiff_t t = 0; t < T; t++) {
        if (CLIP && (t < tLo || t >= tHi)) continue;
        const AK_DW_V v = AK_DW(load)(input + (x + t * C));
#pragma clang loop unroll(full)
        for (ptrdiff_t j = 0; j < AK_DW_RUN; j++) {
          const ptrdiff_t kx = t - S * j;
          if (kx >= 0 && kx < K) acc[j] = AK_MADD(acc[j], v, weight[kx]);
        }
      }
    }
    for (int j = 0; j < AK_DW_RUN; j++) AK_DW(store)(out + (j * C + c), AK_DW(activate)(acc[j], activation));
  }
}

/// One output row. With a specialised `K` (> 0) the row is covered by runs
/// of AK_DW_RUN pixels, the last one shifted left to end at the row's end
/// (it recomputes a few pixels, bit for bit); otherwise pixel by pixel.
static inline __attribute__((always_inline)) void AK_DW(row)(
    const float *input, ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels, const float *w, const float *bias,
    ptrdiff_t k, ptrdiff_t stride, ptrdiff_t padTop, ptrdiff_t padLeft, float *out, ptrdiff_t oy,
    ptrdiff_t outWidth, ptrdiff_t interiorBegin, ptrdiff_t interiorEnd, ak_activation activation, const ptrdiff_t K,
    const ptrdiff_t S, ptrdiff_t rowOffset) {
  const ptrdiff_t C = channels;
  const ptrdiff_t rowStride = width * C;
  const ptrdiff_t y0 = oy * stride - padTop;
  const ptrdiff_t kyLo = y0 < 0 ? -y0 : 0;
  const ptrdiff_t kyHi = height - y0 < k ? height - y0 : k;
  // `input` holds rows from rowOffset on; only rows y0 + [kyLo, kyHi) are read.
  input += (y0 + kyLo - rowOffset) * rowStride;
  const ptrdiff_t yBase = -kyLo;  // row y0 + ky is at input + (ky + yBase)·rowStride
  if (K > 0 && outWidth >= AK_DW_RUN) {
    for (ptrdiff_t next = 0; next < outWidth; next += AK_DW_RUN) {
      const ptrdiff_t ox = next + AK_DW_RUN <= outWidth ? next : outWidth - AK_DW_RUN;
      const ptrdiff_t x0 = ox * S - padLeft;
      const ptrdiff_t origin = yBase * rowStride + x0 * C;
      if (ox >= interiorBegin && ox + AK_DW_RUN <= interiorEnd)
        AK_DW(run)(input, origin, x0, width, rowStride, C, w, K, S, 0, kyLo, kyHi, bias, out + ox * C, activation);
      else
        AK_DW(run)(input, origin, x0, width, rowStride, C, w, K, S, 1, kyLo, kyHi, bias, out + ox * C, activation);
    }
    return;
  }
  for (ptrdiff_t ox = 0; ox < outWidth; ox++) {
    const ptrdiff_t x0 = ox * stride - padLeft;
    const ptrdiff_t kxLo = x0 < 0 ? -x0 : 0;
    const ptrdiff_t kxHi = width - x0 < k ? width - x0 : k;
    AK_DW(pixel)(input, yBase * rowStride + x0 * C, rowStride, C, w, k, kyLo, kyHi, kxLo, kxHi, bias, out + ox * C,
                 activation);
  }
}

/// Output rows [rowBegin, rowEnd); `output` receives row rowBegin first.
/// `input` holds the input rows from `rowOffset` on (at least those the
/// output rows read).
static void AK_DW(conv)(const float *input, ptrdiff_t rowOffset, ptrdiff_t height, ptrdiff_t width,
                        ptrdiff_t channels, const float *w, const float *bias, ptrdiff_t k, ptrdiff_t stride,
                        ptrdiff_t padTop, ptrdiff_t padLeft, float *output, ptrdiff_t outWidth,
                        ak_activation activation, ptrdiff_t rowBegin, ptrdiff_t rowEnd) {
  // Interior columns: x0 = ox·s − padLeft ≥ 0 and x0 + k ≤ width.
  ptrdiff_t interiorBegin = (padLeft + stride - 1) / stride;
  ptrdiff_t interiorEnd = width - k + padLeft >= 0 ? (width - k + padLeft) / stride + 1 : 0;
  if (interiorEnd > outWidth) interiorEnd = outWidth;
  if (interiorBegin > interiorEnd) interiorBegin = interiorEnd;
  // Specialised runs: K and S compile-time constants; K = 0 means none.
  const int special = channels % AK_DW_L == 0 && (k == 3 || k == 5) && (stride == 1 || stride == 2);
  const int variant = special ? (int)(k * 10 + stride) : 0;
  for (ptrdiff_t oy = rowBegin; oy < rowEnd; oy++) {
    float *out = output + (oy - rowBegin) * outWidth * channels;
#define AK_DW_ROW(K, S)                                                                                            \
  AK_DW(row)(input, height, width, channels, w, bias, k, stride, padTop, padLeft, out, oy, outWidth, interiorBegin, \
             interiorEnd, activation, K, S, rowOffset)
    switch (variant) {
    case 31: AK_DW_ROW(3, 1); break;
    case 32: AK_DW_ROW(3, 2); break;
    case 51: AK_DW_ROW(5, 1); break;
    case 52: AK_DW_ROW(5, 2); break;
    default: AK_DW_ROW(0, 1); break;
    }
#undef AK_DW_ROW
  }
}
