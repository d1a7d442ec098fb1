// MEAN (float32, int8) and REDUCE_MAX (float32, int8) over constant axes of a
// tensor of rank 1–4 (kernels/reference/mean.h); keep_dims.
#include <cmath>

#include "runtime/kernels/reference/mean.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct ReduceData : OpData {
  bool int8 = false;
  int dims[4] = {1, 1, 1, 1};
  bool reduce[4] = {false, false, false, false};
  MeanInt8Params mean, mean_xnn;
  int s_acc = -1;
};

// Axes → reduce[], dims[] (right-aligned to rank 4) and the output shape.
ReduceData& PrepareAxes(PrepareContext& ctx, const char* op) {
  ops::Arity(ctx, 2, 2, 1);
  auto& d = ctx.MakeData<ReduceData>();
  const auto* opt = ctx.op()->builtin_options_as_ReducerOptions();
  const bool keep = opt ? opt->keep_dims() : false;
  const int xi = ctx.input(0), ai = ctx.input(1);
  const Tensor& x = ctx.tensor(xi);
  const int r = int(x.shape.size());
  ctx.Need(r >= 1 && r <= 4, "input rank " + std::to_string(r) + " (" + op + " supports 1–4)");
  ctx.Need(ctx.tensor(ai).shape.size() <= 1, "axis must be a constant int32 vector");
  for (int32_t a : ops::Int32Values(ctx, ai, "axis")) {
    ctx.Need(a >= -r && a < r, "axis " + std::to_string(a) + " out of range for rank " + std::to_string(r));
    d.reduce[4 - r + (a < 0 ? a + r : a)] = true;
  }
  for (int k = 0; k < 4; ++k) d.dims[k] = k < 4 - r ? 1 : x.shape[size_t(k - (4 - r))];
  std::vector<int> shape;
  for (int k = 0; k < r; ++k) {
    if (!d.reduce[4 - r + k]) shape.push_back(x.shape[size_t(k)]);
    else if (keep) shape.push_back(1);
  }
  ctx.SetOutputShape(0, shape);
  ops::SameType(ctx, xi, ctx.output(0));
  return d;
}

void PrepareMean(PrepareContext& ctx) {
  auto& d = PrepareAxes(ctx, "MEAN");
  const int xi = ctx.input(0), yi = ctx.output(0);
  const Tensor &x = ctx.tensor(xi), &y = ctx.tensor(yi);
  if (x.type == DType::kFloat32) return;
  if (x.type != DType::kInt8) ops::UnsupportedType(ctx, x.type);
  d.int8 = true;
  ctx.Need(ref::ReducedCount(d.dims, d.reduce) < (int64_t(1) << 23), "too many elements reduced for int8");
  ops::PerTensorQ(ctx, xi, "input");
  ops::PerTensorQ(ctx, yi, "output");
  const float si = x.scales[0], so = y.scales[0];
  d.mean.input_zero_point = int32_t(x.zero_points[0]);
  d.mean.output_zero_point = int32_t(y.zero_points[0]);
  QuantizeMultiplier(double(si) / double(so), &d.mean.multiplier, &d.mean.shift);
  d.mean.xnn_scale = si / so / float(ref::ReducedCount(d.dims, d.reduce));
  ctx.Need(std::isfinite(d.mean.xnn_scale) && si / so < 65536.0f, "input/output scale ratio out of range");
  d.mean.mode = MeanInt8Mode::kReference;
  d.mean_xnn = d.mean;
  d.mean_xnn.mode = MeanInt8Mode::kXnnpack;
  d.s_acc = ctx.AddScratch(sizeof(int32_t) * size_t(y.elements));
  ctx.SetKernel("int8");
}

void EvalMean(EvalContext& ctx) {
  auto& d = ctx.data<ReduceData>();
  if (d.int8)
    ref::MeanInt8(ctx.xnnpack() ? d.mean_xnn : d.mean, d.dims, d.reduce, ctx.in<int8_t>(0),
                  ctx.scratch<int32_t>(d.s_acc), ctx.out<int8_t>(0));
  else
    ref::MeanFloat(d.dims, d.reduce, ctx.in<float>(0), ctx.out<float>(0));
}

void PrepareMax(PrepareContext& ctx) {
  auto& d = PrepareAxes(ctx, "REDUCE_MAX");
  const int xi = ctx.input(0), yi = ctx.output(0);
  const Tensor& x = ctx.tensor(xi);
  if (x.type == DType::kFloat32) return;
  if (x.type != DType::kInt8) ops::UnsupportedType(ctx, x.type);
  d.int8 = true;  // the largest int8 value is the largest real value: no rescaling
  ops::PerTensorQ(ctx, xi, "input");
  ops::PerTensorQ(ctx, yi, "output");
  ops::SameQ(ctx, xi, yi);
  ctx.SetKernel("int8");
}

void EvalMax(EvalContext& ctx) {
  auto& d = ctx.data<ReduceData>();
  if (d.int8)
    ref::ReduceMax(d.dims, d.reduce, ctx.in<int8_t>(0), ctx.out<int8_t>(0));
  else
    ref::ReduceMax(d.dims, d.reduce, ctx.in<float>(0), ctx.out<float>(0));
}

}  // namespace

OpRegistration Register_MEAN() { return {tflite::BuiltinOperator::MEAN, "MEAN", PrepareMean, EvalMean}; }
OpRegistration Register_REDUCE_MAX() {
  return {tflite::BuiltinOperator::REDUCE_MAX, "REDUCE_MAX", PrepareMax, EvalMax};
}

}  // namespace kws::rt
