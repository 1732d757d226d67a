// Exploration (issue 17): a BF16 GEMM with packed weights (vdpbf16ps, 12x16 tiles)
// against the toolkit's FP32 AVX2 GEMM on EfficientNet-Lite0's 1x1 convolution shapes.
// Build and run from the repository root (x86_64 with AVX-512 BF16):
//   clang -O3 -ISources/CKernels/include -o /tmp/pw Notebooks-export/explorations/bf16_pointwise_gemm.c \
//     Sources/CKernels/gemm.c Sources/CKernels/bf16.c Sources/CKernels/cpu.c Sources/CKernels/elementwise.c -lm && /tmp/pw
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ckernels.h"

#ifndef TWO_PANELS
#define TWO_PANELS 1
#endif
#define T __attribute__((target("avx512f,avx512bw,avx512bf16")))

// Packed: per 16-column panel: 16 float bias, then ceil(k/2) rows of 16 column pairs (32 bf16).
static size_t packed16(ptrdiff_t k, ptrdiff_t n) { ptrdiff_t p = (n + 15) / 16, kp = (k + 1) / 2; return (size_t)p * (32 + kp * 32); }
static void pack(const float *b, const float *bias, ptrdiff_t k, ptrdiff_t n, uint16_t *out) {
  ptrdiff_t panels = (n + 15) / 16, kp = (k + 1) / 2;
  for (ptrdiff_t j = 0; j < panels; j++) {
    uint16_t *panel = out + j * (32 + kp * 32);
    float *bb = (float *)panel;
    for (int c = 0; c < 16; c++) bb[c] = j * 16 + c < n ? bias[j * 16 + c] : 0;
    for (ptrdiff_t p = 0; p < kp; p++)
      for (int c = 0; c < 16; c++)
        for (int h = 0; h < 2; h++) {
          ptrdiff_t row = 2 * p + h, col = j * 16 + c;
          panel[32 + p * 32 + c * 2 + h] = (row < k && col < n) ? ak_f32_to_bf16_one(b[row * n + col]) : 0;
        }
  }
}

T static inline __attribute__((always_inline)) void tile(const int MR, ptrdiff_t kp, const uint32_t *a, ptrdiff_t lda32, const uint16_t *panel, float *c, ptrdiff_t ldc, int columns) {
  __m512 acc[12];
  for (int i = 0; i < MR; i++) acc[i] = _mm512_setzero_ps();
  const uint16_t *b = panel + 32;
  for (ptrdiff_t p = 0; p < kp; p++) {
    __m512bh bv = (__m512bh)_mm512_loadu_si512((const void *)(b + p * 32));
    for (int i = 0; i < MR; i++) acc[i] = _mm512_dpbf16_ps(acc[i], (__m512bh)_mm512_set1_epi32((int)a[i * lda32 + p]), bv);
  }
  __m512 bias = _mm512_loadu_ps((const float *)panel);
  __mmask16 m = (__mmask16)((1u << columns) - 1);
  for (int i = 0; i < MR; i++) {
    __m512 v = _mm512_add_ps(acc[i], bias);
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_setzero_ps()), _mm512_set1_ps(6));
    _mm512_mask_storeu_ps(c + i * ldc, m, v);
  }
}

T static void convert_rows(ptrdiff_t m, ptrdiff_t k, const float *a, uint32_t *out, ptrdiff_t kp) {
  for (ptrdiff_t i = 0; i < m; i++) {
    const float *row = a + i * k;
    uint16_t *o = (uint16_t *)(out + i * kp);
    ptrdiff_t t = 0;
    for (; t + 32 <= k; t += 32) {
      __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + t + 16), _mm512_loadu_ps(row + t));
      _mm512_storeu_si512((void *)(o + t), (__m512i)v);
    }
    if (t < k) {
      ptrdiff_t r = k - t;
      __mmask16 m0 = (__mmask16)(r >= 16 ? 0xFFFF : ((1u << r) - 1));
      __mmask16 m1 = (__mmask16)(r > 16 ? ((1u << (r - 16)) - 1) : 0);
      __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(m1, row + t + 16), _mm512_maskz_loadu_ps(m0, row + t));
      ptrdiff_t w = 2 * kp - t;  // including the zero pad to an even k
      _mm512_mask_storeu_epi16((void *)(o + t), (__mmask32)((w >= 32) ? 0xFFFFFFFFu : ((1u << w) - 1)), (__m512i)v);
    }
  }
}

// Two panels at once: MR rows x 32 columns, 2*MR accumulators; per k pair
// 2 panel loads and MR broadcasts feed 2*MR dot products.
T static inline __attribute__((always_inline)) void tile2(const int MR, ptrdiff_t kp, const uint32_t *a, ptrdiff_t lda32, const uint16_t *panel0, const uint16_t *panel1,
                    float *c, ptrdiff_t ldc, int columns1) {
  __m512 acc0[8], acc1[8];
  for (int i = 0; i < MR; i++) { acc0[i] = _mm512_setzero_ps(); acc1[i] = _mm512_setzero_ps(); }
  const uint16_t *b0 = panel0 + 32, *b1 = panel1 + 32;
  for (ptrdiff_t p = 0; p < kp; p++) {
    __m512bh v0 = (__m512bh)_mm512_loadu_si512((const void *)(b0 + p * 32));
    __m512bh v1 = (__m512bh)_mm512_loadu_si512((const void *)(b1 + p * 32));
    for (int i = 0; i < MR; i++) {
      __m512bh x = (__m512bh)_mm512_set1_epi32((int)a[i * lda32 + p]);
      acc0[i] = _mm512_dpbf16_ps(acc0[i], x, v0);
      acc1[i] = _mm512_dpbf16_ps(acc1[i], x, v1);
    }
  }
  __m512 bias0 = _mm512_loadu_ps((const float *)panel0), bias1 = _mm512_loadu_ps((const float *)panel1);
  __mmask16 m = (__mmask16)((1u << columns1) - 1);
  for (int i = 0; i < MR; i++) {
    __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(acc0[i], bias0), _mm512_setzero_ps()), _mm512_set1_ps(6));
    _mm512_storeu_ps(c + i * ldc, v);
    v = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(acc1[i], bias1), _mm512_setzero_ps()), _mm512_set1_ps(6));
    _mm512_mask_storeu_ps(c + i * ldc + 16, m, v);
  }
}

