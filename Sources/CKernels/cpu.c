#include "ckernels.h"

#include <stdlib.h>
#include <string.h>

// Whether the AVX2 + FMA kernels may run: the CPU has them (CPUID bits and OS
// support for the YMM registers), and ANOMALYKIT_KERNELS is not "portable".
// The environment override exists so that tests and benchmarks can run the
// portable path (OpenBLAS GEMM, SSE2/NEON depthwise) on the same machine.
// Decided once per process, so results never depend on call order.
static int decide(void) {
  const char *choice = getenv("ANOMALYKIT_KERNELS");
  if (choice != NULL && strcmp(choice, "portable") == 0) return 0;
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
