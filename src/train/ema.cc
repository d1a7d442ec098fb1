#include "train/ema.h"

#include <algorithm>

#include "model/checkpoint.h"
#include "model/model.h"
#include "util/error.h"

namespace kws {

WeightAverage::WeightAverage(double decay, Model& model) : decay_(decay) {
  for (Param* p : model.Params()) tensors_.push_back(p);
  for (Param* p : model.Buffers()) tensors_.push_back(p);
  for (Param* p : tensors_) shadow_.push_back(p->value);
  live_.resize(tensors_.size());
}

void WeightAverage::Update(long step) {
  if (applied_) throw InternalError("WeightAverage::Update while the averages are applied");
  const double d = std::min(decay_, double(1 + step) / double(10 + step));
  const float a = float(1.0 - d);
  for (size_t t = 0; t < tensors_.size(); ++t) {
    const std::vector<float>& v = tensors_[t]->value;
    std::vector<float>& s = shadow_[t];
    for (size_t i = 0; i < s.size(); ++i) s[i] -= a * (s[i] - v[i]);
  }
}

void WeightAverage::Apply() {
  if (applied_) throw InternalError("WeightAverage::Apply twice");
  for (size_t t = 0; t < tensors_.size(); ++t) {
    Param& p = *tensors_[t];
    live_[t] = p.value;
    std::copy(shadow_[t].begin(), shadow_[t].end(), p.value.begin());
    for (size_t i = 0; i < p.mask.size(); ++i)
      if (!p.mask[i]) p.value[i] = 0.0f;
  }
  applied_ = true;
}

void WeightAverage::Restore() {
  if (!applied_) throw InternalError("WeightAverage::Restore without Apply");
  for (size_t t = 0; t < tensors_.size(); ++t)
    std::copy(live_[t].begin(), live_[t].end(), tensors_[t]->value.begin());
  applied_ = false;
}

void WeightAverage::Save(Checkpoint& c) const {
  for (size_t t = 0; t < tensors_.size(); ++t)
    c.tensors.push_back({"ema/" + tensors_[t]->name, tensors_[t]->dims, shadow_[t]});
}

void WeightAverage::Load(const Checkpoint& c, const std::string& path) {
  for (size_t t = 0; t < tensors_.size(); ++t) {
    const std::string name = "ema/" + tensors_[t]->name;
    const NamedTensor* it = c.Find(name);
    if (!it) throw BadInput(path + ": no tensor '" + name + "' (train.ema_decay needs it to resume)");
    if (it->data.size() != shadow_[t].size())
      throw BadInput(path + ": tensor '" + name + "' has " + std::to_string(it->data.size()) + " values, expected " +
                     std::to_string(shadow_[t].size()));
    shadow_[t] = it->data;
  }
}

}  // namespace kws
