// PACK: N tensors of one shape stacked along a new axis, any element type (a
// copy: int8 inputs share the output's scale and zero point).
#include <cstring>

#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct PackData : OpData {
  int64_t outer = 1;    // product of the dimensions before the new axis
  size_t row = 0;       // bytes of one input per outer step
  std::vector<const uint8_t*> inputs;
};

void Prepare(PrepareContext& ctx) {
  const int n = ctx.num_inputs();
  ctx.Need(n >= 1 && ctx.num_outputs() == 1, "needs at least 1 input and exactly 1 output");
  const auto* opt = ctx.op()->builtin_options_as_PackOptions();
  ctx.Need(opt != nullptr, "missing PackOptions");
  ctx.Need(opt->values_count() == n, std::to_string(n) + " inputs for values_count " +
                                          std::to_string(opt->values_count()));
  auto& d = ctx.MakeData<PackData>();
  for (int k = 0; k < n; ++k) ctx.Need(ctx.input(k) >= 0, "omitted input");
  const Tensor& first = ctx.in(0);
  const int r = int(first.shape.size());
  int axis = opt->axis();
  ctx.Need(axis >= -r - 1 && axis <= r, "axis " + std::to_string(axis) + " out of range for rank " +
                                            std::to_string(r + 1));
  if (axis < 0) axis += r + 1;
  ctx.Need(first.type != DType::kResource, "resource tensors cannot be packed");
  for (int k = 0; k < n; ++k) {
    ctx.Need(ctx.in(k).shape == first.shape && ctx.in(k).type == first.type,
             "input " + std::to_string(k) + " differs from input 0 in shape or type");
    if (first.type == DType::kInt8) {
      ops::PerTensorQ(ctx, ctx.input(k), "input");
      ops::PerTensorQ(ctx, ctx.output(0), "output");
      ops::SameQ(ctx, ctx.input(k), ctx.output(0));
    }
  }
  std::vector<int> shape = first.shape;
  shape.insert(shape.begin() + axis, n);
  ctx.Need(shape.size() <= 5, "output rank above 5");
  ctx.SetOutputShape(0, shape);
  ops::SameType(ctx, ctx.input(0), ctx.output(0));
  for (int a = 0; a < axis; ++a) d.outer *= first.shape[size_t(a)];
  d.row = first.bytes / size_t(d.outer);
  d.inputs.resize(size_t(n));
  if (first.type == DType::kInt8) ctx.SetKernel("int8");
}

void Eval(EvalContext& ctx) {
  auto& d = ctx.data<PackData>();
  for (size_t k = 0; k < d.inputs.size(); ++k) d.inputs[k] = ctx.in<uint8_t>(int(k));
  uint8_t* y = ctx.out<uint8_t>(0);
  for (int64_t o = 0; o < d.outer; ++o)
    for (const uint8_t* x : d.inputs) {
      std::memcpy(y, x + size_t(o) * d.row, d.row);
      y += d.row;
    }
}

}  // namespace

OpRegistration Register_PACK() { return {tflite::BuiltinOperator::PACK, "PACK", Prepare, Eval}; }

}  // namespace kws::rt
