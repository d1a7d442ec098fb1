// RESHAPE, SQUEEZE, EXPAND_DIMS: the same bytes under another shape (a copy);
// any element type; int8 keeps scale and zero point.
#include <cstring>

#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct CopyData : OpData {
  size_t bytes = 0;
};

// Output shape `shape` (already resolved) → checks shared by the three ops.
void Finish(PrepareContext& ctx, const std::vector<int>& shape) {
  const int xi = ctx.input(0), yi = ctx.output(0);
  const Tensor& x = ctx.tensor(xi);
  ctx.Need(ShapeElements(shape) == x.elements, "input " + ShapeStr(x.shape) + " and output " + ShapeStr(shape) +
                                                   " have different element counts");
  ctx.SetOutputShape(0, shape);
  ops::SameType(ctx, xi, yi);
  ctx.Need(x.type != DType::kResource, "resource tensors cannot be reshaped");
  if (x.type == DType::kInt8) {
    ops::PerTensorQ(ctx, xi, "input");
    ops::PerTensorQ(ctx, yi, "output");
    ops::SameQ(ctx, xi, yi);
    ctx.SetKernel("int8");
  }
  ctx.MakeData<CopyData>().bytes = x.bytes;
}

// RESHAPE's target: the shape input when it is a constant int32 vector, else
// the new_shape option, else the declared output shape; one −1 is inferred.
void PrepareReshape(PrepareContext& ctx) {
  ops::Arity(ctx, 1, 2, 1);
  const Tensor& x = ctx.in(0);
  std::vector<int> target;
  bool found = false;
  if (ctx.input(1) >= 0) {
    const Tensor& s = ctx.in(1);
    if (s.type == DType::kInt32 && s.shape.size() == 1 && (s.is_const || s.elements == 0)) {
      for (int32_t v : ops::Int32Values(ctx, ctx.input(1), "shape")) target.push_back(v);
      found = true;
    }
  }
  if (!found && ctx.op()) {
    const auto* opt = ctx.op()->builtin_options_as_ReshapeOptions();
    if (opt && opt->new_shape() && opt->new_shape()->size() > 0) {
      target.assign(opt->new_shape()->begin(), opt->new_shape()->end());
      found = true;
    }
  }
  if (!found) target = ctx.out(0).signature;
  int stretch = -1;
  int64_t known = 1;
  for (size_t k = 0; k < target.size(); ++k) {
    if (target[k] == -1) {
      ctx.Need(stretch < 0, "new shape " + ShapeStr(target) + " has more than one -1");
      stretch = int(k);
    } else {
      ctx.Need(target[k] > 0 && target[k] <= ctx.limits().max_tensor_elements,
               "new shape " + ShapeStr(target) + " has a dimension outside [1, limit]");
      known *= target[k];
      ctx.Need(known <= ctx.limits().max_tensor_elements, "new shape " + ShapeStr(target) + " too large");
    }
  }
  if (stretch >= 0) {
    ctx.Need(x.elements % known == 0, "input " + ShapeStr(x.shape) + " cannot be reshaped to " + ShapeStr(target));
    target[size_t(stretch)] = int(x.elements / known);
  }
  Finish(ctx, target);
}

void PrepareSqueeze(PrepareContext& ctx) {
  ops::Arity(ctx, 1, 2, 1);
  const Tensor& x = ctx.in(0);
  const int r = int(x.shape.size());
  std::vector<bool> drop(size_t(r), false);
  const auto* opt = ctx.op()->builtin_options_as_SqueezeOptions();
  if (opt && opt->squeeze_dims() && opt->squeeze_dims()->size() > 0) {
    for (int a : *opt->squeeze_dims()) {
      ctx.Need(a >= -r && a < r, "squeeze dimension " + std::to_string(a) + " out of range for rank " +
                                     std::to_string(r));
      const int k = a < 0 ? a + r : a;
      ctx.Need(x.shape[size_t(k)] == 1, "squeeze dimension " + std::to_string(a) + " of " + ShapeStr(x.shape) +
                                            " is not 1");
      drop[size_t(k)] = true;
    }
  } else {
    for (int k = 0; k < r; ++k) drop[size_t(k)] = x.shape[size_t(k)] == 1;
  }
  std::vector<int> shape;
  for (int k = 0; k < r; ++k)
    if (!drop[size_t(k)]) shape.push_back(x.shape[size_t(k)]);
  Finish(ctx, shape);
}

void PrepareExpandDims(PrepareContext& ctx) {
  ops::Arity(ctx, 2, 2, 1);
  const Tensor& x = ctx.in(0);
  const auto axis = ops::Int32Values(ctx, ctx.input(1), "axis");
  ctx.Need(axis.size() == 1, "axis must hold one value");
  const int r = int(x.shape.size());
  int a = axis[0];
  ctx.Need(a >= -r - 1 && a <= r, "axis " + std::to_string(a) + " out of range for rank " + std::to_string(r));
  if (a < 0) a += r + 1;
  std::vector<int> shape = x.shape;
  shape.insert(shape.begin() + a, 1);
  ctx.Need(shape.size() <= 5, "output rank above 5");
  Finish(ctx, shape);
}

void Eval(EvalContext& ctx) {
  std::memcpy(ctx.out<uint8_t>(0), ctx.in<uint8_t>(0), ctx.data<CopyData>().bytes);
}

}  // namespace

OpRegistration Register_RESHAPE() { return {tflite::BuiltinOperator::RESHAPE, "RESHAPE", PrepareReshape, Eval}; }
OpRegistration Register_SQUEEZE() { return {tflite::BuiltinOperator::SQUEEZE, "SQUEEZE", PrepareSqueeze, Eval}; }
OpRegistration Register_EXPAND_DIMS() {
  return {tflite::BuiltinOperator::EXPAND_DIMS, "EXPAND_DIMS", PrepareExpandDims, Eval};
}

}  // namespace kws::rt
