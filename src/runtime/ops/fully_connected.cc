// FULLY_CONNECTED: float32 (constant or computed weights), int8 and hybrid;
// keep_num_dims. Kernels: reference (kernels/reference/fully_connected.h),
// optimized float (Eigen GEMM).
#include <algorithm>

#include "runtime/kernels/optimized/optimized.h"
#include "runtime/kernels/reference/fully_connected.h"
#include "runtime/kernels/reference/quantize.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

enum class Kind { kFloat, kInt8, kHybrid };

struct FcData : OpData {
  Kind kind = Kind::kFloat;
  int batches = 1, depth = 1, units = 1;
  FloatAct fact;
  ops::Requant rq;
  bool uint8_weights = false;
  std::vector<float> wscale;
  bool asymmetric = false;
  int s_qx = -1, s_scale = -1, s_zp = -1;
};

void PrepareHybrid(PrepareContext& ctx, FcData& d, const tflite::FullyConnectedOptions* opt, Activation act) {
  d.kind = Kind::kHybrid;
  const int xi = ctx.input(0), wi = ctx.input(1);
  ops::Constant(ctx, wi, "weights");
  ctx.Need(!ctx.tensor(wi).uint8, "uint8 weights with float activations are not supported");
  ops::BiasCheck(ctx, ctx.input(2), d.units, DType::kFloat32);
  ops::AccumulatorFits(ctx, d.depth, -1);
  d.wscale = ops::WeightScales(ctx, wi, d.units, 0, &d.rq.q, &d.uint8_weights);
  d.asymmetric = opt->asymmetric_quantize_inputs();
  ActivationRangeFloat(act, &d.fact.min, &d.fact.max);
  d.s_qx = ctx.AddScratch(size_t(ctx.tensor(xi).elements));
  d.s_scale = ctx.AddScratch(sizeof(float) * size_t(d.batches));
  d.s_zp = ctx.AddScratch(sizeof(int32_t) * size_t(d.batches));
  ctx.SetKernel("hybrid");
}

void Prepare(PrepareContext& ctx) {
  ops::Arity(ctx, 2, 3, 1);
  auto& d = ctx.MakeData<FcData>();
  const auto* opt = ctx.op()->builtin_options_as_FullyConnectedOptions();
  ctx.Need(opt != nullptr, "missing FullyConnectedOptions");
  ctx.Need(opt->weights_format() == tflite::FullyConnectedOptionsWeightsFormat::DEFAULT,
           "shuffled weights format not supported");
  const int xi = ctx.input(0), wi = ctx.input(1), bi = ctx.input(2), yi = ctx.output(0);
  const Tensor &x = ctx.tensor(xi), &w = ctx.tensor(wi);
  ops::Rank(ctx, wi, 2, "weights");
  d.units = w.shape[0];
  d.depth = w.shape[1];
  ctx.Need(d.units > 0 && d.depth > 0 && x.elements > 0, "empty weights or input");
  ctx.Need(x.elements % d.depth == 0,
           "input " + ShapeStr(x.shape) + " cannot be split into rows of " + std::to_string(d.depth));
  d.batches = int(x.elements / d.depth);
  std::vector<int> shape;
  if (opt->keep_num_dims()) {
    ctx.Need(!x.shape.empty() && x.shape.back() == d.depth,
             "keep_num_dims needs the input's last dimension to equal the weights' depth");
    shape = x.shape;
    shape.back() = d.units;
  } else {
    shape = {d.batches, d.units};
  }
  ctx.SetOutputShape(0, shape);
  const Activation act = ops::ToActivation(ctx, opt->fused_activation_function());
  ctx.AddMacs(int64_t(d.batches) * d.units * d.depth);
  const DType xt = x.type, wt = w.type, yt = ctx.tensor(yi).type;
  if (xt == DType::kFloat32 && wt == DType::kFloat32 && yt == DType::kFloat32) {
    d.kind = Kind::kFloat;  // weights may be computed (e.g. passed into an IF branch)
    if (bi >= 0) {
      ops::Rank(ctx, bi, 1, "bias");
      ctx.Need(ctx.tensor(bi).shape[0] == d.units && ctx.tensor(bi).type == DType::kFloat32,
               "bias must be " + std::to_string(d.units) + " float32 values");
    }
    ActivationRangeFloat(act, &d.fact.min, &d.fact.max);
  } else if (xt == DType::kInt8 && wt == DType::kInt8 && yt == DType::kInt8) {
    d.kind = Kind::kInt8;
    ops::Constant(ctx, wi, "weights");
    ops::PerTensorQ(ctx, xi, "input");
    ops::PerTensorQ(ctx, yi, "output");
    ops::BiasCheck(ctx, bi, d.units, DType::kInt32);
    ops::AccumulatorFits(ctx, d.depth, bi);
    const auto ws = ops::WeightScales(ctx, wi, d.units, 0, &d.rq.q, &d.uint8_weights);
    ops::PrepareRequant(ctx, xi, ws, yi, /*float_product=*/ctx.tensor(wi).scales.size() == 1 && !ctx.tensor(wi).uint8,
                        act, &d.rq);
    ctx.SetKernel("int8");
  } else if (xt == DType::kFloat32 && wt == DType::kInt8 && yt == DType::kFloat32) {
    PrepareHybrid(ctx, d, opt, act);
  } else {
    ctx.Fail(std::string("unsupported type combination input ") + DTypeName(xt) + ", weights " + DTypeName(wt) +
             ", output " + DTypeName(yt));
  }
  ctx.CountWeights(wi);
  ctx.CountWeights(bi);
}

