#include "model/train_options.h"

#include <cmath>

namespace kws {

using settings::Bad;
using settings::Member;
using json = nlohmann::json;

namespace {

// [train.class_weights]: numbers, one per label, or "balanced".
settings::Setting<TrainOptions> ClassWeights() {
  return settings::Custom<TrainOptions>(
      "class_weights", "loss weight per label (data.labels order), \"balanced\" = n / (classes * count); [] = 1 each",
      [](const TrainOptions& t) {
        if (t.class_weights_balanced) return json("balanced");
        json a = json::array();
        for (double w : t.class_weights) a.push_back(w);
        return a;
      },
      [](TrainOptions& t, const json& cw, const std::string& path) {
        t.class_weights.clear();
        t.class_weights_balanced = cw.is_string();
        if (cw.is_string() && cw.get<std::string>() != "balanced")
          Bad(path, "must be an array of numbers (one per label) or \"balanced\"");
        if (cw.is_array())
          for (auto& w : cw) {
            if (!w.is_number()) Bad(path, "must be an array of numbers (got " + w.dump() + ")");
            t.class_weights.push_back(w.get<double>());
          }
      },
      [](const TrainOptions& t, const std::string& path) {
        for (double w : t.class_weights) {
          settings::CheckFinite(path, w);
          if (w <= 0) Bad(path, "every weight must be > 0 (got " + settings::Fmt(w) + ")");
        }
      });
}

settings::Setting<TrainOptions> ClassRepeats() {
  return settings::Custom<TrainOptions>(
      "class_repeats", "uses of each training clip per epoch, one count per label (data.labels order); [] = once",
      [](const TrainOptions& t) {
        json a = json::array();
        for (int r : t.class_repeats) a.push_back(r);
        return a;
      },
      [](TrainOptions& t, const json& j, const std::string& path) {
        t.class_repeats.clear();
        for (auto& r : j) {
          if (!r.is_number_integer()) Bad(path, "must be an array of integers (got " + r.dump() + ")");
          const int64_t v = r.get<int64_t>();
          if (v < 1 || v > 1000) Bad(path, "every count must be in [1, 1000] (got " + std::to_string(v) + ")");
          t.class_repeats.push_back(int(v));
        }
      });
}

settings::Setting<TrainOptions> TeacherLayers() {
  return settings::Custom<TrainOptions>(
      "teacher.layers", "the teachers' network ([[train.teacher.layers]], as [[model.layers]]); [] = the model's",
      [](const TrainOptions& t) { return t.teacher_layers; },
      [](TrainOptions& t, const json& j, const std::string&) { t.teacher_layers = j; },
      [](const TrainOptions& t, const std::string& path) {
        for (size_t i = 0; i < t.teacher_layers.size(); ++i)
          if (!t.teacher_layers[i].is_object() || !t.teacher_layers[i].contains("type"))
            Bad(path + "." + std::to_string(i), "must be a table with a \"type\"");
        if (!t.teacher_layers.empty() && t.distill_teachers == 0)
          Bad(path, "set train.distill_teachers (how many teachers) to use them");
      });
}

// teacher.config, and the combinations of teacher settings that mean nothing.
settings::Setting<TrainOptions> TeacherSource() {
  return settings::Custom<TrainOptions>(
      "teacher.config", "a recipe whose features, model, [train] and [prune] the teachers are trained with",
      [](const TrainOptions& t) { return json(t.teacher_config); },
      [](TrainOptions& t, const json& j, const std::string& path) {
        if (!j.is_string()) Bad(path, "must be a path (a string)");
        t.teacher_config = j.get<std::string>();
      },
      [](const TrainOptions& t, const std::string& path) {
        if (!t.teacher_config.empty() && !t.teacher_layers.empty())
          Bad(path, "give train.teacher.config or [[train.teacher.layers]], not both");
        if (!t.teacher_checkpoints.empty() && (t.distill_teachers > 0 || !t.teacher_layers.empty()))
          Bad("train.teacher.checkpoint", "names the teachers: leave train.distill_teachers at 0 and "
              "[[train.teacher.layers]] empty");
      });
}

// teacher.checkpoint: "" (none), one path, or an array of paths (written back as it came: a string for one).
settings::Setting<TrainOptions> TeacherCheckpoints() {
  return settings::Custom<TrainOptions>(
      "teacher.checkpoint",
      "teachers trained before (a kws checkpoint, same labels; or an array of them, averaged) instead of training any",
      [](const TrainOptions& t) {
        if (t.teacher_checkpoints.size() <= 1)
          return json(t.teacher_checkpoints.empty() ? std::string() : t.teacher_checkpoints[0]);
        return json(t.teacher_checkpoints);
      },
      [](TrainOptions& t, const json& j, const std::string& path) {
        t.teacher_checkpoints.clear();
        if (j.is_string()) {
          if (!j.get<std::string>().empty()) t.teacher_checkpoints.push_back(j.get<std::string>());
          return;
        }
        if (!j.is_array()) Bad(path, "must be a path or an array of paths");
        for (const json& x : j) {
          if (!x.is_string() || x.get<std::string>().empty())
            Bad(path, "must be an array of paths (got " + x.dump() + ")");
          t.teacher_checkpoints.push_back(x.get<std::string>());
        }
      });
}

// An integer >= `lo` or a keyword (stored as `keyword_value`): decay_steps = "auto", end_step = "end".
template <class T>
settings::Setting<T> IntOrWord(const std::string& key, long T::*member, const std::string& word, long keyword_value,
                               long lo, const std::string& help) {
  auto s = settings::Custom<T>(
      key, help,
      [=](const T& t) { return t.*member == keyword_value ? json(word) : json(t.*member); },
      [=](T& t, const json& j, const std::string& path) {
        t.*member = j.is_string() ? keyword_value : j.get<long>();
        if (j.is_number_integer() && t.*member < lo)
          Bad(path, "must be >= " + std::to_string(lo) + " or \"" + word + "\" (got " + std::to_string(t.*member) + ")");
      });
  s.keyword = word;
  return s;
}

std::vector<settings::Setting<LearningRateOptions>> LearningRateSettings() {
  using L = LearningRateOptions;
  return {
      Member("schedule", &L::schedule, "\"polynomial\", \"cosine\" or \"constant\"",
             settings::OneOf({"polynomial", "cosine", "constant"})),
      Member("initial", &L::initial, "learning rate at step 0", settings::Positive()),
      Member("end", &L::end, "final learning rate (polynomial; cosine floor)", settings::Finite())
          .Also([](const L& l, const std::string& p) {
            if (l.end < 0) Bad(p, "must be >= 0 (got " + settings::Fmt(l.end) + ")");
            if (l.end > l.initial) Bad(p, "must be <= train.learning_rate.initial (" + settings::Fmt(l.initial) + ")");
          }),
      Member("power", &L::power, "polynomial decay power", settings::Positive()),
      IntOrWord<L>("decay_steps", &L::decay_steps, "auto", 0, 1, "steps of the decay; \"auto\" = every training step"),
  };
}

std::vector<settings::Setting<TrainOptions>> MakeTrainSettings() {
  using T = TrainOptions;
  using settings::InRange;
  std::vector<settings::Setting<T>> s = {
      Member("epochs", &T::epochs, "passes over the training items", settings::AtLeast(1)),
      Member("batch_size", &T::batch_size, "clips per step", settings::AtLeast(1)),
      Member("optimizer", &T::optimizer, "\"adam\" or \"sgd\"", settings::OneOf({"adam", "sgd"})),
      Member("momentum", &T::momentum, "sgd momentum", InRange(0, 1, false, true)),
      Member("beta1", &T::beta1, "adam beta1", InRange(0, 1, false, true)),
      Member("beta2", &T::beta2, "adam beta2", InRange(0, 1, false, true)),
      Member("epsilon", &T::epsilon, "adam epsilon", settings::Positive()),
      Member("weight_decay", &T::weight_decay, "L2 weight decay", InRange(0, 1)),
      Member("label_smoothing", &T::label_smoothing, "target = (1 - eps) one-hot + eps / classes",
             InRange(0, 1, false, true)),
      Member("ema_decay", &T::ema_decay, "exponential moving average of the weights kept (0 = off)",
             InRange(0, 1, false, true)),
      Member("distill_teachers", &T::distill_teachers, "teachers trained first for distillation (0 = off)",
             settings::IntInRange(0, 16)),
      Member("distill_weight", &T::distill_weight, "weight of the teachers' probabilities in the target",
             InRange(0, 1)),
      Member("distill_temperature", &T::distill_temperature, "softmax temperature of the teachers",
             InRange(0, 100, true)),
      TeacherLayers(),
      Member("teacher.prune", &T::teacher_prune, "prune the teachers like the model"),
      Member("teacher.synth", &T::teacher_synth,
             "teachers trained in the run also learn from the [data.synth] clips (false: real speech only)"),
      TeacherSource(),
      TeacherCheckpoints(),
      ClassWeights(),
      ClassRepeats(),
      Member("seed", &T::seed, "seed of initialization, split, shuffling and augmentation"),
      Member("validation", &T::validation, "speaker-disjoint validation fraction of the training items",
             InRange(0, 1, false, true)),
      Member("validation_data", &T::validation_data,
             "one of the --data folders: its clips are the validation set (\"\" = the fraction above)"),
  };
  for (auto& x : settings::Nested("learning_rate", &T::lr, LearningRateSettings())) s.push_back(std::move(x));
  s.push_back(Member("augment.enabled", &T::augment, "augment the training clips"));
  s.push_back(Member("augment.copies", &T::augment_copies,
                     "0 = fresh augmentation every epoch; K = K copies computed once (epoch e uses copy e % K)",
                     settings::AtLeast(0)));
  for (auto& x : settings::Nested("augment", &T::augment_options, AugmentSettings())) s.push_back(std::move(x));
  s.push_back(Member("augment.background_dir", &T::augment_background_dir,
                     "folder of noise recordings; \"\" = the data's _background_noise_"));
  return s;
}

}  // namespace

const std::vector<settings::Setting<TrainOptions>>& TrainSettings() {
  static const std::vector<settings::Setting<TrainOptions>> s = MakeTrainSettings();
  return s;
}

const std::vector<settings::Setting<PruneOptions>>& PruneSettings() {
  using P = PruneOptions;
  using settings::InRange;
  auto fraction_at_most_1 = [](double P::*m) {
    return [m](const P& p, const std::string& path) {
      if (p.*m > 1) Bad(path, "must be <= 1 (got " + settings::Fmt(p.*m) + ")");
    };
  };
  static const std::vector<settings::Setting<P>> s = {
      Member("enabled", &P::enabled, "magnitude pruning during training"),
      Member("schedule", &P::schedule, "\"polynomial\" (TFMOT PolynomialDecay) or \"constant\"",
             settings::OneOf({"polynomial", "constant"})),
      Member("initial_sparsity", &P::initial_sparsity, "sparsity at begin_step", InRange(0, 1, false, true)),
      Member("final_sparsity", &P::final_sparsity, "sparsity reached at end_step", InRange(0, 1, false, true)),
      Member("power", &P::power, "polynomial schedule power", settings::Positive()),
      Member("begin_step", &P::begin_step, "first pruning step").Also([](const P& p, const std::string& path) {
        if (p.begin_step < 0) Bad(path, "must be >= 0 (got " + std::to_string(p.begin_step) + ")");
      }),
      IntOrWord<P>("end_step", &P::end_step, "end", -1, 0, "step the final sparsity is reached; \"end\" = last step")
          .Also([](const P& p, const std::string& path) {
            if (p.end_step >= 0 && p.end_step < p.begin_step)
              Bad(path, "must be >= prune.begin_step (" + std::to_string(p.begin_step) + ")");
          }),
      Member("begin_fraction", &P::begin_fraction, ">= 0: begin_step = this fraction of all training steps",
             settings::Finite())
          .Also(fraction_at_most_1(&P::begin_fraction)),
      Member("end_fraction", &P::end_fraction, ">= 0: end_step = this fraction of all training steps",
             settings::Finite())
          .Also(fraction_at_most_1(&P::end_fraction))
          .Also([](const P& p, const std::string& path) {
            if (p.begin_fraction >= 0 && p.end_fraction >= 0 && p.end_fraction < p.begin_fraction)
              Bad(path, "must be >= prune.begin_fraction");
          }),
      Member("frequency", &P::frequency, "steps between mask updates", settings::AtLeast(1)),
      Member("structured", &P::structured, "prune whole filters (by L2 norm) instead of single weights"),
  };
  return s;
}

const std::vector<settings::Setting<ExportConfigOptions>>& ExportSettings() {
  using E = ExportConfigOptions;
  static const std::vector<settings::Setting<E>> s = {
      Member("int8_weights", &E::int8_weights,
             "int8 weight scales: \"per-tensor\", \"per-channel\" or \"fit\" (per-channel where it helps most, "
             "within max_bytes)",
             settings::OneOf({"per-tensor", "per-channel", "fit"})),
      Member("max_bytes", &E::max_bytes, "int8_weights = \"fit\": the int8 file's budget in bytes (0 = none)")
          .Also([](const E& e, const std::string& path) {
            if (e.max_bytes < 0) Bad(path, "must be >= 0 (got " + std::to_string(e.max_bytes) + ")");
            if (e.int8_weights == "fit" && e.max_bytes == 0)
              Bad(path, "required (> 0) with export.int8_weights = \"fit\"");
          }),
      Member("calibration_count", &E::calibration_count, "int8: training clips that calibrate activation ranges",
             settings::AtLeast(1)),
  };
  return s;
}

long PruneOptions::BeginStep(long total) const {
  return begin_fraction >= 0 ? long(std::llround(begin_fraction * double(total))) : begin_step;
}
long PruneOptions::EndStep(long total) const {
  if (end_fraction >= 0) return long(std::llround(end_fraction * double(total)));
  return end_step < 0 ? total : end_step;
}

void TrainOptions::CheckPerLabelLists(size_t num_labels) const {
  auto check = [&](const char* path, size_t n, const char* what) {
    if (n != 0 && n != num_labels)
      Bad(path, "has " + std::to_string(n) + " " + what + " for " + std::to_string(num_labels) +
                    " labels (data.labels order)");
  };
  check("train.class_weights", class_weights.size(), "weights");
  check("train.class_repeats", class_repeats.size(), "counts");
}

}  // namespace kws
