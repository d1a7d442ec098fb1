// BATCH_MATMUL, float32, with adj_x / adj_y and broadcast batch dimensions
// (rank 2–5). Kernels: reference (kernels/reference/batch_matmul.h), optimized
// (one Eigen GEMM per batch item).
#include <algorithm>

#include "runtime/kernels/optimized/optimized.h"
#include "runtime/kernels/reference/batch_matmul.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct BatchMatMulData : OpData {
  ref::BatchMatMulParams p;
};

void Prepare(PrepareContext& ctx) {
  ops::Arity(ctx, 2, 2, 1);
  auto& d = ctx.MakeData<BatchMatMulData>();
  const auto* opt = ctx.op()->builtin_options_as_BatchMatMulOptions();
  d.p.adj_x = opt && opt->adj_x();
  d.p.adj_y = opt && opt->adj_y();
  const Tensor &a = ctx.in(0), &b = ctx.in(1);
  ctx.Need(a.type == DType::kFloat32 && b.type == DType::kFloat32 && ctx.out(0).type == DType::kFloat32,
           "only float32 is supported");
  const int ra = int(a.shape.size()), rb = int(b.shape.size());
  ctx.Need(ra >= 2 && rb >= 2 && ra <= 5 && rb <= 5, "inputs " + ShapeStr(a.shape) + " and " + ShapeStr(b.shape) +
                                                          " (ranks 2–5 supported)");
  const int am = a.shape[size_t(ra - 2)], ak = a.shape[size_t(ra - 1)];
  const int bk = b.shape[size_t(rb - 2)], bn = b.shape[size_t(rb - 1)];
  d.p.m = d.p.adj_x ? ak : am;
  d.p.k = d.p.adj_x ? am : ak;
  const int k2 = d.p.adj_y ? bn : bk;
  d.p.n = d.p.adj_y ? bk : bn;
  ctx.Need(d.p.k == k2, "inner dimensions differ: " + ShapeStr(a.shape) + " · " + ShapeStr(b.shape));
  // Batch dims, right-aligned to 3, broadcasting.
  const int rbatch = std::max(ra, rb) - 2;
  int da[3] = {1, 1, 1}, db[3] = {1, 1, 1};
  for (int i = 0; i < ra - 2; ++i) da[3 - (ra - 2) + i] = a.shape[size_t(i)];
  for (int i = 0; i < rb - 2; ++i) db[3 - (rb - 2) + i] = b.shape[size_t(i)];
  int64_t sa = int64_t(am) * ak, sb = int64_t(bk) * bn;
  std::vector<int> shape;
  for (int i = 2; i >= 0; --i) {
    ctx.Need(da[i] == db[i] || da[i] == 1 || db[i] == 1, "batch dimensions of " + ShapeStr(a.shape) + " and " +
                                                             ShapeStr(b.shape) + " do not broadcast");
    d.p.batch[i] = std::max(da[i], db[i]);
    d.p.lhs_stride[i] = da[i] == 1 ? 0 : sa;
    d.p.rhs_stride[i] = db[i] == 1 ? 0 : sb;
    sa *= da[i];
    sb *= db[i];
  }
  for (int i = 3 - rbatch; i < 3; ++i) shape.push_back(d.p.batch[i]);
  shape.push_back(d.p.m);
  shape.push_back(d.p.n);
  ctx.SetOutputShape(0, shape);
  ctx.AddMacs(int64_t(d.p.batch[0]) * d.p.batch[1] * d.p.batch[2] * d.p.m * d.p.n * d.p.k);
  if (b.is_const) ctx.CountWeights(ctx.input(1));
}

void Eval(EvalContext& ctx) {
  const auto& p = ctx.data<BatchMatMulData>().p;
  const float* lhs = ctx.in<float>(0);
  const float* rhs = ctx.in<float>(1);
  float* out = ctx.out<float>(0);
  if (!ctx.optimized()) {
    ref::BatchMatMulFloat(p, lhs, rhs, out);
    return;
  }
  opt::BatchMatMulFloat(p, lhs, rhs, out);
}

}  // namespace

OpRegistration Register_BATCH_MATMUL() {
  return {tflite::BuiltinOperator::BATCH_MATMUL, "BATCH_MATMUL", Prepare, Eval};
}

}  // namespace kws::rt
