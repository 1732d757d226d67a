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

#include <string.h>

/// The im2col loop over elements of `elem` bytes (4 for floats, 1 for
/// 8-bit codes), inlined with constant `elem` so that the stem's 9-element
/// runs (3 taps × RGB) become a few moves. Taps outside the image are
/// filled with the byte `outside`; each row is `stored` elements long, the
/// elements past k·k·Cin zero.
static inline __attribute__((always_inline)) void ak_im2col_elements(
    const char *input, const ptrdiff_t elem, ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels, ptrdiff_t kernel,
    ptrdiff_t stride, ptrdiff_t padTop, ptrdiff_t padLeft, ptrdiff_t outRowBegin, ptrdiff_t outRowEnd,
    ptrdiff_t outWidth, int outside, ptrdiff_t stored, char *columns) {
  const ptrdiff_t tapRow = kernel * channels;
  const ptrdiff_t rowLength = kernel * tapRow;
  char *col = columns;
  for (ptrdiff_t oy = outRowBegin; oy < outRowEnd; oy++) {
    for (ptrdiff_t ox = 0; ox < outWidth; ox++, col += stored * elem) {
      const ptrdiff_t x0 = ox * stride - padLeft;
      const ptrdiff_t first = (x0 < 0 ? -x0 : 0) * channels;
      const ptrdiff_t end = (width - x0 < kernel ? width - x0 : kernel) * channels;
      for (ptrdiff_t ky = 0; ky < kernel; ky++) {
        const ptrdiff_t iy = oy * stride + ky - padTop;
        char *dst = col + ky * tapRow * elem;
        if (iy < 0 || iy >= height || first >= end) {
          memset(dst, outside, (size_t)(tapRow * elem));
          continue;
        }
        const char *src = input + ((iy * width + x0) * channels + first) * elem;
        if (first == 0 && end == tapRow && tapRow == 9) {
          memcpy(dst, src, (size_t)(9 * elem));
        } else {
          memset(dst, outside, (size_t)(first * elem));
          memcpy(dst + first * elem, src, (size_t)((end - first) * elem));
          memset(dst + end * elem, outside, (size_t)((tapRow - end) * elem));
        }
      }
      if (stored > rowLength) memset(col + rowLength * elem, 0, (size_t)((stored - rowLength) * elem));
    }
  }
}

void ak_im2col(const float *input, ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels, ptrdiff_t kernel,
               ptrdiff_t stride, ptrdiff_t padTop, ptrdiff_t padLeft, ptrdiff_t outRowBegin, ptrdiff_t outRowEnd,
               ptrdiff_t outWidth, float *columns) {
  ak_im2col_elements((const char *)input, 4, height, width, channels, kernel, stride, padTop, padLeft, outRowBegin,
                     outRowEnd, outWidth, 0, kernel * kernel * channels, (char *)columns);
}

void ak_im2col_u8(const uint8_t *input, ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels, ptrdiff_t kernel,
                  ptrdiff_t stride, ptrdiff_t padTop, ptrdiff_t padLeft, ptrdiff_t outRowBegin, ptrdiff_t outRowEnd,
                  ptrdiff_t outWidth, uint8_t outside, uint32_t *rows) {
  ak_im2col_elements((const char *)input, 1, height, width, channels, kernel, stride, padTop, padLeft, outRowBegin,
                     outRowEnd, outWidth, outside, 4 * ((kernel * kernel * channels + 3) / 4), (char *)rows);
}