T static void gemm_bf16(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, const uint16_t *packed, float *c, uint32_t *scratch) {
  ptrdiff_t kp = (k + 1) / 2, panels = (n + 15) / 16;
  convert_rows(m, k, a, scratch, kp);
  ptrdiff_t chunk = (64 * 1024) / (32 + kp * 32); if (chunk < 1) chunk = 1;
  for (ptrdiff_t j0 = 0; j0 < panels; j0 += chunk) {
    ptrdiff_t j1 = j0 + chunk < panels ? j0 + chunk : panels;
    const ptrdiff_t step = TWO_PANELS ? 8 : 12;
    for (ptrdiff_t i = 0; i < m; i += step) {
      int rows = m - i < step ? (int)(m - i) : (int)step;
      ptrdiff_t j = j0;
      for (; TWO_PANELS && j + 2 <= j1; j += 2) {
        int cols1 = n - (j + 1) * 16 < 16 ? (int)(n - (j + 1) * 16) : 16;
        if (rows == 8) tile2(8, kp, scratch + i * kp, kp, packed + j * (32 + kp * 32), packed + (j + 1) * (32 + kp * 32), c + i * n + j * 16, n, cols1);
        else tile2(rows, kp, scratch + i * kp, kp, packed + j * (32 + kp * 32), packed + (j + 1) * (32 + kp * 32), c + i * n + j * 16, n, cols1);
      }
      for (; j < j1; j++) {
        int cols = n - j * 16 < 16 ? (int)(n - j * 16) : 16;
        if (rows == 12) tile(12, kp, scratch + i * kp, kp, packed + j * (32 + kp * 32), c + i * n + j * 16, n, cols);
        else tile(rows, kp, scratch + i * kp, kp, packed + j * (32 + kp * 32), c + i * n + j * 16, n, cols);
      }
    }
  }
}

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(void) {
  // (H*W, cin, cout, count) for EfficientNet-Lite0's 1x1 convolutions at 224 px.
  int shapes[][4] = {{12544, 32, 16, 1}, {12544, 16, 96, 1}, {3136, 96, 24, 1}, {3136, 24, 144, 1}, {3136, 144, 24, 1},
                     {3136, 24, 144, 1}, {784, 144, 40, 1}, {784, 40, 240, 2}, {784, 240, 40, 1}, {196, 240, 80, 1},
                     {196, 80, 480, 3}, {196, 480, 80, 2}, {196, 480, 112, 1}, {196, 112, 672, 3}, {196, 672, 112, 2},
                     {49, 672, 192, 1}, {49, 192, 1152, 4}, {49, 1152, 192, 3}, {49, 1152, 320, 1}, {49, 320, 1280, 1}};
  double t32 = 0, t16 = 0, flops = 0;
  for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int m = shapes[s][0], k = shapes[s][1], n = shapes[s][2], count = shapes[s][3];
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *bias = calloc(n, 4);
    float *c1 = malloc(sizeof(float) * m * n), *c2 = malloc(sizeof(float) * m * n);
    for (int i = 0; i < m * k; i++) a[i] = rand() / (float)RAND_MAX;
    for (int i = 0; i < k * n; i++) b[i] = rand() / (float)RAND_MAX - 0.5f;
    float *p32 = malloc(sizeof(float) * ak_gemm_packed_count(k, n)); ak_gemm_pack(b, bias, k, n, p32);
    uint16_t *p16 = malloc(2 * packed16(k, n)); pack(b, bias, k, n, p16);
    uint32_t *scratch = malloc(4 * (size_t)m * ((k + 1) / 2));
    double best32 = 1e9, best16 = 1e9;
    for (int r = 0; r < 20; r++) {
      double t = now(); ak_gemm_bias_activation(m, n, k, a, k, p32, 0, c1, n, AK_ACTIVATION_RELU6); t = now() - t; if (t < best32) best32 = t;
      t = now(); gemm_bf16(m, n, k, a, p16, c2, scratch); t = now() - t; if (t < best16) best16 = t;
    }
    double md = 0; for (int i = 0; i < m * n; i++) { double d = c1[i] - c2[i]; if (d < 0) d = -d; if (d > md) md = d; }
    printf("M=%5d K=%4d N=%4d  fp32 %6.1f GF/s  bf16 %6.1f GF/s  x%.2f  maxdiff %.3f\n", m, k, n, 2.0*m*n*k/best32/1e9, 2.0*m*n*k/best16/1e9, best32/best16, md);
    t32 += best32 * count; t16 += best16 * count; flops += 2.0 * m * n * k * count;
  }
  printf("all 1x1 convolutions of one image: fp32 %.2f ms (%.1f GF/s), bf16 %.2f ms (%.1f GF/s), x%.2f\n", t32*1e3, flops/t32/1e9, t16*1e3, flops/t16/1e9, t32/t16);
}
