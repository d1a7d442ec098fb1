// STRIDED_SLICE with begin/end/shrink-axis masks, positive and negative
// strides, any element type (kernels/reference/strided_slice.h); a copy (int8
// keeps scale and zero point). Ellipsis and new-axis masks are refused.
#include <limits>

#include "runtime/kernels/reference/strided_slice.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct SliceData : OpData {
  ref::StridedSliceParams p;
};

void Prepare(PrepareContext& ctx) {
  ops::Arity(ctx, 4, 4, 1);
  auto& d = ctx.MakeData<SliceData>();
  const auto* opt = ctx.op()->builtin_options_as_StridedSliceOptions();
  ctx.Need(opt != nullptr, "missing StridedSliceOptions");
  ctx.Need(opt->ellipsis_mask() == 0 && opt->new_axis_mask() == 0, "ellipsis and new-axis masks are not supported");
  ctx.Need(!opt->offset(), "offset=true is not supported");
  const int xi = ctx.input(0), yi = ctx.output(0);
  const Tensor& x = ctx.tensor(xi);
  ctx.Need(x.type != DType::kResource, "resource tensors cannot be sliced");
  const int r = int(x.shape.size());
  ctx.Need(r >= 1 && r <= 5, "input rank " + std::to_string(r) + " (STRIDED_SLICE supports 1–5)");
  const auto begin = ops::Int32Values(ctx, ctx.input(1), "begin");
  const auto end = ops::Int32Values(ctx, ctx.input(2), "end");
  const auto strides = ops::Int32Values(ctx, ctx.input(3), "strides");
  ctx.Need(int(begin.size()) == r && int(end.size()) == r && int(strides.size()) == r,
           "begin, end and strides need " + std::to_string(r) + " values each");
  std::vector<int> shape;
  for (int a = 0; a < r; ++a) {
    const int k = 5 - r + a, dim = x.shape[size_t(a)], stride = strides[size_t(a)];
    ctx.Need(stride != 0 && stride > std::numeric_limits<int>::lowest(), "stride 0 on axis " + std::to_string(a));
    const bool shrink = opt->shrink_axis_mask() & (1 << a);
    d.p.in[k] = dim;
    d.p.stride[k] = stride;
    d.p.start[k] = ref::SliceStart(begin[size_t(a)], opt->begin_mask() & (1 << a), stride, dim);
    d.p.stop[k] = ref::SliceStop(end[size_t(a)], opt->end_mask() & (1 << a), shrink, stride, dim, d.p.start[k]);
    const int n = ref::SliceSize(d.p.start[k], d.p.stop[k], stride);
    ctx.Need(n > 0 && (!shrink || (d.p.start[k] >= 0 && d.p.start[k] < dim)),
             "axis " + std::to_string(a) + " keeps no element");
    if (!shrink) shape.push_back(n);
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

void Eval(EvalContext& ctx) { ref::StridedSlice(ctx.data<SliceData>().p, ctx.in<uint8_t>(0), ctx.out<uint8_t>(0)); }

}  // namespace

OpRegistration Register_STRIDED_SLICE() {
  return {tflite::BuiltinOperator::STRIDED_SLICE, "STRIDED_SLICE", Prepare, Eval};
}

}  // namespace kws::rt
