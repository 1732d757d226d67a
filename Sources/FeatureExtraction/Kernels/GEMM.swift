import CBLAS

/// `C[M×N] = A[M×K] · B[K×N] (+ β·C)`, row-major, through OpenBLAS `sgemm`.
@inline(__always)
func gemm(
  m: Int, n: Int, k: Int,
  a: UnsafePointer<Float>, lda: Int,
  b: UnsafePointer<Float>, ldb: Int,
  c: UnsafeMutablePointer<Float>, ldc: Int,
  beta: Float = 0
) {
  cblas_sgemm(
    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c,
    Int32(ldc))
}

/// `C[M×N] = A[M×K] · Bᵀ` where B is stored N×K (rows are output units).
@inline(__always)
func gemmTransposedB(
  m: Int, n: Int, k: Int,
  a: UnsafePointer<Float>, lda: Int,
  b: UnsafePointer<Float>, ldb: Int,
  c: UnsafeMutablePointer<Float>, ldc: Int,
  beta: Float = 0
) {
  cblas_sgemm(
    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c,
    Int32(ldc))
}
