// SPLIT_V: one tensor into pieces of given sizes along one axis (one size may
// be −1: the rest), any element type; a copy (int8 keeps scale and zero point).
#include <cstring>

#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct SplitData : OpData {
  int64_t outer = 1;
  int64_t in_row = 0;                // bytes per outer step of the input
  std::vector<int64_t> piece_bytes;  // bytes per outer step of each output
};

void Prepare(PrepareContext& ctx) {
  ctx.Need(ctx.num_inputs() == 3 && ctx.input(0) >= 0 && ctx.input(1) >= 0 && ctx.input(2) >= 0,
           std::to_string(ctx.num_inputs()) + " inputs (expected value, size_splits, axis)");
  const auto* opt = ctx.op()->builtin_options_as_SplitVOptions();
  const int n = ctx.num_outputs();
  ctx.Need(n >= 1 && (!opt || opt->num_splits() == n),
           std::to_string(n) + " outputs for num_splits " + std::to_string(opt ? opt->num_splits() : 0));
  auto& d = ctx.MakeData<SplitData>();
  const Tensor& x = ctx.in(0);
  ctx.Need(x.type != DType::kResource && x.elements > 0, "the input must hold data");
  const int r = int(x.shape.size());
  const auto axes = ops::Int32Values(ctx, ctx.input(2), "axis");
  ctx.Need(axes.size() == 1, "axis must hold one value");
  int axis = axes[0];
  ctx.Need(r >= 1 && axis >= -r && axis < r, "axis " + std::to_string(axis) + " out of range for rank " +
                                                 std::to_string(r));
  if (axis < 0) axis += r;
  std::vector<int32_t> sizes = ops::Int32Values(ctx, ctx.input(1), "size_splits");
  ctx.Need(int(sizes.size()) == n, std::to_string(sizes.size()) + " sizes for " + std::to_string(n) + " outputs");
  int64_t total = 0;
  int rest = -1;
  for (int k = 0; k < n; ++k) {
    if (sizes[size_t(k)] == -1 && rest < 0) {
      rest = k;
      continue;
    }
    ctx.Need(sizes[size_t(k)] > 0, "size " + std::to_string(sizes[size_t(k)]) + " (sizes must be positive, one may be -1)");
    total += sizes[size_t(k)];
  }
  const int dim = x.shape[size_t(axis)];
  if (rest >= 0) {
    ctx.Need(total < dim, "sizes add up to " + std::to_string(total) + ", the axis has " + std::to_string(dim));
    sizes[size_t(rest)] = int32_t(dim - total);
  } else {
    ctx.Need(total == dim, "sizes add up to " + std::to_string(total) + ", the axis has " + std::to_string(dim));
  }
  for (int a = 0; a < axis; ++a) d.outer *= x.shape[size_t(a)];
  d.in_row = int64_t(x.bytes) / d.outer;
  for (int k = 0; k < n; ++k) {
    std::vector<int> shape = x.shape;
    shape[size_t(axis)] = sizes[size_t(k)];
    ctx.SetOutputShape(k, shape);
    ops::SameType(ctx, ctx.input(0), ctx.output(k));
    if (x.type == DType::kInt8) {
      ops::PerTensorQ(ctx, ctx.input(0), "input");
      ops::PerTensorQ(ctx, ctx.output(k), "output");
      ops::SameQ(ctx, ctx.input(0), ctx.output(k));
    }
    d.piece_bytes.push_back(int64_t(ctx.out(k).bytes) / d.outer);
  }
  if (x.type == DType::kInt8) ctx.SetKernel("int8");
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<SplitData>();
  const uint8_t* x = ctx.in<uint8_t>(0);
  int64_t at = 0;
  for (size_t k = 0; k < d.piece_bytes.size(); ++k) {
    uint8_t* y = ctx.out<uint8_t>(int(k));
    const int64_t pb = d.piece_bytes[k];
    for (int64_t o = 0; o < d.outer; ++o) std::memcpy(y + o * pb, x + o * d.in_row + at, size_t(pb));
    at += pb;
  }
}

}  // namespace

OpRegistration Register_SPLIT_V() { return {tflite::BuiltinOperator::SPLIT_V, "SPLIT_V", Prepare, Eval}; }

}  // namespace kws::rt
