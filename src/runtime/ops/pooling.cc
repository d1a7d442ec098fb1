// AVERAGE_POOL_2D and MAX_POOL_2D, float32 and int8 (kernels/reference/pooling.h).
#include "runtime/kernels/reference/pooling.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct PoolData : OpData {
  bool avg = false, int8 = false;
  ConvGeometry g;
  Shape4 is, os;
  int fh = 1, fw = 1;
  FloatAct fact;
  int32_t act_min = -128, act_max = 127;
  int32_t offset = 0;  // 128 for uint8 models run shifted into int8 (average pooling rounds the unsigned values)
};

void Prepare(PrepareContext& ctx, bool avg) {
  ops::Arity(ctx, 1, 1, 1);
  auto& d = ctx.MakeData<PoolData>();
  d.avg = avg;
  const auto* opt = ctx.op()->builtin_options_as_Pool2DOptions();
  ctx.Need(opt != nullptr, "missing Pool2DOptions");
  const int xi = ctx.input(0), yi = ctx.output(0);
  ops::Rank(ctx, xi, 4, "input");
  d.is = ops::To4(ctx.tensor(xi).shape);
  ctx.Need(opt->filter_height() >= 1 && opt->filter_width() >= 1 && opt->filter_height() <= 65536 &&
               opt->filter_width() <= 65536,
           "pool window must be >= 1");
  d.fh = opt->filter_height();
  d.fw = opt->filter_width();
  int oh = 0, ow = 0;
  ops::Geometry(ctx, opt->padding(), opt->stride_h(), opt->stride_w(), 1, 1, d.fh, d.fw, d.is, &d.g, &oh, &ow);
  d.os = Shape4{d.is.n, oh, ow, d.is.c};
  ctx.SetOutputShape(0, {d.is.n, oh, ow, d.is.c});
  const Activation act = ops::ToActivation(ctx, opt->fused_activation_function());
  ops::SameType(ctx, xi, yi);
  const Tensor& x = ctx.tensor(xi);
  if (x.type == DType::kFloat32) {
    ActivationRangeFloat(act, &d.fact.min, &d.fact.max);
  } else if (x.type == DType::kInt8) {
    d.int8 = true;
    ctx.Need(int64_t(std::min(d.fh, d.is.h)) * std::min(d.fw, d.is.w) < (int64_t(1) << 23), "pool window too large");
    ops::PerTensorQ(ctx, xi, "input");
    ops::PerTensorQ(ctx, yi, "output");
    ops::SameQ(ctx, xi, yi);
    const Tensor& y = ctx.tensor(yi);
    ActivationRangeInt8(act, y.scales[0], int32_t(y.zero_points[0]), &d.act_min, &d.act_max);
    d.offset = x.uint8 ? 128 : 0;
    ctx.SetKernel("int8");
  } else {
    ops::UnsupportedType(ctx, x.type);
  }
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<PoolData>();
  if (d.int8) {
    if (d.avg)
      ref::AveragePoolInt8(d.g, d.act_min, d.act_max, d.fh, d.fw, d.is, ctx.in<int8_t>(0), d.os, ctx.out<int8_t>(0),
                           d.offset);
    else
      ref::MaxPoolInt8(d.g, d.act_min, d.act_max, d.fh, d.fw, d.is, ctx.in<int8_t>(0), d.os, ctx.out<int8_t>(0));
  } else {
    if (d.avg)
      ref::AveragePoolFloat(d.g, d.fact, d.fh, d.fw, d.is, ctx.in<float>(0), d.os, ctx.out<float>(0));
    else
      ref::MaxPoolFloat(d.g, d.fact, d.fh, d.fw, d.is, ctx.in<float>(0), d.os, ctx.out<float>(0));
  }
}

void PrepareAvg(PrepareContext& ctx) { Prepare(ctx, true); }
void PrepareMax(PrepareContext& ctx) { Prepare(ctx, false); }

}  // namespace

OpRegistration Register_AVERAGE_POOL_2D() {
  return {tflite::BuiltinOperator::AVERAGE_POOL_2D, "AVERAGE_POOL_2D", PrepareAvg, Eval};
}
OpRegistration Register_MAX_POOL_2D() {
  return {tflite::BuiltinOperator::MAX_POOL_2D, "MAX_POOL_2D", PrepareMax, Eval};
}

}  // namespace kws::rt
