// Small row-major GEMM kernels for the conv layers (K = KH*KW*IC up to a few
// hundred, N = a channel count). Own kernels rather than Eigen's GEMM: Eigen
// parallelises big products with its own OpenMP team, which fights the
// batch-level ParallelFor and stalls on a loaded machine.
//
// gemm_*_ref are the plain-loop specification; the fast versions use an
// AVX-512F kernel when N is a multiple of 16, an AVX2+FMA kernel when N is a
// multiple of 8 (both chosen at run time through util/cpu.h, so the
// binary still runs on any x86-64; other CPUs such as ARM64 build only the
// portable loops), and portable loops otherwise. FMA rounds differently from mul+add, so results are
// bit-identical run to run on one machine, not across CPU families.
#pragma once

namespace kws {

// C[M,N] = A[M,K] * B[K,N]
void gemm_nn(float* C, const float* A, const float* B, int M, int K, int N);
void gemm_nn_ref(float* C, const float* A, const float* B, int M, int K, int N);
// C[K,N] += A[M,K]^T * D[M,N]
void gemm_tn_acc(float* C, const float* A, const float* D, int M, int K, int N);
void gemm_tn_acc_ref(float* C, const float* A, const float* D, int M, int K, int N);

// The A operand of a convolution read straight from a zero-padded input (an
// "implicit im2col"): row m is output pixel (oy, ox) = (m / ow, m % ow), column
// k = ky*seg_len + j (j < seg_len = KW*IC):
//   A[m][k] = base[oy*line_stride + ox*pix_stride + ky*seg_stride + j]
// with line_stride = SH*PW*IC, pix_stride = SW*IC, seg_stride = PW*IC for a
// padded input of width PW. K = nseg*seg_len.
struct ConvA {
  const float* base = nullptr;
  int ow = 1;
  long line_stride = 0;
  int pix_stride = 0;
  int nseg = 1;
  int seg_len = 1;
  long seg_stride = 0;
};
// True when conv_gemm_* have a fast kernel for N output columns (AVX2 and N a multiple of 8).
bool ConvGemmSupported(int n);
// C[M,N] = A * B[K,N]
void conv_gemm_nn(float* C, const ConvA& a, const float* B, int M, int N);
// C[K,N] += A^T * D[M,N]
void conv_gemm_tn_acc(float* C, const ConvA& a, const float* D, int M, int N);

// True when the AVX2+FMA kernels are in use on this CPU.
bool GemmUsesAvx2();
// For tests/benchmarks: force the portable kernels (false) or allow AVX2 (true, the default).
void GemmAllowAvx2(bool allow);
// True when the AVX-512F kernels are in use (CPU has AVX-512F, AVX2 allowed, AVX-512 allowed);
// they take N % 16 == 0 (N = 16: one zmm register per output row), the AVX2 ones the other N % 8 == 0.
bool GemmUsesAvx512();
// For tests/benchmarks: false forces the AVX2 kernels on AVX-512 machines (default true).
void GemmAllowAvx512(bool allow);

}  // namespace kws
