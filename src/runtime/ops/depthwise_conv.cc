// DEPTHWISE_CONV_2D: float32, int8 and hybrid; depth multiplier, stride,
// dilation, SAME/VALID. Kernels: reference (kernels/reference/depthwise_conv.h),
// optimized float and int8 (channel-innermost loops, kernels/optimized).
#include <algorithm>

#include "runtime/kernels/optimized/optimized.h"
#include "runtime/kernels/reference/depthwise_conv.h"
#include "runtime/kernels/reference/quantize.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

enum class Kind { kFloat, kInt8, kHybrid };

struct DepthwiseData : OpData {
  Kind kind = Kind::kFloat;
  ConvGeometry g;
  Shape4 is, fs, os;
  FloatAct fact;
  ops::Requant rq;
  bool uint8_weights = false;
  std::vector<float> wscale;  // hybrid
  int64_t per_batch = 0;
  int s_qx = -1, s_scale = -1, s_zp = -1;
};

void Prepare(PrepareContext& ctx) {
  auto& d = ctx.MakeData<DepthwiseData>();
  ops::ConvOperands(ctx, &d.is, &d.fs);
  const int xi = ctx.input(0), wi = ctx.input(1), bi = ctx.input(2), yi = ctx.output(0);
  const auto* opt = ctx.op()->builtin_options_as_DepthwiseConv2DOptions();
  ctx.Need(opt != nullptr, "missing DepthwiseConv2DOptions");
  ctx.Need(d.fs.n == 1, "depthwise filter must have shape [1,KH,KW,C], got " + ShapeStr(ctx.tensor(wi).shape));
  const int cout = d.fs.c;
  ctx.Need(d.is.c > 0 && cout > 0, "empty input or filter");
  ctx.Need(cout % d.is.c == 0, "filter channels " + std::to_string(cout) + " not a multiple of input channels " +
                                   std::to_string(d.is.c));
  d.g.depth_multiplier = cout / d.is.c;
  const Activation act = ops::ToActivation(ctx, opt->fused_activation_function());
  int oh = 0, ow = 0;
  ops::Geometry(ctx, opt->padding(), opt->stride_h(), opt->stride_w(), opt->dilation_h_factor(),
                opt->dilation_w_factor(), d.fs.h, d.fs.w, d.is, &d.g, &oh, &ow);
  ctx.AddMacs(int64_t(d.is.n) * oh * ow * cout * d.fs.h * d.fs.w);
  d.os = Shape4{d.is.n, oh, ow, cout};
  ctx.SetOutputShape(0, {d.is.n, oh, ow, cout});
  const DType xt = ctx.tensor(xi).type, wt = ctx.tensor(wi).type, yt = ctx.tensor(yi).type;
  if (xt == DType::kFloat32 && wt == DType::kFloat32 && yt == DType::kFloat32) {
    d.kind = Kind::kFloat;
    ops::BiasCheck(ctx, bi, cout, DType::kFloat32);
    ActivationRangeFloat(act, &d.fact.min, &d.fact.max);
  } else if (xt == DType::kInt8 && wt == DType::kInt8 && yt == DType::kInt8) {
    d.kind = Kind::kInt8;
    ops::PerTensorQ(ctx, xi, "input");
    ops::PerTensorQ(ctx, yi, "output");
    ops::BiasCheck(ctx, bi, cout, DType::kInt32);
    ops::AccumulatorFits(ctx, int64_t(d.fs.h) * d.fs.w, bi);
    const auto ws = ops::WeightScales(ctx, wi, cout, 3, &d.rq.q, &d.uint8_weights);
    ops::PrepareRequant(ctx, xi, ws, yi, /*float_product=*/false, act, &d.rq);
    ctx.SetKernel("int8");
  } else if (xt == DType::kFloat32 && wt == DType::kInt8 && yt == DType::kFloat32) {
    d.kind = Kind::kHybrid;
    ctx.Need(!ctx.tensor(wi).uint8, "uint8 weights with float activations are not supported");
    ops::BiasCheck(ctx, bi, cout, DType::kFloat32);
    ops::AccumulatorFits(ctx, int64_t(d.fs.h) * d.fs.w, -1);
    d.wscale = ops::WeightScales(ctx, wi, cout, 3, &d.rq.q, &d.uint8_weights);
    ActivationRangeFloat(act, &d.fact.min, &d.fact.max);
    d.per_batch = int64_t(d.is.h) * d.is.w * d.is.c;
    // TFLite quantizes a depthwise hybrid's input asymmetrically per batch item.
    d.s_qx = ctx.AddScratch(size_t(ctx.tensor(xi).elements));
    d.s_scale = ctx.AddScratch(sizeof(float) * size_t(d.is.n));
    d.s_zp = ctx.AddScratch(sizeof(int32_t) * size_t(d.is.n));
    ctx.SetKernel("hybrid");
  } else {
    ctx.Fail(std::string("unsupported type combination input ") + DTypeName(xt) + ", filter " + DTypeName(wt) +
             ", output " + DTypeName(yt));
  }
  ctx.CountWeights(wi);
  ctx.CountWeights(bi);
}

