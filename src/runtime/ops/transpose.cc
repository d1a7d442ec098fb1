// TRANSPOSE by a constant permutation, any element type, rank 1–5
// (kernels/reference/transpose.h); int8 keeps scale and zero point.
#include "runtime/kernels/reference/transpose.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct TransposeData : OpData {
  ref::TransposeParams p;
};

void Prepare(PrepareContext& ctx) {
  ops::Arity(ctx, 2, 2, 1);
  auto& d = ctx.MakeData<TransposeData>();
  const int xi = ctx.input(0), yi = ctx.output(0);
  const Tensor& x = ctx.tensor(xi);
  ctx.Need(x.type != DType::kResource, "resource tensors cannot be transposed");
  const int r = int(x.shape.size());
  ctx.Need(r >= 1 && r <= 5, "input rank " + std::to_string(r) + " (TRANSPOSE supports 1–5)");
  const auto perm = ops::Int32Values(ctx, ctx.input(1), "perm");
  ctx.Need(int(perm.size()) == r, "perm has " + std::to_string(perm.size()) + " entries for rank " + std::to_string(r));
  int64_t stride[5];
  int64_t s = 1;
  for (int a = r - 1; a >= 0; --a) {
    stride[a] = s;
    s *= x.shape[size_t(a)];
  }
  std::vector<bool> used(size_t(r), false);
  std::vector<int> shape;
  for (int i = 0; i < r; ++i) {
    const int a = perm[size_t(i)];
    ctx.Need(a >= 0 && a < r, "perm entry " + std::to_string(a) + " out of range for rank " + std::to_string(r));
    ctx.Need(!used[size_t(a)], "perm " + ShapeStr(std::vector<int>(perm.begin(), perm.end())) + " repeats an axis");
    used[size_t(a)] = true;
    shape.push_back(x.shape[size_t(a)]);
    d.p.out[5 - r + i] = x.shape[size_t(a)];
    d.p.in_stride[5 - r + i] = stride[a];
  }
  ctx.SetOutputShape(0, shape);
  ops::SameType(ctx, xi, yi);
  d.p.element_bytes = TypeSize(x.type);
  if (x.type == DType::kInt8) {
    ops::PerTensorQ(ctx, xi, "input");
    ops::PerTensorQ(ctx, yi, "output");
    ops::SameQ(ctx, xi, yi);
    ctx.SetKernel("int8");
  }
}

void Eval(EvalContext& ctx) { ref::Transpose(ctx.data<TransposeData>().p, ctx.in<uint8_t>(0), ctx.out<uint8_t>(0)); }

}  // namespace

OpRegistration Register_TRANSPOSE() { return {tflite::BuiltinOperator::TRANSPOSE, "TRANSPOSE", Prepare, Eval}; }

}  // namespace kws::rt
