#include "train/schedule.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace kws {

void LrSchedule::Validate() const {
  auto bad = [](const std::string& m) { throw UsageError("lr_schedule: " + m); };
  if (type != "constant" && type != "polynomial" && type != "cosine" && type != "exponential")
    bad("type '" + type + "' (expected constant, polynomial, cosine or exponential)");
  if (!(initial > 0) || !std::isfinite(initial)) bad("initial learning rate must be > 0");
  if (type != "constant" && decay_steps < 1) bad("decay_steps must be >= 1");
  if (type == "polynomial" && !(end >= 0)) bad("end learning rate must be >= 0");
  if (type == "polynomial" && !(power > 0)) bad("power must be > 0");
  if (type == "cosine" && !(alpha >= 0 && alpha <= 1)) bad("alpha must be in [0, 1]");
  if (type == "exponential" && !(decay_rate > 0)) bad("decay_rate must be > 0");
}

double LrSchedule::operator()(long step) const {
  if (step < 0) step = 0;
  if (type == "polynomial") {
    double s = double(std::min(step, decay_steps));
    return (initial - end) * std::pow(1.0 - s / double(decay_steps), power) + end;
  }
  if (type == "cosine") {
    double s = double(std::min(step, decay_steps));
    double cosine = 0.5 * (1.0 + std::cos(M_PI * s / double(decay_steps)));
    return initial * ((1.0 - alpha) * cosine + alpha);
  }
  if (type == "exponential") return initial * std::pow(decay_rate, double(step) / double(decay_steps));
  return initial;
}

nlohmann::json LrSchedule::ToJson() const {
  nlohmann::json j = {{"type", type}, {"initial", initial}};
  if (type == "polynomial") j.update({{"end", end}, {"decay_steps", decay_steps}, {"power", power}});
  if (type == "cosine") j.update({{"decay_steps", decay_steps}, {"alpha", alpha}});
  if (type == "exponential") j.update({{"decay_steps", decay_steps}, {"decay_rate", decay_rate}});
  return j;
}

LrSchedule LrSchedule::FromJson(const nlohmann::json& j) {
  LrSchedule s;
  if (!j.is_object()) throw UsageError("lr_schedule: expected a table/object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto& v = it.value();
    auto num = [&]() {
      if (!v.is_number()) throw UsageError("lr_schedule: '" + k + "' must be a number");
      return v.get<double>();
    };
    if (k == "type") {
      if (!v.is_string()) throw UsageError("lr_schedule: 'type' must be a string");
      s.type = v.get<std::string>();
    } else if (k == "initial") s.initial = num();
    else if (k == "end") s.end = num();
    else if (k == "decay_steps") {
      if (!v.is_number_integer()) throw UsageError("lr_schedule: 'decay_steps' must be an integer");
      s.decay_steps = v.get<long>();
    } else if (k == "power") s.power = num();
    else if (k == "alpha") s.alpha = num();
    else if (k == "decay_rate") s.decay_rate = num();
    else throw UsageError("lr_schedule: unknown field '" + k + "'");
  }
  s.Validate();
  return s;
}

}  // namespace kws
