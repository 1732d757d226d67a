// im2col for dense k×k convolutions on HWC maps.
//
// Row p = oy·outWidth + ox of the column matrix holds the k·k·Cin inputs
// under output pixel p, filter row by filter row:
//
//   columns[p, (ky·k + kx)·Cin + ci] = in[oy·s + ky − padTop, ox·s + kx − padLeft, ci]   (0 outside)
//
// In HWC the taps kx = 0..<k of one filter row are adjacent pixels, so each
// filter row is one contiguous run of k·Cin floats, cut at the border.

#include "ckernels.h"

/// Copies `count` floats; inlined as a few vector moves for the stem's
/// 9-float runs (3 taps × RGB).
static inline __attribute__((always_inline)) void ak_copy(float *dst, const float *src, ptrdiff_t count) {
  if (count == 9) {
    __builtin_memcpy(dst, src, 9 * sizeof(float));
  } else {
    for (ptrdiff_t i = 0; i < count; i++) dst[i] = src[i];
  }
}

void ak_im2col(const float *input, ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels, ptrdiff_t kernel,
               ptrdiff_t stride, ptrdiff_t padTop, ptrdiff_t padLeft, ptrdiff_t outRowBegin, ptrdiff_t outRowEnd,
               ptrdiff_t outWidth, float *columns) {
  const ptrdiff_t tapRow = kernel * channels;
  const ptrdiff_t rowLength = kernel * tapRow;
  float *col = columns;
  for (ptrdiff_t oy = outRowBegin; oy < outRowEnd; oy++) {
    for (ptrdiff_t ox = 0; ox < outWidth; ox++, col += rowLength) {
      const ptrdiff_t x0 = ox * stride - padLeft;
      const ptrdiff_t first = (x0 < 0 ? -x0 : 0) * channels;
      const ptrdiff_t end = (width - x0 < kernel ? width - x0 : kernel) * channels;
      for (ptrdiff_t ky = 0; ky < kernel; ky++) {
        const ptrdiff_t iy = oy * stride + ky - padTop;
        float *dst = col + ky * tapRow;
        if (iy < 0 || iy >= height || first >= end) {
          for (ptrdiff_t i = 0; i < tapRow; i++) dst[i] = 0;
          continue;
        }
        const float *src = input + ((iy * width + x0) * channels + first);
        for (ptrdiff_t i = 0; i < first; i++) dst[i] = 0;
        if (first == 0 && end == tapRow)
          ak_copy(dst, src, tapRow);
        else
          for (ptrdiff_t i = first; i < end; i++) dst[i] = src[i - first];
        for (ptrdiff_t i = end; i < tapRow; i++) dst[i] = 0;
      }
    }
  }
}

void ak_im2col_u8(const uint8_t *input, ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels, ptrdiff_t kernel,
                  ptrdiff_t stride, ptrdiff_t padTop, ptrdiff_t padLeft, ptrdiff_t outRowBegin, ptrdiff_t outRowEnd,
                  ptrdiff_t outWidth, uint8_t outside, uint32_t *rows) {
  const ptrdiff_t tapRow = kernel * channels;
  const ptrdiff_t rowLength = kernel * tapRow;
  const ptrdiff_t stored = 4 * ((rowLength + 3) / 4);
  uint8_t *col = (uint8_t *)rows;
  for (ptrdiff_t oy = outRowBegin; oy < outRowEnd; oy++) {
    for (ptrdiff_t ox = 0; ox < outWidth; ox++, col += stored) {
      const ptrdiff_t x0 = ox * stride - padLeft;
      const ptrdiff_t first = (x0 < 0 ? -x0 : 0) * channels;
      const ptrdiff_t end = (width - x0 < kernel ? width - x0 : kernel) * channels;
      for (ptrdiff_t ky = 0; ky < kernel; ky++) {
        const ptrdiff_t iy = oy * stride + ky - padTop;
        uint8_t *dst = col + ky * tapRow;
        if (iy < 0 || iy >= height || first >= end) {
          for (ptrdiff_t i = 0; i < tapRow; i++) dst[i] = outside;
          continue;
        }
        const uint8_t *src = input + ((iy * width + x0) * channels + first);
        for (ptrdiff_t i = 0; i < first; i++) dst[i] = outside;
        if (first == 0 && end == tapRow && tapRow == 9)
          __builtin_memcpy(dst, src, 9);
        else
          for (ptrdiff_t i = first; i < end; i++) dst[i] = src[i - first];
        for (ptrdiff_t i = end; i < tapRow; i++) dst[i] = outside;
      }
      for (ptrdiff_t i = rowLength; i < stored; i++) col[i] = 0;
    }
  }
}
