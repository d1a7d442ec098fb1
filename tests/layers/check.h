// Finite-difference gradient check for a kws::Layer, shared by the layer tests.
//
// Why float central differences (and not a double instantiation of every
// kernel): the check then exercises the exact code the trainer runs (GEMM
// paths, scratch reuse, chunked reductions). The scalar probed is
// L(x) = sum(out(x) * R) with a fixed random R, so dL/dout = R. L is summed in
// double from the float outputs. Error budget for one central difference with
// step h = 1e-2:
//   * truncation: (h^2/6) L''' — exactly 0 for the layers that are linear in
//     the probed value (conv, dense, pools, GAP, relu away from 0), ~1e-5 for BN;
//   * rounding: each output carries ~6e-8 relative error; outputs the probe
//     does not touch are recomputed bit-identically and cancel, so the
//     difference quotient is off by ~6e-8 * |out| * sqrt(touched) / (2h) ~ 1e-5.
// A wrong index, a missing factor or a dropped term gives O(1) relative
// error, so we demand |num - ana| <= 2e-3 * max(1e-1, max|ana|) per element
// and a relative L2 error below 1e-3 over the tensor.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "layers/layer.h"
#include "util/parallel.h"
#include "util/rng.h"

namespace kws::test {

inline std::vector<float> RandomVec(size_t n, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  for (auto& x : v) x = float(rng.Uniform(lo, hi));
  return v;
}

// Compares analytic vs numeric gradients; `perturb(i, delta)` changes the i-th
// probed value, `loss()` recomputes L.
inline void CompareGrad(const std::string& what, const std::vector<float>& ana, size_t n,
                        const std::function<void(size_t, float)>& perturb, const std::function<double()>& loss,
                        float h = 1e-2f, size_t max_probes = 200) {
  double max_ana = 0.0;
  for (size_t i = 0; i < n; ++i) max_ana = std::max(max_ana, double(std::fabs(ana[i])));
  const double tol = 2e-3 * std::max(1e-1, max_ana);
  const size_t stride = n > max_probes ? (n + max_probes - 1) / max_probes : 1;
  double err2 = 0.0, ref2 = 0.0, max_diff = 0.0;
  for (size_t i = 0; i < n; i += stride) {
    perturb(i, h);
    double lp = loss();
    perturb(i, -2 * h);
    double lm = loss();
    perturb(i, h);
    double num = (lp - lm) / (2.0 * h);
    double d = std::fabs(num - ana[i]);
    max_diff = std::max(max_diff, d);
    err2 += d * d;
    ref2 += num * num;
    EXPECT_LE(d, tol) << what << "[" << i << "]: numeric " << num << " analytic " << ana[i];
  }
  double rel = std::sqrt(err2) / std::max(std::sqrt(ref2), 1e-12);
  EXPECT_LT(rel, 1e-3) << what << ": relative L2 error " << rel;
  std::printf("  %-28s n=%-6zu max|d|=%.2e  relL2=%.2e\n", what.c_str(), n, max_diff, rel);
}

// Builds `l` for `in_shape`, draws an input (with `make_input`), and checks
// din and every Param's grad.
inline void GradCheck(Layer& l, Shape in_shape, int batch, bool training, uint64_t seed,
                      std::function<std::vector<float>(size_t, Rng&)> make_input = nullptr, float h = 1e-2f) {
  // Hundreds of tiny forwards: one thread (thread-pool fork/join on a loaded machine costs more than
  // the work). The multi-threaded paths are held to the reference kernels in layers_test.cc.
  SetNumThreads(1);
  struct Restore { ~Restore() { SetNumThreads(0); } } restore;
  Rng rng(seed);
  l.Build(in_shape, rng);
  Shape os = l.OutputShape(in_shape);
  const size_t in_n = size_t(batch) * in_shape.size(), out_n = size_t(batch) * os.size();
  std::vector<float> x = make_input ? make_input(in_n, rng) : RandomVec(in_n, rng);
  // Non-trivial parameters (BN gamma=1/beta=0, zero biases would hide bugs).
  for (Param* p : l.Params())
    for (auto& v : p->value) v += float(rng.Uniform(-0.5, 0.5));
  std::vector<float> R = RandomVec(out_n, rng), out(out_n), din(in_n);
  auto loss = [&]() {
    l.SetSeed(1234);
    l.Forward(x.data(), out.data(), batch, training);
    double s = 0.0;
    for (size_t i = 0; i < out_n; ++i) s += double(out[i]) * R[i];
    return s;
  };
  loss();
  for (Param* p : l.Params()) std::fill(p->grad.begin(), p->grad.end(), 0.0f);
  l.Backward(x.data(), out.data(), R.data(), din.data(), batch);
  CompareGrad(l.type() + " din", din, in_n, [&](size_t i, float d) { x[i] += d; }, loss, h);
  for (Param* p : l.Params()) {
    std::vector<float> g = p->grad;
    CompareGrad(l.type() + " " + p->name, g, p->value.size(), [&](size_t i, float d) { p->value[i] += d; }, loss, h);
  }
}

}  // namespace kws::test
