#include "ckernels.h"

#include <stdlib.h>
#include <string.h>

// Whether ANOMALYKIT_KERNELS is set to `value`. The override exists so that
// tests and benchmarks can run a slower path on the same machine:
// "portable" turns every vector kernel off, "avx2" the AVX-512 ones.
static int kernels_choice_is(const char *value) {
  const char *choice = getenv("ANOMALYKIT_KERNELS");
  return choice != NULL && strcmp(choice, value) == 0;
}

// Whether the AVX2 + FMA kernels may run: the CPU has them (CPUID bits and OS
// support for the YMM registers), and ANOMALYKIT_KERNELS is not "portable"
// (then OpenBLAS GEMM and SSE2/NEON depthwise run instead).
// Decided once per process, so results never depend on call order.
static int decide(void) {
  if (kernels_choice_is("portable")) return 0;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

int ak_cpu_has_avx2_fma(void) {
  static int cached = -1;
  if (cached < 0) cached = decide();
  return cached;
}

// Whether the AVX-512 FP32 kernels may run: the CPU has AVX-512 F, BW and DQ,
// and ANOMALYKIT_KERNELS is not "portable" or "avx2".
static int decide_avx512f(void) {
  if (kernels_choice_is("portable") || kernels_choice_is("avx2")) return 0;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
         ak_cpu_has_avx2_fma();
#else
  return 0;
#endif
}

int ak_cpu_has_avx512f(void) {
  static int cached = -1;
  if (cached < 0) cached = decide_avx512f();
  return cached;
}

// Whether the AVX-512 BF16 kernels may run: the CPU has AVX-512 F, BW and
// BF16 (vdpbf16ps), and ANOMALYKIT_KERNELS is not "portable" or "avx2".
static int decide_avx512_bf16(void) {
  if (kernels_choice_is("portable") || kernels_choice_is("avx2")) return 0;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16");
#else
  return 0;
#endif
}

int ak_cpu_has_avx512_bf16(void) {
  static int cached = -1;
  if (cached < 0) cached = decide_avx512_bf16();
  return cached;
}

// Whether the AVX-512 VNNI kernels may run: the CPU has AVX-512 F, BW, DQ, VL and
// VNNI (vpdpbusd), and ANOMALYKIT_KERNELS is not "portable" or "avx2".
static int decide_avx512_vnni(void) {
  if (kernels_choice_is("portable") || kernels_choice_is("avx2")) return 0;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") && ak_cpu_has_avx2_fma();
#else
  return 0;
#endif
}

int ak_cpu_has_avx512_vnni(void) {
  static int cached = -1;
  if (cached < 0) cached = decide_avx512_vnni();
  return cached;
}
