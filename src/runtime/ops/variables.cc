// Resource variables: VAR_HANDLE names a variable (container, shared_name),
// READ_VARIABLE copies its value out, ASSIGN_VARIABLE copies a value in. A
// variable's shape and type are fixed by the first assignment or read
// prepared; its value persists across Invoke calls (Interpreter::
// ResetVariables() zeroes it and lets CALL_ONCE initialise it again).
#include <cstring>

#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct VariableData : OpData {
  int variable = -1;
  size_t bytes = 0;
};

void PrepareHandle(PrepareContext& ctx) {
  ops::Arity(ctx, 0, 0, 1);
  ctx.Need(ctx.out(0).type == DType::kResource, "output must be a resource tensor");
  const auto* opt = ctx.op()->builtin_options_as_VarHandleOptions();
  const std::string container = opt && opt->container() ? opt->container()->str() : "";
  const std::string name = opt && opt->shared_name() ? opt->shared_name()->str() : "";
  ctx.out(0).variable = ctx.FindOrAddVariable(container, name);
  ctx.SetOutputShape(0, ctx.out(0).shape);
  ctx.MakeData<VariableData>().variable = ctx.out(0).variable;
  ctx.SetKernel("");
}

// The variable behind input 0 (a resource tensor written by VAR_HANDLE).
Variable& Resource(PrepareContext& ctx, VariableData& d) {
  const Tensor& h = ctx.in(0);
  ctx.Need(h.type == DType::kResource && h.variable >= 0, "input 0 is not a variable handle (VAR_HANDLE)");
  d.variable = h.variable;
  return ctx.variable(h.variable);
}

std::string Describe(const Variable& v) {
  return "variable '" + v.shared_name + "' (" + DTypeName(v.type) + " " + ShapeStr(v.shape) + ")";
}

void Define(Variable& v, const Tensor& t) {
  v.defined = true;
  v.shape = t.shape;
  v.type = t.type;
  v.bytes = t.bytes;
}

void PrepareRead(PrepareContext& ctx) {
  ops::Arity(ctx, 1, 1, 1);
  auto& d = ctx.MakeData<VariableData>();
  Variable& v = Resource(ctx, d);
  Tensor& y = ctx.out(0);
  ctx.Need(y.type != DType::kResource, "output must hold data");
  if (!v.defined) {
    ctx.Need(!y.dynamic(), "reads variable '" + v.shared_name + "' before any assignment fixes its shape");
    Define(v, y);
  }
  ctx.Need(y.type == v.type, std::string("output is ") + DTypeName(y.type) + ", " + Describe(v));
  ctx.SetOutputShape(0, v.shape);
  d.bytes = v.bytes;
  if (v.type == DType::kInt8) ctx.SetKernel("int8");
}

void PrepareAssign(PrepareContext& ctx) {
  ops::Arity(ctx, 2, 2, 0);
  auto& d = ctx.MakeData<VariableData>();
  Variable& v = Resource(ctx, d);
  const Tensor& x = ctx.in(1);
  ctx.Need(x.type != DType::kResource, "value must hold data");
  if (!v.defined) Define(v, x);
  ctx.Need(x.type == v.type && x.shape == v.shape, "assigns " + std::string(DTypeName(x.type)) + " " +
                                                       ShapeStr(x.shape) + " to " + Describe(v) +
                                                       " (kws needs one shape per variable)");
  d.bytes = v.bytes;
  if (v.type == DType::kInt8) ctx.SetKernel("int8");
}

void EvalHandle(EvalContext&) {}

void EvalRead(EvalContext& ctx) {
  const auto& d = ctx.data<VariableData>();
  std::memcpy(ctx.out<uint8_t>(0), ctx.graph().variables[size_t(d.variable)].data, d.bytes);
}

void EvalAssign(EvalContext& ctx) {
  const auto& d = ctx.data<VariableData>();
  std::memcpy(ctx.graph().variables[size_t(d.variable)].data, ctx.in<uint8_t>(1), d.bytes);
}

}  // namespace

OpRegistration Register_VAR_HANDLE() {
  return {tflite::BuiltinOperator::VAR_HANDLE, "VAR_HANDLE", PrepareHandle, EvalHandle};
}
OpRegistration Register_READ_VARIABLE() {
  return {tflite::BuiltinOperator::READ_VARIABLE, "READ_VARIABLE", PrepareRead, EvalRead};
}
OpRegistration Register_ASSIGN_VARIABLE() {
  return {tflite::BuiltinOperator::ASSIGN_VARIABLE, "ASSIGN_VARIABLE", PrepareAssign, EvalAssign};
}

}  // namespace kws::rt
