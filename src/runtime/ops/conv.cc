// CONV_2D: float32, int8 (per-channel / per-tensor, legacy uint8 weights) and
// hybrid (int8 weights, float activations); stride, dilation, SAME/VALID.
// Kernels, chosen in prepare: reference (kernels/reference/conv.h); optimized:
// sparse (pruned filters, kernels/optimized/sparse_conv.h), AVX-512 direct
// (float), im2col + GEMM (float: Eigen; int8: VNNI or plain dot products).
// Two pruned convolutions in a row hand their data over without an NHWC round
// trip (Link).
#include <algorithm>
#include <cstring>
#include <memory>

#include "runtime/kernels/optimized/optimized.h"
#include "runtime/kernels/optimized/sparse_conv.h"
#include "runtime/kernels/reference/conv.h"
#include "runtime/kernels/reference/quantize.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

enum class Kind { kFloat, kInt8, kHybrid };

struct ConvData : OpData {
  Kind kind = Kind::kFloat;
  ConvGeometry g;
  Shape4 is, fs, os;
  FloatAct fact;
  ops::Requant rq;
  bool uint8_weights = false;           // legacy uint8 weights: reference kernels and arithmetic
  std::vector<int32_t> filter_sums;     // int8 im2col GEMM
  std::vector<float> packed;            // float direct: filter as [KH][KW][Cin][Cout]
  std::vector<float> wscale;            // hybrid weight scales
  bool asymmetric = false;              // hybrid input quantization
  int64_t per_batch = 0;
  std::shared_ptr<const opt::SparseConvPlan> sparse;
  opt::Layout in_layout = opt::Layout::kNhwc, out_layout = opt::Layout::kNhwc;
  int sparse_next = -1;  // node whose phase planes this sparse conv writes directly
  int s_im2col = -1, s_qx = -1, s_scale = -1, s_zp = -1, s_sparse = -1;  // scratch indices
};

void PrepareFloat(PrepareContext& ctx, ConvData& d, Activation act) {
  d.kind = Kind::kFloat;
  ops::BiasCheck(ctx, ctx.input(2), d.os.c, DType::kFloat32);
  ActivationRangeFloat(act, &d.fact.min, &d.fact.max);
}

void PrepareInt8(PrepareContext& ctx, ConvData& d, Activation act) {
  d.kind = Kind::kInt8;
  const int xi = ctx.input(0), wi = ctx.input(1), bi = ctx.input(2), yi = ctx.output(0);
  ops::PerTensorQ(ctx, xi, "input");
  ops::PerTensorQ(ctx, yi, "output");
  ops::BiasCheck(ctx, bi, d.os.c, DType::kInt32);
  ops::AccumulatorFits(ctx, int64_t(d.fs.h) * d.fs.w * d.fs.c, bi);
  const auto ws = ops::WeightScales(ctx, wi, d.os.c, 0, &d.rq.q, &d.uint8_weights);
  ops::PrepareRequant(ctx, xi, ws, yi, /*float_product=*/false, act, &d.rq);
  ctx.SetKernel("int8");
}

void PrepareHybrid(PrepareContext& ctx, ConvData& d, Activation act) {
  d.kind = Kind::kHybrid;
  const int wi = ctx.input(1);
  ctx.Need(!ctx.tensor(wi).uint8, "uint8 weights with float activations are not supported");
  ops::BiasCheck(ctx, ctx.input(2), d.os.c, DType::kFloat32);
  ops::AccumulatorFits(ctx, int64_t(d.fs.h) * d.fs.w * d.fs.c, -1);
  d.wscale = ops::WeightScales(ctx, wi, d.os.c, 0, &d.rq.q, &d.uint8_weights);
  // TFLite: per-channel hybrid conv quantizes the input asymmetrically per
  // batch item; a conv whose channel scales are all equal takes the
  // per-tensor path with symmetric quantization.
  d.asymmetric = std::any_of(d.wscale.begin(), d.wscale.end(), [&](float s) { return s != d.wscale[0]; });
  ActivationRangeFloat(act, &d.fact.min, &d.fact.max);
  d.per_batch = int64_t(d.is.h) * d.is.w * d.is.c;
  ctx.SetKernel("hybrid");
}

