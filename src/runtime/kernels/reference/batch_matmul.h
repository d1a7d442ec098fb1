// BATCH_MATMUL, float32: out[b] = op(lhs[b]) · op(rhs[b]) with op = transpose
// when adj_x / adj_y; the batch dimensions (up to 3) broadcast (TFLite
// kernels/internal/reference/batch_matmul.h; float accumulation in k order).
#pragma once
#include <cstdint>

namespace kws::rt::ref {

struct BatchMatMulParams {
  int batch[3] = {1, 1, 1};                  // output batch dims (left-padded)
  int64_t lhs_stride[3] = {0, 0, 0};         // element strides per batch dim; 0 where broadcast
  int64_t rhs_stride[3] = {0, 0, 0};
  int m = 1, k = 1, n = 1;                   // out [m, n] = lhs [m, k] · rhs [k, n] (after adj)
  bool adj_x = false, adj_y = false;
};

// Calls f(lhs_offset, rhs_offset, out_offset) for every batch item.
template <typename F>
inline void ForEachBatch(const BatchMatMulParams& p, F&& f) {
  int64_t o = 0;
  for (int b0 = 0; b0 < p.batch[0]; ++b0)
    for (int b1 = 0; b1 < p.batch[1]; ++b1)
      for (int b2 = 0; b2 < p.batch[2]; ++b2, o += int64_t(p.m) * p.n)
        f(b0 * p.lhs_stride[0] + b1 * p.lhs_stride[1] + b2 * p.lhs_stride[2],
          b0 * p.rhs_stride[0] + b1 * p.rhs_stride[1] + b2 * p.rhs_stride[2], o);
}

inline void BatchMatMulFloat(const BatchMatMulParams& p, const float* lhs, const float* rhs, float* out) {
  ForEachBatch(p, [&](int64_t lo, int64_t ro, int64_t oo) {
    const float* l = lhs + lo;
    const float* r = rhs + ro;
    float* y = out + oo;
    for (int i = 0; i < p.m; ++i)
      for (int j = 0; j < p.n; ++j) {
        float acc = 0.0f;
        for (int t = 0; t < p.k; ++t) {
          const float a = p.adj_x ? l[int64_t(t) * p.m + i] : l[int64_t(i) * p.k + t];
          const float b = p.adj_y ? r[int64_t(j) * p.k + t] : r[int64_t(t) * p.n + j];
          acc += a * b;
        }
        y[int64_t(i) * p.n + j] = acc;
      }
  });
}

}  // namespace kws::rt::ref