void EvalHybrid(EvalContext& ctx, const DepthwiseData& d) {
  const float* x = ctx.in<float>(0);
  int8_t* qx = ctx.scratch<int8_t>(d.s_qx);
  float* sc = ctx.scratch<float>(d.s_scale);
  int32_t* zp = ctx.scratch<int32_t>(d.s_zp);
  for (int i = 0; i < d.is.n; ++i)
    ref::AsymmetricQuantize(d.per_batch, x + i * d.per_batch, qx + i * d.per_batch, &sc[i], &zp[i]);
  ref::DepthwiseHybrid(d.g, d.fact, d.is, qx, sc, zp, d.fs, ctx.in<int8_t>(1), d.wscale.data(),
                       ctx.num_inputs() > 2 ? ctx.in<float>(2) : nullptr, d.os, ctx.out<float>(0));
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<DepthwiseData>();
  const bool fast = ctx.optimized() && !d.uint8_weights;
  switch (d.kind) {
    case Kind::kFloat: {
      const float* b = ctx.num_inputs() > 2 ? ctx.in<float>(2) : nullptr;
      if (fast)
        opt::DepthwiseFloat(d.g, d.fact, d.is, ctx.in<float>(0), d.fs, ctx.in<float>(1), b, d.os, ctx.out<float>(0));
      else
        ref::DepthwiseFloat(d.g, d.fact, d.is, ctx.in<float>(0), d.fs, ctx.in<float>(1), b, d.os, ctx.out<float>(0));
      break;
    }
    case Kind::kInt8: {
      const QuantParams& q = ctx.xnnpack() && !d.uint8_weights ? d.rq.q_xnn : d.rq.q;
      const int32_t* b = ctx.num_inputs() > 2 ? ctx.in<int32_t>(2) : nullptr;
      if (fast)
        opt::DepthwiseInt8(d.g, q, d.rq.mult.data(), d.rq.shift.data(), d.is, ctx.in<int8_t>(0), d.fs,
                           ctx.in<int8_t>(1), b, d.os, ctx.out<int8_t>(0));
      else
        ref::DepthwiseInt8(d.g, q, d.rq.mult.data(), d.rq.shift.data(), d.is, ctx.in<int8_t>(0), d.fs,
                           ctx.in<int8_t>(1), b, d.os, ctx.out<int8_t>(0));
      break;
    }
    case Kind::kHybrid: EvalHybrid(ctx, d); break;
  }
}

}  // namespace

OpRegistration Register_DEPTHWISE_CONV_2D() {
  return {tflite::BuiltinOperator::DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D", Prepare, Eval};
}

}  // namespace kws::rt
