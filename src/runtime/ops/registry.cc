// The op registry: OpRegistration Register_X() for every KWS_OP(X) in op_list.h.
#include <array>

#include "runtime/op.h"

namespace kws::rt {

#define KWS_OP(NAME) OpRegistration Register_##NAME();
#include "runtime/ops/op_list.h"
#undef KWS_OP

namespace {

struct Registry {
  std::vector<OpRegistration> ops;
  std::vector<const OpRegistration*> all;
  std::array<const OpRegistration*, 256> by_code{};
  std::string names;
  Registry() {
#define KWS_OP(NAME) ops.push_back(Register_##NAME());
#include "runtime/ops/op_list.h"
#undef KWS_OP
    for (const auto& r : ops) {
      all.push_back(&r);
      by_code[size_t(r.code) & 255] = &r;
      names += (names.empty() ? "" : ", ") + std::string(r.name);
    }
  }
};

const Registry& Get() {
  static const Registry r;
  return r;
}

}  // namespace

const OpRegistration* FindOp(int code) {
  if (code < 0 || code > 255) return nullptr;
  const OpRegistration* r = Get().by_code[size_t(code)];
  return r && int(r->code) == code ? r : nullptr;
}

const std::vector<const OpRegistration*>& AllOps() { return Get().all; }
std::string SupportedOpsList() { return Get().names; }

const char* BuiltinName(int code) {
  if (const OpRegistration* r = FindOp(code)) return r->name;
  const char* n = (code >= 0 && code <= int(tflite::BuiltinOperator::MAX))
                      ? tflite::EnumNameBuiltinOperator(static_cast<tflite::BuiltinOperator>(code))
                      : "";
  return (n && *n) ? n : "unknown operator";
}

}  // namespace kws::rt
