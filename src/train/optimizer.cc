#include "train/optimizer.h"

#include <cmath>

#include "model/checkpoint.h"
#include "util/error.h"

namespace kws {

namespace {
bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

void OptimizerOptions::Validate() const {
  auto bad = [](const std::string& m) { throw UsageError("optimizer: " + m); };
  if (type != "adam" && type != "sgd") bad("type '" + type + "' (expected adam or sgd)");
  if (!(beta1 >= 0 && beta1 < 1)) bad("beta1 must be in [0, 1)");
  if (!(beta2 >= 0 && beta2 < 1)) bad("beta2 must be in [0, 1)");
  if (!(epsilon > 0)) bad("epsilon must be > 0");
  if (!(momentum >= 0 && momentum < 1)) bad("momentum must be in [0, 1)");
  if (!(weight_decay >= 0)) bad("weight_decay must be >= 0");
}

nlohmann::json OptimizerOptions::ToJson() const {
  return {{"type", type},         {"beta1", beta1},       {"beta2", beta2},
          {"epsilon", epsilon},   {"momentum", momentum}, {"nesterov", nesterov},
          {"weight_decay", weight_decay}, {"decay_all_params", decay_all_params}};
}

OptimizerOptions OptimizerOptions::FromJson(const nlohmann::json& j) {
  OptimizerOptions o;
  if (!j.is_object()) throw UsageError("optimizer: expected a table/object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto& v = it.value();
    auto num = [&]() {
      if (!v.is_number()) throw UsageError("optimizer: '" + k + "' must be a number");
      return v.get<double>();
    };
    auto boolean = [&]() {
      if (!v.is_boolean()) throw UsageError("optimizer: '" + k + "' must be true or false");
      return v.get<bool>();
    };
    if (k == "type") {
      if (!v.is_string()) throw UsageError("optimizer: 'type' must be a string");
      o.type = v.get<std::string>();
    } else if (k == "beta1") o.beta1 = num();
    else if (k == "beta2") o.beta2 = num();
    else if (k == "epsilon") o.epsilon = num();
    else if (k == "momentum") o.momentum = num();
    else if (k == "nesterov") o.nesterov = boolean();
    else if (k == "weight_decay") o.weight_decay = num();
    else if (k == "decay_all_params") o.decay_all_params = boolean();
    else throw UsageError("optimizer: unknown field '" + k + "'");
  }
  o.Validate();
  return o;
}

Optimizer::Optimizer(const OptimizerOptions& opts) : o_(opts) { o_.Validate(); }

void Optimizer::Step(const std::vector<Param*>& params, double lr) {
  ++t_;
  const bool adam = o_.type == "adam";
  // alpha in float32 exactly as Keras/TF computes it (beta powers, 1 - beta in float32): with
  // beta2 = 0.999, float32(1 - beta2) = 0.0010000467, which enters both v and alpha and cancels.
  const float b1f = float(o_.beta1), b2f = float(o_.beta2), tf = float(t_);
  const float alpha = adam ? float(lr) * std::sqrt(1.0f - std::pow(b2f, tf)) / (1.0f - std::pow(b1f, tf)) : float(lr);
  const float b1 = float(o_.beta1), b2 = float(o_.beta2), eps = float(o_.epsilon);
  const float mom = float(o_.momentum), flr = float(lr);
  for (Param* p : params) {
    if (p->grad.size() != p->value.size())
      throw InternalError("optimizer: param '" + p->name + "' has no gradient buffer");
    const size_t n = p->value.size();
    const float wd = (o_.weight_decay > 0 && (o_.decay_all_params || EndsWith(p->name, "kernel")))
                         ? float(o_.weight_decay) : 0.0f;
    auto& slot = slots_[p->name];
    float* w = p->value.data();
    const float* g = p->grad.data();
    if (adam) {
      auto& m = slot["m"];
      auto& v = slot["v"];
      if (m.size() != n) m.assign(n, 0.0f);
      if (v.size() != n) v.assign(n, 0.0f);
      for (size_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * w[i];
        m[i] += (gi - m[i]) * (1.0f - b1);
        v[i] += (gi * gi - v[i]) * (1.0f - b2);
        w[i] -= (m[i] * alpha) / (std::sqrt(v[i]) + eps);
      }
    } else {
      auto& vel = slot["velocity"];
      if (vel.size() != n) vel.assign(n, 0.0f);
      for (size_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * w[i];
        if (mom == 0.0f) {
          w[i] -= flr * gi;
          continue;
        }
        vel[i] = mom * vel[i] - flr * gi;
        w[i] += o_.nesterov ? mom * vel[i] - flr * gi : vel[i];
      }
    }
    if (!p->mask.empty()) {
      if (p->mask.size() != n) throw InternalError("optimizer: mask of '" + p->name + "' has the wrong size");
      for (size_t i = 0; i < n; ++i)
        if (!p->mask[i]) w[i] = 0.0f;
    }
  }
}

void ZeroGrads(const std::vector<Param*>& params) {
  for (Param* p : params) std::fill(p->grad.begin(), p->grad.end(), 0.0f);
}

void ApplyMasks(const std::vector<Param*>& params) {
  for (Param* p : params) {
    if (p->mask.empty()) continue;
    if (p->mask.size() != p->value.size()) throw InternalError("mask of '" + p->name + "' has the wrong size");
    for (size_t i = 0; i < p->value.size(); ++i)
      if (!p->mask[i]) p->value[i] = 0.0f;
  }
}

void CaptureOptimizer(Optimizer& opt, Checkpoint& c) {
  c.state["optimizer_steps"] = opt.steps();
  c.state["optimizer"] = opt.options().ToJson();
  for (auto& [pname, slots] : opt.Slots())
    for (auto& [slot, v] : slots)
      c.tensors.push_back({"optimizer/" + pname + "/" + slot, {int(v.size())}, v});
}

void RestoreOptimizer(const Checkpoint& c, Optimizer& opt) {
  opt.set_steps(c.state.value("optimizer_steps", 0L));
  auto& slots = opt.Slots();
  slots.clear();
  const std::string pre = "optimizer/";
  for (auto& t : c.tensors) {
    if (t.name.rfind(pre, 0) != 0) continue;
    const auto slash = t.name.rfind('/');
    slots[t.name.substr(pre.size(), slash - pre.size())][t.name.substr(slash + 1)] = t.data;
  }
}

}  // namespace kws