// Pruned filter: the sparse kernel when it pays (its plan replaces im2col).
void PrepareSparse(PrepareContext& ctx, ConvData& d) {
  const Tensor& w = ctx.in(1);
  auto plan = std::make_shared<opt::SparseConvPlan>();
  if (w.type == DType::kFloat32)
    opt::PrepareSparseConv(d.g, d.is, d.fs, d.os, reinterpret_cast<const float*>(w.data), plan.get());
  else
    opt::PrepareSparseConv(d.g, d.is, d.fs, d.os, reinterpret_cast<const int8_t*>(w.data), plan.get());
  if (opt::SparseConvPays(*plan, w.type == DType::kInt8)) d.sparse = std::move(plan);
}

// Scratch in the order the arena planner has always seen it: im2col / the
// hybrid's quantized input, its scales, its zero points, the sparse planes.
void RequestScratch(PrepareContext& ctx, ConvData& d) {
  size_t im2col = 0, scales = 0, zps = 0;
  if (d.kind == Kind::kHybrid) {
    im2col = size_t(ctx.in(0).elements);
    scales = sizeof(float) * size_t(d.is.n);
    zps = sizeof(int32_t) * size_t(d.is.n);
  } else if (!d.sparse) {
    im2col = opt::ConvIm2colElements(d.g, d.is, d.fs, d.os) * (d.kind == Kind::kFloat ? sizeof(float) : 1);
  }
  if (im2col) d.s_im2col = d.s_qx = ctx.AddScratch(im2col);
  if (scales) d.s_scale = ctx.AddScratch(scales);
  if (zps) d.s_zp = ctx.AddScratch(zps);
  if (d.sparse) d.s_sparse = ctx.AddScratch(sizeof(float) * d.sparse->ScratchFloats());
}

// Precomputed from the constant filter for the dense optimized kernels.
void PackFilter(PrepareContext& ctx, ConvData& d) {
  if (d.sparse) return;
  const Tensor& w = ctx.in(1);
  if (d.kind == Kind::kFloat && opt::HasAvx512() && d.is.c <= 4096) {
    d.packed.resize(size_t(d.fs.size()));
    opt::PackFilterHWIO(d.fs, reinterpret_cast<const float*>(w.data), d.packed.data());
  }
  if (d.kind == Kind::kInt8) {
    const int8_t* f = reinterpret_cast<const int8_t*>(w.data);
    const int64_t k = int64_t(d.fs.h) * d.fs.w * d.fs.c;
    d.filter_sums.assign(size_t(d.os.c), 0);
    for (int c = 0; c < d.os.c; ++c)
      for (int64_t i = 0; i < k; ++i) d.filter_sums[size_t(c)] += f[c * k + i];
  }
}

