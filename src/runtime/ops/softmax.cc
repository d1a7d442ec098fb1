// SOFTMAX over the last dimension, float32 and int8 (int8: desktop TFLite's
// table kernel, kernels/reference/softmax.h; output scale 1/256, zero point −128).
#include <cmath>

#include "runtime/kernels/reference/softmax.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct SoftmaxData : OpData {
  bool int8 = false;
  float beta = 1.0f;
  int rows = 1, cols = 1;
  SoftmaxInt8Params sm;
  std::vector<float> table;
};

void Prepare(PrepareContext& ctx) {
  ops::Arity(ctx, 1, 1, 1);
  auto& d = ctx.MakeData<SoftmaxData>();
  const auto* opt = ctx.op()->builtin_options_as_SoftmaxOptions();
  ctx.Need(opt != nullptr, "missing SoftmaxOptions");
  d.beta = opt->beta();
  ctx.Need(std::isfinite(d.beta) && d.beta > 0.0f, "beta must be positive");
  const int xi = ctx.input(0), yi = ctx.output(0);
  const Tensor& x = ctx.tensor(xi);
  ctx.Need(!x.shape.empty(), "input must have rank >= 1");
  ctx.SetOutputShape(0, x.shape);
  d.cols = x.shape.back();
  d.rows = int(x.elements / d.cols);
  ops::SameType(ctx, xi, yi);
  if (x.type == DType::kFloat32) return;
  if (x.type != DType::kInt8) ops::UnsupportedType(ctx, x.type);
  d.int8 = true;
  ops::PerTensorQ(ctx, xi, "input");
  ops::PerTensorQ(ctx, yi, "output");
  const Tensor& y = ctx.tensor(yi);
  ctx.Need(std::isfinite(x.scales[0] * d.beta), "input scale × beta overflows");
  ctx.Need(y.zero_points[0] == -128 && std::fabs(y.scales[0] - 1.0f / 256) <= 0.001f / 256,
           "int8 output must have scale 1/256 and zero point -128");
  PrepareSoftmaxFixedPoint(d.beta, x.scales[0], &d.sm);
  d.table.resize(256);
  PrepareSoftmaxTable(d.beta, x.scales[0], d.table.data());
  d.sm.table = d.table.data();
  d.sm.output_scale = y.scales[0];
  d.sm.output_zero_point = int32_t(y.zero_points[0]);
  ctx.SetKernel("int8");
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<SoftmaxData>();
  if (d.int8)
    ref::SoftmaxInt8Table(d.sm, d.rows, d.cols, ctx.in<int8_t>(0), ctx.out<int8_t>(0));
  else
    ref::SoftmaxFloat(d.beta, d.rows, d.cols, ctx.in<float>(0), ctx.out<float>(0));
}

}  // namespace

OpRegistration Register_SOFTMAX() { return {tflite::BuiltinOperator::SOFTMAX, "SOFTMAX", Prepare, Eval}; }

}  // namespace kws::rt
