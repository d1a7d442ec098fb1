// CONCATENATION along one axis, any element type (a copy: int8 inputs must
// share the output's scale and zero point, as TFLite requires).
#include "runtime/kernels/reference/concatenation.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct ConcatData : OpData {
  int64_t outer = 1;
  std::vector<int64_t> inner_bytes;
  std::vector<const uint8_t*> inputs;  // filled at eval (sized here: no allocation)
};

void Prepare(PrepareContext& ctx) {
  ctx.Need(ctx.num_inputs() >= 1 && ctx.num_outputs() == 1, "needs at least 1 input and exactly 1 output");
  auto& d = ctx.MakeData<ConcatData>();
  const auto* opt = ctx.op()->builtin_options_as_ConcatenationOptions();
  ctx.Need(opt != nullptr, "missing ConcatenationOptions");
  ctx.Need(opt->fused_activation_function() == tflite::ActivationFunctionType::NONE,
           "fused activation on CONCATENATION is not supported");
  for (int k = 0; k < ctx.num_inputs(); ++k) ctx.Need(ctx.input(k) >= 0, "omitted input");
  const int yi = ctx.output(0);
  const Tensor& first = ctx.in(0);
  const int r = int(first.shape.size());
  int axis = opt->axis();
  ctx.Need(axis >= -r && axis < r, "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  std::vector<int> shape = first.shape;
  shape[size_t(axis)] = 0;
  for (int k = 0; k < ctx.num_inputs(); ++k) {
    const Tensor& x = ctx.in(k);
    ctx.Need(x.type == ctx.tensor(yi).type, "input and output types differ");
    ctx.Need(x.type != DType::kResource, "resource tensors cannot be concatenated");
    ctx.Need(int(x.shape.size()) == r, "input " + ShapeStr(x.shape) + " and input " + ShapeStr(first.shape) +
                                           " have different ranks");
    for (int a = 0; a < r; ++a)
      if (a != axis)
        ctx.Need(x.shape[size_t(a)] == first.shape[size_t(a)],
                 "input " + ShapeStr(x.shape) + " does not match input " + ShapeStr(first.shape));
    shape[size_t(axis)] += x.shape[size_t(axis)];
  }
  ctx.SetOutputShape(0, shape);
  const Tensor& y = ctx.tensor(yi);
  if (y.type == DType::kInt8) {
    for (int k = 0; k < ctx.num_inputs(); ++k) {
      ops::PerTensorQ(ctx, ctx.input(k), "input");
      ops::PerTensorQ(ctx, yi, "output");
      ops::SameQ(ctx, ctx.input(k), yi);
    }
    ctx.SetKernel("int8");
  }
  for (int a = 0; a < axis; ++a) d.outer *= shape[size_t(a)];
  for (int k = 0; k < ctx.num_inputs(); ++k) d.inner_bytes.push_back(int64_t(ctx.in(k).bytes) / d.outer);
  d.inputs.resize(size_t(ctx.num_inputs()));
}

void Eval(EvalContext& ctx) {
  auto& d = ctx.data<ConcatData>();
  for (size_t k = 0; k < d.inputs.size(); ++k) d.inputs[k] = ctx.in<uint8_t>(int(k));
  ref::Concatenation(d.outer, int(d.inputs.size()), d.inputs.data(), d.inner_bytes.data(), ctx.out<uint8_t>(0));
}

}  // namespace

OpRegistration Register_CONCATENATION() {
  return {tflite::BuiltinOperator::CONCATENATION, "CONCATENATION", Prepare, Eval};
}

}  // namespace kws::rt