void Prepare(PrepareContext& ctx) {
  auto& d = ctx.MakeData<ConvData>();
  ops::ConvOperands(ctx, &d.is, &d.fs);
  const int xi = ctx.input(0), wi = ctx.input(1), bi = ctx.input(2), yi = ctx.output(0);
  const auto* opt = ctx.op()->builtin_options_as_Conv2DOptions();
  ctx.Need(opt != nullptr, "missing Conv2DOptions");
  ctx.Need(d.fs.c == d.is.c, "filter has " + std::to_string(d.fs.c) + " input channels, input has " +
                                 std::to_string(d.is.c) + " (grouped convolution is not supported)");
  const int cout = d.fs.n;
  const Activation act = ops::ToActivation(ctx, opt->fused_activation_function());
  int oh = 0, ow = 0;
  ops::Geometry(ctx, opt->padding(), opt->stride_h(), opt->stride_w(), opt->dilation_h_factor(),
                opt->dilation_w_factor(), d.fs.h, d.fs.w, d.is, &d.g, &oh, &ow);
  ctx.AddMacs(int64_t(d.is.n) * oh * ow * cout * d.fs.h * d.fs.w * d.fs.c);
  d.os = Shape4{d.is.n, oh, ow, cout};
  ctx.SetOutputShape(0, {d.is.n, oh, ow, cout});
  const DType xt = ctx.tensor(xi).type, wt = ctx.tensor(wi).type, yt = ctx.tensor(yi).type;
  if (xt == DType::kFloat32 && wt == DType::kFloat32 && yt == DType::kFloat32) {
    PrepareFloat(ctx, d, act);
  } else if (xt == DType::kInt8 && wt == DType::kInt8 && yt == DType::kInt8) {
    PrepareInt8(ctx, d, act);
  } else if (xt == DType::kFloat32 && wt == DType::kInt8 && yt == DType::kFloat32) {
    PrepareHybrid(ctx, d, act);
  } else {
    ctx.Fail(std::string("unsupported type combination input ") + DTypeName(xt) + ", filter " + DTypeName(wt) +
             ", output " + DTypeName(yt));
  }
  if (!d.uint8_weights) PrepareSparse(ctx, d);
  RequestScratch(ctx, d);
  PackFilter(ctx, d);
  ctx.CountWeights(wi);
  ctx.CountWeights(bi);
}

// A tensor written by one sparse conv and read only by another (as its input)
// never exists as NHWC: the first writes the second's phase planes directly
// (whose scratch then lives from the first node on), or, when that hand-off
// does not apply, the tensor is kept channel-planar.
void Link(Graph& graph, Subgraph& sg, Node& a) {
  auto& ad = static_cast<ConvData&>(*a.data);
  if (!ad.sparse) return;
  const int t = a.out[0];
  int readers = 0, reader = -1;
  for (const Node& n : sg.nodes)
    for (int x : n.in)
      if (x == t) ++readers, reader = n.index;
  for (int x : sg.outputs)
    if (x == t) readers += 2;
  if (readers != 1) return;
  Node& b = sg.nodes[size_t(reader)];
  if (b.reg != a.reg || b.in[0] != t) return;
  auto& bd = static_cast<ConvData&>(*b.data);
  if (!bd.sparse) return;
  if (opt::SparseConvCanFuse(*ad.sparse, *bd.sparse)) {
    ad.sparse_next = reader;
    bd.in_layout = opt::Layout::kPlanes;
    b.scratch[size_t(bd.s_sparse)].from = a.index + 1;
  } else {
    ad.out_layout = bd.in_layout = opt::Layout::kChw;
  }
}

const opt::SparseNext* Next(EvalContext& ctx, const ConvData& d, opt::SparseNext* next) {
  if (d.sparse_next < 0) return nullptr;
  const Node& n = ctx.subgraph().nodes[size_t(d.sparse_next)];
  const auto& nd = static_cast<const ConvData&>(*n.data);
  *next = {nd.sparse.get(), reinterpret_cast<float*>(n.scratch[size_t(nd.s_sparse)].data), nd.rq.q.input_offset};
  return next;
}

void EvalFloat(EvalContext& ctx, const ConvData& d, bool fast) {
  const float* x = ctx.in<float>(0);
  const float* w = ctx.in<float>(1);
  const float* b = ctx.num_inputs() > 2 ? ctx.in<float>(2) : nullptr;
  float* y = ctx.out<float>(0);
  opt::SparseNext next;
  if (fast && d.sparse)
    opt::SparseConvFloat(*d.sparse, d.fact, d.in_layout, x, b, d.out_layout, y, ctx.scratch<float>(d.s_sparse),
                         Next(ctx, d, &next));
  else if (fast && !d.packed.empty())
    opt::ConvFloatDirect(d.g, d.fact, d.is, x, d.fs, d.packed.data(), b, d.os, y);
  else if (fast)
    opt::ConvFloat(d.g, d.fact, d.is, x, d.fs, w, b, d.os, y, d.s_im2col >= 0 ? ctx.scratch<float>(d.s_im2col) : nullptr);
  else
    ref::ConvFloat(d.g, d.fact, d.is, x, d.fs, w, b, d.os, y);
}