void EvalHybrid(EvalContext& ctx, const FcData& d) {
  const float* x = ctx.in<float>(0);
  int8_t* qx = ctx.scratch<int8_t>(d.s_qx);
  float* sc = ctx.scratch<float>(d.s_scale);
  int32_t* zp = ctx.scratch<int32_t>(d.s_zp);
  for (int i = 0; i < d.batches; ++i) {
    if (d.asymmetric) {
      ref::AsymmetricQuantize(d.depth, x + int64_t(i) * d.depth, qx + int64_t(i) * d.depth, &sc[i], &zp[i]);
    } else {
      ref::SymmetricQuantize(d.depth, x + int64_t(i) * d.depth, qx + int64_t(i) * d.depth, &sc[i]);
      zp[i] = 0;
    }
  }
  ref::FullyConnectedHybrid(d.fact, d.batches, d.depth, d.units, qx, sc, zp, ctx.in<int8_t>(1), d.wscale.data(),
                            ctx.num_inputs() > 2 ? ctx.in<float>(2) : nullptr, ctx.out<float>(0));
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<FcData>();
  switch (d.kind) {
    case Kind::kFloat: {
      const float* b = ctx.num_inputs() > 2 ? ctx.in<float>(2) : nullptr;
      if (ctx.optimized())
        opt::FullyConnectedFloat(d.fact, d.batches, d.depth, d.units, ctx.in<float>(0), ctx.in<float>(1), b,
                                 ctx.out<float>(0));
      else
        ref::FullyConnectedFloat(d.fact, d.batches, d.depth, d.units, ctx.in<float>(0), ctx.in<float>(1), b,
                                 ctx.out<float>(0));
      break;
    }
    case Kind::kInt8: {
      const QuantParams& q = ctx.xnnpack() && !d.uint8_weights ? d.rq.q_xnn : d.rq.q;
      ref::FullyConnectedInt8(q, d.rq.mult.data(), d.rq.shift.data(), d.batches, d.depth, d.units,
                              ctx.in<int8_t>(0), ctx.in<int8_t>(1), ctx.num_inputs() > 2 ? ctx.in<int32_t>(2) : nullptr,
                              ctx.out<int8_t>(0));
      break;
    }
    case Kind::kHybrid: EvalHybrid(ctx, d); break;
  }
}

}  // namespace

OpRegistration Register_FULLY_CONNECTED() {
  return {tflite::BuiltinOperator::FULLY_CONNECTED, "FULLY_CONNECTED", Prepare, Eval};
}

}  // namespace kws::rt
