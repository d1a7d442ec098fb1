// PAD / PADV2 on up to 4 dimensions, float32 and int8 (kernels/reference/pad.h):
// the pad value is 0 / the int8 zero point, or PADV2's constant.
#include <cstring>

#include "runtime/kernels/reference/pad.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct PadData : OpData {
  bool int8 = false;
  ref::PadParams pad;
  float value_float = 0.0f;
  int8_t value_int8 = 0;
};

void Prepare(PrepareContext& ctx, bool v2) {
  ops::Arity(ctx, 2, v2 ? 3 : 2, 1);
  auto& d = ctx.MakeData<PadData>();
  const int xi = ctx.input(0), pi = ctx.input(1), yi = ctx.output(0);
  const Tensor& x = ctx.tensor(xi);
  const int r = int(x.shape.size());
  ctx.Need(r >= 1 && r <= 4, "input rank " + std::to_string(r) + " (PAD supports 1–4)");
  const Tensor& p = ctx.tensor(pi);
  ctx.Need(p.type == DType::kInt32 && p.is_const && p.shape == std::vector<int>({r, 2}),
           "paddings must be a constant int32 tensor of shape [" + std::to_string(r) + ",2]");
  const auto pads = ops::Int32Values(ctx, pi, "paddings");
  std::vector<int> shape;
  for (int k = 0; k < r; ++k) {
    const int32_t before = pads[size_t(2 * k)], after = pads[size_t(2 * k + 1)];
    ctx.Need(before >= 0 && after >= 0 && before <= (1 << 20) && after <= (1 << 20), "negative or huge padding");
    const int a = 4 - r + k;
    d.pad.in[a] = x.shape[size_t(k)];
    d.pad.before[a] = before;
    d.pad.out[a] = d.pad.in[a] + before + after;
    shape.push_back(d.pad.out[a]);
  }
  ctx.SetOutputShape(0, shape);
  ops::SameType(ctx, xi, yi);
  const int vi = v2 ? ctx.input(2) : -1;
  if (vi >= 0)
    ctx.Need(ctx.tensor(vi).is_const && ctx.tensor(vi).elements == 1 && ctx.tensor(vi).type == x.type,
             "constant_values must be one constant of the input's type");
  if (x.type == DType::kFloat32) {
    if (vi >= 0) std::memcpy(&d.value_float, ctx.tensor(vi).data, 4);
  } else if (x.type == DType::kInt8) {
    d.int8 = true;
    ops::PerTensorQ(ctx, xi, "input");
    ops::PerTensorQ(ctx, yi, "output");
    ops::SameQ(ctx, xi, yi);
    d.value_int8 = vi >= 0 ? static_cast<int8_t>(ctx.tensor(vi).data[0]) : static_cast<int8_t>(ctx.tensor(yi).zero_points[0]);
    ctx.SetKernel("int8");
  } else {
    ops::UnsupportedType(ctx, x.type);
  }
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<PadData>();
  if (d.int8)
    ref::Pad<int8_t>(d.pad, d.value_int8, ctx.in<int8_t>(0), ctx.out<int8_t>(0));
  else
    ref::Pad<float>(d.pad, d.value_float, ctx.in<float>(0), ctx.out<float>(0));
}

void PreparePad(PrepareContext& ctx) { Prepare(ctx, false); }
void PreparePadV2(PrepareContext& ctx) { Prepare(ctx, true); }

}  // namespace

OpRegistration Register_PAD() { return {tflite::BuiltinOperator::PAD, "PAD", PreparePad, Eval}; }
OpRegistration Register_PADV2() { return {tflite::BuiltinOperator::PADV2, "PADV2", PreparePadV2, Eval}; }

}  // namespace kws::rt