void EvalInt8(EvalContext& ctx, const ConvData& d, bool fast, bool xnn) {
  const QuantParams& q = xnn ? d.rq.q_xnn : d.rq.q;
  const int8_t* x = ctx.in<int8_t>(0);
  const int8_t* w = ctx.in<int8_t>(1);
  const int32_t* b = ctx.num_inputs() > 2 ? ctx.in<int32_t>(2) : nullptr;
  int8_t* y = ctx.out<int8_t>(0);
  opt::SparseNext next;
  if (fast && d.sparse)
    opt::SparseConvInt8(*d.sparse, q, d.rq.mult.data(), d.rq.shift.data(), d.in_layout, x, b, d.out_layout, y,
                        ctx.scratch<float>(d.s_sparse), Next(ctx, d, &next));
  else if (fast)
    opt::ConvInt8(d.g, q, d.rq.mult.data(), d.rq.shift.data(), d.is, x, d.fs, w, d.filter_sums.data(), b, d.os, y,
                  d.s_im2col >= 0 ? ctx.scratch<int8_t>(d.s_im2col) : nullptr);
  else
    ref::ConvInt8(d.g, q, d.rq.mult.data(), d.rq.shift.data(), d.is, x, d.fs, w, b, d.os, y);
}

void EvalHybrid(EvalContext& ctx, const ConvData& d, bool fast) {
  const float* x = ctx.in<float>(0);
  const float* b = ctx.num_inputs() > 2 ? ctx.in<float>(2) : nullptr;
  float* y = ctx.out<float>(0);
  opt::SparseNext next;
  if (fast && d.sparse) {
    opt::SparseConvHybrid(*d.sparse, d.fact, d.asymmetric, d.in_layout, x, d.wscale.data(), b, d.out_layout, y,
                          ctx.scratch<float>(d.s_sparse), Next(ctx, d, &next));
    return;
  }
  int8_t* qx = ctx.scratch<int8_t>(d.s_qx);
  float* sc = ctx.scratch<float>(d.s_scale);
  int32_t* zp = ctx.scratch<int32_t>(d.s_zp);
  for (int i = 0; i < d.is.n; ++i) {
    if (d.asymmetric) {
      ref::AsymmetricQuantize(d.per_batch, x + i * d.per_batch, qx + i * d.per_batch, &sc[i], &zp[i]);
    } else {
      ref::SymmetricQuantize(d.per_batch, x + i * d.per_batch, qx + i * d.per_batch, &sc[i]);
      zp[i] = 0;
    }
  }
  ref::ConvHybrid(d.g, d.fact, d.is, qx, sc, zp, d.fs, ctx.in<int8_t>(1), d.wscale.data(), b, d.os, y);
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<ConvData>();
  // Legacy uint8 weights (non-zero weight zero point): TFLite's reference kernels and arithmetic.
  const bool fast = ctx.optimized() && !d.uint8_weights;
  switch (d.kind) {
    case Kind::kFloat: EvalFloat(ctx, d, fast); break;
    case Kind::kInt8: EvalInt8(ctx, d, fast, ctx.xnnpack() && !d.uint8_weights); break;
    case Kind::kHybrid: EvalHybrid(ctx, d, fast); break;
  }
}

}  // namespace

OpRegistration Register_CONV_2D() {
  return {tflite::BuiltinOperator::CONV_2D, "CONV_2D", Prepare, Eval, Link};
}

}  // namespace kws::rt
