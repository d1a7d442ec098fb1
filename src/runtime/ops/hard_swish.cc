// HARD_SWISH, float32 and int8 (kernels/reference/hard_swish.h).
#include "runtime/kernels/reference/hard_swish.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct HardSwishData : OpData {
  bool int8 = false;
  int64_t n = 0;
  HardSwishParams p;
};

void Prepare(PrepareContext& ctx) {
  ops::Arity(ctx, 1, 1, 1);
  auto& d = ctx.MakeData<HardSwishData>();
  const int xi = ctx.input(0), yi = ctx.output(0);
  const Tensor& x = ctx.tensor(xi);
  ctx.SetOutputShape(0, x.shape);
  ops::SameType(ctx, xi, yi);
  d.n = x.elements;
  if (x.type == DType::kFloat32) return;
  if (x.type != DType::kInt8) ops::UnsupportedType(ctx, x.type);
  d.int8 = true;
  ops::PerTensorQ(ctx, xi, "input");
  ops::PerTensorQ(ctx, yi, "output");
  const Tensor& y = ctx.tensor(yi);
  ctx.Need(PrepareHardSwish(x.scales[0], int32_t(x.zero_points[0]), y.scales[0], int32_t(y.zero_points[0]), &d.p),
           "output scale too small for the input scale (input/128/output must be below 1)");
  ctx.SetKernel("int8");
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<HardSwishData>();
  if (d.int8)
    ref::HardSwishInt8(d.p, d.n, ctx.in<int8_t>(0), ctx.out<int8_t>(0));
  else
    ref::HardSwishFloat(d.n, ctx.in<float>(0), ctx.out<float>(0));
}

}  // namespace

OpRegistration Register_HARD_SWISH() { return {tflite::BuiltinOperator::HARD_SWISH, "HARD_SWISH", Prepare, Eval}; }

}  // namespace kws::rt
