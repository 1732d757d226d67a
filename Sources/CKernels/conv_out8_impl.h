// The body of ak_conv2d_out8, included by conv_out8.c once per instruction
// set. The includer defines:
//   AK_C8(name)          the name of each function in this copy
//   AK_MADD(acc, x, w)   acc + x·w (a fused multiply-add where available)
//   AK_C8_RUN            output pixels computed together (independent
//                        accumulator chains that hide the FMA latency)
// and the vector type `ak_v8` (eight floats).
//
// Each output pixel's 8 channels are one vector: for every tap (ky, kx, ci)
// the 8 weights w[(ky·k + kx)·C + ci, 0…7] are one vector load, shared by
// the AK_C8_RUN neighbouring pixels of a run, and the input value is
// broadcast. Every output is summed in the same order (ky, kx, ci
// ascending, from zero) on every path, so a pixel's value does not depend on
// the run it falls in.

static inline __attribute__((always_inline)) ak_v8 AK_C8(load)(const float *p) {
  ak_v8 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

static inline __attribute__((always_inline)) void AK_C8(store)(float *p, ak_v8 v) {
  __builtin_memcpy(p, &v, sizeof v);
}

static inline __attribute__((always_inline)) ak_v8 AK_C8(splat)(float x) {
  ak_v8 v = {x, x, x, x, x, x, x, x};
  return v;
}

static inline __attribute__((always_inline)) ak_v8 AK_C8(finish)(ak_v8 acc, ak_v8 scale, ak_v8 shift,
                                                                 ak_activation activation) {
  const ak_v8 zero = {0, 0, 0, 0, 0, 0, 0, 0};
  const ak_v8 six = {6, 6, 6, 6, 6, 6, 6, 6};
  ak_v8 v = acc * scale + shift;
  switch (activation) {
  case AK_ACTIVATION_RELU6: return __builtin_elementwise_min(__builtin_elementwise_max(v, zero), six);
  case AK_ACTIVATION_RELU: return __builtin_elementwise_max(v, zero);
  default: return v;
  }
}

static void AK_C8(conv)(const float *input, ptrdiff_t rowStride, ptrdiff_t channels, const float *weights,
                        ptrdiff_t kernel, ptrdiff_t stride, const float *scale, const float *shift, float *output,
                        ptrdiff_t outHeight, ptrdiff_t outWidth, ak_activation activation) {
  const ptrdiff_t C = channels, k = kernel, s = stride;
  const ak_v8 sc = AK_C8(load)(scale), sh = AK_C8(load)(shift);
  for (ptrdiff_t oy = 0; oy < outHeight; oy++) {
    const float *row = input + oy * s * rowStride;
    float *out = output + oy * outWidth * 8;
    ptrdiff_t ox = 0;
    for (; ox + AK_C8_RUN <= outWidth; ox += AK_C8_RUN) {
      ak_v8 acc[AK_C8_RUN];
#pragma clang loop unroll(full)
      for (int j = 0; j < AK_C8_RUN; j++) acc[j] = AK_C8(splat)(0);
      for (ptrdiff_t ky = 0; ky < k; ky++) {
        for (ptrdiff_t kx = 0; kx < k; kx++) {
          const float *x = row + ky * rowStride + (ox * s + kx) * C;
          const float *w = weights + (ky * k + kx) * C * 8;
          for (ptrdiff_t ci = 0; ci < C; ci++) {
            const ak_v8 wv = AK_C8(load)(w + ci * 8);
#pragma clang loop unroll(full)
            for (int j = 0; j < AK_C8_RUN; j++) acc[j] = AK_MADD(acc[j], AK_C8(splat)(x[j * s * C + ci]), wv);
          }
        }
      }
#pragma clang loop unroll(full)
      for (int j = 0; j < AK_C8_RUN; j++) AK_C8(store)(out + (ox + j) * 8, AK_C8(finish)(acc[j], sc, sh, activation));
    }
    for (; ox < outWidth; ox++) {
      ak_v8 acc = AK_C8(splat)(0);
      for (ptrdiff_t ky = 0; ky < k; ky++) {
        for (ptrdiff_t kx = 0; kx < k; kx++) {
          const float *x = row + ky * rowStride + (ox * s + kx) * C;
          const float *w = weights + (ky * k + kx) * C * 8;
          for (ptrdiff_t ci = 0; ci < C; ci++) acc = AK_MADD(acc, AK_C8(splat)(x[ci]), AK_C8(load)(w + ci * 8));
        }
      }
      AK_C8(store)(out + ox * 8, AK_C8(finish)(acc, sc, sh, activation));
    }
  }
}
