#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <toml++/toml.h>

#include "data/dataset.h"
#include "features/options_io.h"
#include "model/blocks.h"
#include "synth/synth.h"
#include "util/bounded_read.h"
#include "util/error.h"
#include "util/fs.h"

namespace kws {
namespace {

using json = nlohmann::json;

// Every setting and its default. The file is merged into this tree: a key that is not here is an
// error, and an override is typed by the value here. [features] and [model] are open tables
// (checked by FeatureOptions::Validate / MakeLayer).
json DefaultTable() {
  const FeatureOptions f;
  const TrainOptions t;
  const PruneOptions p;
  const DataOptions d;
  const AugmentOptions a;
  return json{
      {"features", FeatureOptionsToJsonObject(f)},
      {"model", {{"layers", json::array()}}},
      {"train",
       {{"epochs", t.epochs},
        {"batch_size", t.batch_size},
        {"optimizer", t.optimizer},
        {"momentum", t.momentum},
        {"beta1", t.beta1},
        {"beta2", t.beta2},
        {"epsilon", t.epsilon},
        {"weight_decay", t.weight_decay},
        {"class_weights", json::array()},
        {"label_smoothing", t.label_smoothing},
        {"class_repeats", json::array()},
        {"ema_decay", t.ema_decay},
        {"distill_teachers", t.distill_teachers},
        {"distill_weight", t.distill_weight},
        {"distill_temperature", t.distill_temperature},
        {"teacher", {{"layers", json::array()}, {"prune", t.teacher_prune}}},
        {"seed", int64_t(t.seed)},
        {"validation", t.validation},
        {"learning_rate",
         {{"schedule", t.lr.schedule},
          {"initial", t.lr.initial},
          {"end", t.lr.end},
          {"power", t.lr.power},
          {"decay_steps", "auto"}}},
        {"augment",
         {{"enabled", t.augment},
          {"copies", t.augment_copies},
          {"shift_ms", a.shift_ms},
          {"background_prob", a.background_prob},
          {"background_volume", a.background_volume},
          {"silence_volume", a.silence_volume},
          {"speed_min", a.speed_min},
          {"speed_max", a.speed_max},
          {"pitch_min", a.pitch_min},
          {"pitch_max", a.pitch_max},
          {"gain_db", a.gain_db},
          {"background_mode", a.background_mode},
          {"snr_min_db", a.snr_min_db},
          {"snr_max_db", a.snr_max_db},
          {"time_masks", a.time_masks},
          {"time_mask_frames", a.time_mask_frames},
          {"freq_masks", a.freq_masks},
          {"freq_mask_bins", a.freq_mask_bins},
          {"quiet_prob", a.quiet_prob},
          {"quiet_max_db", a.quiet_max_db},
          {"background_dir", t.augment_background_dir}}}}},
      {"prune",
       {{"enabled", p.enabled},
        {"schedule", p.schedule},
        {"initial_sparsity", p.initial_sparsity},
        {"final_sparsity", p.final_sparsity},
        {"power", p.power},
        {"begin_step", p.begin_step},
        {"end_step", "end"},
        {"begin_fraction", p.begin_fraction},
        {"end_fraction", p.end_fraction},
        {"frequency", p.frequency},
        {"structured", p.structured}}},
      {"data",
       {{"dirs", json::array()},
        {"labels", json::array()},
        {"silence_count", d.silence_count},
        {"unknown_ratio", d.unknown_ratio},
        {"unknown_subclasses", d.unknown_subclasses},
        {"cache", d.cache},
        {"skip_bad_files", d.skip_bad_files},
        {"min_peak_dbfs", d.min_peak_dbfs},
        {"skip_silent", d.skip_silent},
        {"synth",
         {{"enabled", d.synth.enabled},
          {"words", json::array()},
          {"per_word", d.synth.per_word},
          {"seed", int64_t(d.synth.seed)},
          {"speakers", d.synth.speakers},
          {"engines", json::array()},
          {"unknown_words", json::array()},
          {"silence", d.synth.silence},
          {"background", d.synth.background},
          {"dir", d.synth.dir}}}}},
      {"detector", DetectorOptionsToJson(DetectorOptions{})},
  };
}

// Keys whose value may be an integer or one keyword.
bool IntOrKeyword(const std::string& path, std::string* keyword) {
  if (path == "train.learning_rate.decay_steps") return *keyword = "auto", true;
  if (path == "prune.end_step") return *keyword = "end", true;
  return false;
}

const char* TypeName(const json& v) {
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "a table";
  return "a value";
}

json TomlToJson(const toml::node& n, const std::string& where) {
  if (auto t = n.as_table()) {
    json j = json::object();
    for (auto&& [k, v] : *t) j[std::string(k.str())] = TomlToJson(v, where + "." + std::string(k.str()));
    return j;
  }
  if (auto a = n.as_array()) {
    json j = json::array();
    for (auto& v : *a) j.push_back(TomlToJson(v, where));
    return j;
  }
  if (auto v = n.as_integer()) return json(int64_t(v->get()));
  if (auto v = n.as_floating_point()) return json(double(v->get()));
  if (auto v = n.as_boolean()) return json(bool(v->get()));
  if (auto v = n.as_string()) return json(std::string(v->get()));
  throw UsageError(where + ": dates and times are not settings");
}

void JsonToToml(const json& j, toml::table& out);
toml::array JsonArrayToToml(const json& j) {
  toml::array a;
  for (auto& v : j) {
    if (v.is_object()) {
      toml::table t;
      JsonToToml(v, t);
      a.push_back(std::move(t));
    } else if (v.is_array()) {
      a.push_back(JsonArrayToToml(v));
    } else if (v.is_boolean()) {
      a.push_back(v.get<bool>());
    } else if (v.is_number_integer()) {
      a.push_back(v.get<int64_t>());
    } else if (v.is_number()) {
      a.push_back(v.get<double>());
    } else if (v.is_string()) {
      a.push_back(v.get<std::string>());
    }
  }
  return a;
}
void JsonToToml(const json& j, toml::table& out) {
  for (auto& [k, v] : j.items()) {
    if (v.is_object()) {
      toml::table t;
      JsonToToml(v, t);
      out.insert_or_assign(k, std::move(t));
    } else if (v.is_array()) {
      out.insert_or_assign(k, JsonArrayToToml(v));
    } else if (v.is_boolean()) {
      out.insert_or_assign(k, v.get<bool>());
    } else if (v.is_number_integer()) {
      out.insert_or_assign(k, v.get<int64_t>());
    } else if (v.is_number()) {
      out.insert_or_assign(k, v.get<double>());
    } else if (v.is_string()) {
      out.insert_or_assign(k, v.get<std::string>());
    }
  }
}

// [features] frontend = "micro" (features/features.h): the defaults' features table becomes the
// micro front end's (frontend, sample_rate, clip_seconds and a full 'micro' table, so --set
// features.micro.KEY works); tf.signal keys in the file are an error. A file without 'frontend'
// keeps the defaults untouched (existing configs resolve to the same table, byte for byte).
void PrepareFeatureDefaults(json& def, const json& file) {
  if (!file.is_object() || !file.contains("features") || !file["features"].is_object()) return;
  const json& f = file["features"];
  if (!f.contains("frontend")) {
    if (f.contains("micro")) throw UsageError("features.micro: applies only with features.frontend = \"micro\"");
    return;
  }
  if (!f["frontend"].is_string()) throw UsageError("features.frontend: must be \"tf.signal\" or \"micro\"");
  json& d = def["features"];
  d["frontend"] = "tf.signal";
  if (f["frontend"].get<std::string>() != "micro") return;
  for (auto& [k, v] : f.items())
    if (IsTfOnlyFeatureKey(k))
      throw UsageError("features." + k + ": a tf.signal setting, unused with frontend = \"micro\" (set the micro "
                       "front end in [features.micro])");
  for (auto it = d.begin(); it != d.end();) it = IsTfOnlyFeatureKey(it.key()) ? d.erase(it) : std::next(it);
  d["micro"] = MicroOptionsToJson(micro::FrontendOptions::MicroSpeech());
}

// Merges `file` into `def` (in place), checking keys and types against the defaults.
void Merge(json& def, const json& file, const std::string& prefix) {
  for (auto& [k, v] : file.items()) {
    const std::string path = prefix.empty() ? k : prefix + "." + k;
    if (path == "model.blocks") {  // optional: absent from the defaults, so configs without it resolve unchanged
      if (!v.is_array()) throw UsageError(path + ": must be an array of tables ([[model.blocks]])");
      def[k] = v;
      continue;
    }
    if (!def.contains(k)) throw UsageError(path + ": unknown setting");
    json& d = def[k];
    if (d.is_object()) {
      if (!v.is_object()) throw UsageError(path + ": must be a table");
      Merge(d, v, path);
      continue;
    }
    std::string kw;
    if (IntOrKeyword(path, &kw)) {
      if (!(v.is_number_integer() || (v.is_string() && v.get<std::string>() == kw)))
        throw UsageError(path + ": must be an integer or \"" + kw + "\"");
    } else if (d.is_number_float()) {
      if (!v.is_number()) throw UsageError(path + ": must be a number (got " + TypeName(v) + ")");
      d = v.get<double>();
      continue;
    } else if (path == "data.labels") {
      if (v.is_string()) {
        json arr = json::array();
        std::stringstream ss(v.get<std::string>());
        std::string item;
        while (std::getline(ss, item, ',')) {
          auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
          if (b != std::string::npos) arr.push_back(item.substr(b, e - b + 1));
        }
        d = arr;
        continue;
      }
      if (!v.is_array()) throw UsageError(path + ": must be an array of names or \"yes,no\"");
    } else if (path == "model.layers") {
      if (!v.is_array()) throw UsageError(path + ": must be an array of tables ([[model.layers]])");
    } else if (path == "train.teacher.layers") {
      if (!v.is_array()) throw UsageError(path + ": must be an array of tables ([[train.teacher.layers]])");
    } else if (path == "train.class_weights") {
      if (!(v.is_array() || (v.is_string() && v.get<std::string>() == "balanced")))
        throw UsageError(path + ": must be an array of numbers (one per label) or \"balanced\"");
    } else if (std::string(TypeName(d)) != TypeName(v)) {
      throw UsageError(path + ": must be " + TypeName(d) + " (got " + TypeName(v) + ")");
    }
    d = v;
  }
}

double Num(const json& t, const char* a, const char* b) { return t.at(a).at(b).get<double>(); }

[[noreturn]] void Bad(const std::string& path, const std::string& what) { throw UsageError(path + ": " + what); }

std::string Fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

void CheckFinite(const std::string& path, double v) {
  if (!std::isfinite(v)) Bad(path, "must be a finite number (got " + Fmt(v) + ")");
}
void CheckPositive(const std::string& path, double v) {
  CheckFinite(path, v);
  if (!(v > 0)) Bad(path, "must be > 0 (got " + Fmt(v) + ")");
}
void CheckRange(const std::string& path, double v, double lo, double hi, bool lo_open = false,
                bool hi_open = false) {
  CheckFinite(path, v);
  if ((lo_open ? v <= lo : v < lo) || (hi_open ? v >= hi : v > hi))
    Bad(path, "must be in " + std::string(lo_open ? "(" : "[") + Fmt(lo) + ", " + Fmt(hi) + (hi_open ? ")" : "]") +
                  " (got " + Fmt(v) + ")");
}

Config FromTable(const json& tbl, const std::string& source) {
  Config c;
  c.source = source;
  c.table = tbl;
  {
    toml::table ft;
    JsonToToml(tbl.at("features"), ft);
    c.features = FeatureOptionsFromToml(ft, FeatureOptions{}, "features");
  }

  c.layers = ExpandBlocks(tbl.at("model").at("layers"), tbl.at("model").value("blocks", json()));

  const json& t = tbl.at("train");
  auto& tr = c.train;
  tr.epochs = t.at("epochs").get<int>();
  tr.batch_size = t.at("batch_size").get<int>();
  tr.optimizer = t.at("optimizer").get<std::string>();
  tr.momentum = t.at("momentum").get<double>();
  tr.beta1 = t.at("beta1").get<double>();
  tr.beta2 = t.at("beta2").get<double>();
  tr.epsilon = t.at("epsilon").get<double>();
  tr.weight_decay = t.at("weight_decay").get<double>();
  {
    const json& cw = t.at("class_weights");
    tr.class_weights.clear();
    tr.class_weights_balanced = cw.is_string();
    if (cw.is_string() && cw.get<std::string>() != "balanced")
      Bad("train.class_weights", "must be an array of numbers (one per label) or \"balanced\"");
    if (cw.is_array())
      for (auto& w : cw) {
        if (!w.is_number()) Bad("train.class_weights", "must be an array of numbers (got " + w.dump() + ")");
        tr.class_weights.push_back(w.get<double>());
      }
  }
  tr.label_smoothing = t.at("label_smoothing").get<double>();
  tr.class_repeats.clear();
  for (auto& r : t.at("class_repeats")) {
    if (!r.is_number_integer()) Bad("train.class_repeats", "must be an array of integers (got " + r.dump() + ")");
    const int64_t v = r.get<int64_t>();
    if (v < 1 || v > 1000) Bad("train.class_repeats", "every count must be in [1, 1000] (got " + std::to_string(v) + ")");
    tr.class_repeats.push_back(int(v));
  }
  tr.ema_decay = t.at("ema_decay").get<double>();
  tr.distill_teachers = t.at("distill_teachers").get<int>();
  tr.distill_weight = t.at("distill_weight").get<double>();
  tr.distill_temperature = t.at("distill_temperature").get<double>();
  tr.teacher_layers = t.at("teacher").at("layers");
  tr.teacher_prune = t.at("teacher").at("prune").get<bool>();
  const int64_t seed = t.at("seed").get<int64_t>();
  if (seed < 0) Bad("train.seed", "must be >= 0 (got " + std::to_string(seed) + ")");
  tr.seed = uint64_t(seed);
  tr.validation = t.at("validation").get<double>();
  tr.lr.schedule = t.at("learning_rate").at("schedule").get<std::string>();
  tr.lr.initial = Num(t, "learning_rate", "initial");
  tr.lr.end = Num(t, "learning_rate", "end");
  tr.lr.power = Num(t, "learning_rate", "power");
  const json& ds = t.at("learning_rate").at("decay_steps");
  tr.lr.decay_steps = ds.is_string() ? 0 : ds.get<long>();
  if (ds.is_number_integer() && tr.lr.decay_steps < 1)
    Bad("train.learning_rate.decay_steps", "must be >= 1 or \"auto\" (got " + std::to_string(tr.lr.decay_steps) + ")");
  const json& au = t.at("augment");
  tr.augment = au.at("enabled").get<bool>();
  tr.augment_copies = au.at("copies").get<int>();
  tr.augment_options.shift_ms = au.at("shift_ms").get<double>();
  tr.augment_options.background_prob = au.at("background_prob").get<double>();
  tr.augment_options.background_volume = au.at("background_volume").get<double>();
  tr.augment_options.silence_volume = au.at("silence_volume").get<double>();
  tr.augment_options.speed_min = au.at("speed_min").get<double>();
  tr.augment_options.speed_max = au.at("speed_max").get<double>();
  tr.augment_options.pitch_min = au.at("pitch_min").get<double>();
  tr.augment_options.pitch_max = au.at("pitch_max").get<double>();
  tr.augment_options.gain_db = au.at("gain_db").get<double>();
  tr.augment_options.background_mode = au.at("background_mode").get<std::string>();
  tr.augment_options.snr_min_db = au.at("snr_min_db").get<double>();
  tr.augment_options.snr_max_db = au.at("snr_max_db").get<double>();
  tr.augment_options.time_masks = au.at("time_masks").get<int>();
  tr.augment_options.time_mask_frames = au.at("time_mask_frames").get<int>();
  tr.augment_options.freq_masks = au.at("freq_masks").get<int>();
  tr.augment_options.freq_mask_bins = au.at("freq_mask_bins").get<int>();
  tr.augment_options.quiet_prob = au.at("quiet_prob").get<double>();
  tr.augment_options.quiet_max_db = au.at("quiet_max_db").get<double>();
  tr.augment_background_dir = au.at("background_dir").get<std::string>();

  const json& p = tbl.at("prune");
  auto& pr = c.prune;
  pr.enabled = p.at("enabled").get<bool>();
  pr.schedule = p.at("schedule").get<std::string>();
  pr.initial_sparsity = p.at("initial_sparsity").get<double>();
  pr.final_sparsity = p.at("final_sparsity").get<double>();
  pr.power = p.at("power").get<double>();
  pr.begin_step = p.at("begin_step").get<long>();
  const json& es = p.at("end_step");
  pr.end_step = es.is_string() ? -1 : es.get<long>();
  if (es.is_number_integer() && pr.end_step < 0)
    Bad("prune.end_step", "must be >= 0 or \"end\" (got " + std::to_string(pr.end_step) + ")");
  pr.begin_fraction = p.at("begin_fraction").get<double>();
  pr.end_fraction = p.at("end_fraction").get<double>();
  pr.frequency = p.at("frequency").get<int>();
  pr.structured = p.at("structured").get<bool>();

  const json& d = tbl.at("data");
  for (auto& l : d.at("labels")) {
    if (!l.is_string()) Bad("data.labels", "must be label names (strings)");
    c.data.labels.push_back(l.get<std::string>());
  }
  c.data.silence_count = d.at("silence_count").get<int>();
  c.data.unknown_ratio = d.at("unknown_ratio").get<double>();
  c.data.unknown_subclasses = d.at("unknown_subclasses").get<bool>();
  c.data.cache = d.at("cache").get<bool>();
  c.data.skip_bad_files = d.at("skip_bad_files").get<bool>();
  for (auto& v : d.at("dirs")) {
    if (!v.is_string() || v.get<std::string>().empty()) Bad("data.dirs", "must be an array of folder names");
    c.data.dirs.push_back(v.get<std::string>());
  }
  c.data.min_peak_dbfs = d.at("min_peak_dbfs").get<double>();
  c.data.skip_silent = d.at("skip_silent").get<bool>();
  {
    const json& sy = d.at("synth");
    auto& so = c.data.synth;
    auto strings = [](const json& arr, const char* path) {
      std::vector<std::string> out;
      for (auto& v : arr) {
        if (!v.is_string()) Bad(path, "must be an array of strings");
        out.push_back(v.get<std::string>());
      }
      return out;
    };
    so.enabled = sy.at("enabled").get<bool>();
    so.words = strings(sy.at("words"), "data.synth.words");
    so.per_word = sy.at("per_word").get<int>();
    const int64_t sseed = sy.at("seed").get<int64_t>();
    if (sseed < 0) Bad("data.synth.seed", "must be >= 0 (got " + std::to_string(sseed) + ")");
    so.seed = uint64_t(sseed);
    so.speakers = sy.at("speakers").get<int>();
    so.engines = strings(sy.at("engines"), "data.synth.engines");
    so.unknown_words = strings(sy.at("unknown_words"), "data.synth.unknown_words");
    so.silence = sy.at("silence").get<int>();
    so.background = sy.at("background").get<bool>();
    so.dir = sy.at("dir").get<std::string>();
  }
  c.detector = DetectorOptionsFromJson(tbl.at("detector"), DetectorOptions{}, source);
  c.Validate();
  return c;
}

}  // namespace

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

void Config::Validate() const {
  try {
    features.Validate();
  } catch (const Error& e) {
    const std::string m = e.what();
    throw UsageError(m.rfind("features", 0) == 0 ? m : "features: " + m);
  }
  if (!layers.is_array() || layers.empty()) Bad("model.layers", "no layers ([[model.layers]] tables)");
  detector.Validate(SettingNames::kConfig);
  for (size_t i = 0; i < layers.size(); ++i)
    if (!layers[i].is_object() || !layers[i].contains("type"))
      Bad("model.layers." + std::to_string(i), "must be a table with a \"type\"");

  const auto& t = train;
  if (t.epochs < 1) Bad("train.epochs", "must be >= 1 (got " + std::to_string(t.epochs) + ")");
  if (t.batch_size < 1) Bad("train.batch_size", "must be >= 1 (got " + std::to_string(t.batch_size) + ")");
  if (t.optimizer != "adam" && t.optimizer != "sgd")
    Bad("train.optimizer", "must be \"adam\" or \"sgd\" (got \"" + t.optimizer + "\")");
  CheckRange("train.momentum", t.momentum, 0, 1, false, true);
  CheckRange("train.beta1", t.beta1, 0, 1, false, true);
  CheckRange("train.beta2", t.beta2, 0, 1, false, true);
  CheckPositive("train.epsilon", t.epsilon);
  CheckRange("train.weight_decay", t.weight_decay, 0, 1);
  CheckRange("train.label_smoothing", t.label_smoothing, 0, 1, false, true);
  CheckRange("train.ema_decay", t.ema_decay, 0, 1, false, true);
  if (t.distill_teachers < 0 || t.distill_teachers > 16)
    Bad("train.distill_teachers", "must be in [0, 16] (got " + std::to_string(t.distill_teachers) + ")");
  CheckRange("train.distill_weight", t.distill_weight, 0, 1);
  CheckRange("train.distill_temperature", t.distill_temperature, 0, 100, true);
  for (size_t i = 0; i < t.teacher_layers.size(); ++i)
    if (!t.teacher_layers[i].is_object() || !t.teacher_layers[i].contains("type"))
      Bad("train.teacher.layers." + std::to_string(i), "must be a table with a \"type\"");
  if (!t.teacher_layers.empty() && t.distill_teachers == 0)
    Bad("train.teacher.layers", "set train.distill_teachers (how many teachers) to use them");
  for (double w : t.class_weights) {
    CheckFinite("train.class_weights", w);
    if (w <= 0) Bad("train.class_weights", "every weight must be > 0 (got " + Fmt(w) + ")");
  }
  if (!data.labels.empty()) t.CheckPerLabelLists(data.labels.size());
  CheckRange("train.validation", t.validation, 0, 1, false, true);
  const auto& lr = t.lr;
  if (lr.schedule != "polynomial" && lr.schedule != "cosine" && lr.schedule != "constant")
    Bad("train.learning_rate.schedule",
        "must be \"polynomial\", \"cosine\" or \"constant\" (got \"" + lr.schedule + "\")");
  CheckPositive("train.learning_rate.initial", lr.initial);
  CheckFinite("train.learning_rate.end", lr.end);
  if (lr.end < 0) Bad("train.learning_rate.end", "must be >= 0 (got " + Fmt(lr.end) + ")");
  if (lr.end > lr.initial)
    Bad("train.learning_rate.end", "must be <= train.learning_rate.initial (" + Fmt(lr.initial) + ")");
  CheckPositive("train.learning_rate.power", lr.power);
  if (t.augment_copies < 0)
    Bad("train.augment.copies", "must be >= 0 (got " + std::to_string(t.augment_copies) + ")");
  CheckRange("train.augment.shift_ms", t.augment_options.shift_ms, 0, 1000);
  CheckRange("train.augment.background_prob", t.augment_options.background_prob, 0, 1);
  CheckRange("train.augment.background_volume", t.augment_options.background_volume, 0, 10);
  CheckRange("train.augment.silence_volume", t.augment_options.silence_volume, 0, 10);
  {
    const AugmentOptions& a = t.augment_options;
    CheckRange("train.augment.speed_min", a.speed_min, 0.5, 2);
    CheckRange("train.augment.speed_max", a.speed_max, a.speed_min, 2);
    CheckRange("train.augment.pitch_min", a.pitch_min, 0.5, 2);
    CheckRange("train.augment.pitch_max", a.pitch_max, a.pitch_min, 2);
    CheckRange("train.augment.gain_db", a.gain_db, 0, 40);
    if (a.background_mode != "volume" && a.background_mode != "snr")
      Bad("train.augment.background_mode", "must be \"volume\" or \"snr\" (got \"" + a.background_mode + "\")");
    CheckRange("train.augment.snr_min_db", a.snr_min_db, -30, 80);
    CheckRange("train.augment.snr_max_db", a.snr_max_db, a.snr_min_db, 80);
    CheckRange("train.augment.time_masks", a.time_masks, 0, 20);
    CheckRange("train.augment.time_mask_frames", a.time_mask_frames, 1, 1000);
    CheckRange("train.augment.freq_masks", a.freq_masks, 0, 20);
    CheckRange("train.augment.freq_mask_bins", a.freq_mask_bins, 1, 1000);
    CheckRange("train.augment.quiet_prob", a.quiet_prob, 0, 1);
    CheckRange("train.augment.quiet_max_db", a.quiet_max_db, 0, 80);
  }

  const auto& p = prune;
  if (p.schedule != "polynomial" && p.schedule != "constant")
    Bad("prune.schedule", "must be \"polynomial\" or \"constant\" (got \"" + p.schedule + "\")");
  CheckRange("prune.initial_sparsity", p.initial_sparsity, 0, 1, false, true);
  CheckRange("prune.final_sparsity", p.final_sparsity, 0, 1, false, true);
  CheckPositive("prune.power", p.power);
  if (p.begin_step < 0) Bad("prune.begin_step", "must be >= 0 (got " + std::to_string(p.begin_step) + ")");
  if (p.end_step >= 0 && p.end_step < p.begin_step)
    Bad("prune.end_step", "must be >= prune.begin_step (" + std::to_string(p.begin_step) + ")");
  CheckFinite("prune.begin_fraction", p.begin_fraction);
  CheckFinite("prune.end_fraction", p.end_fraction);
  if (p.begin_fraction > 1) Bad("prune.begin_fraction", "must be <= 1 (got " + Fmt(p.begin_fraction) + ")");
  if (p.end_fraction > 1) Bad("prune.end_fraction", "must be <= 1 (got " + Fmt(p.end_fraction) + ")");
  if (p.begin_fraction >= 0 && p.end_fraction >= 0 && p.end_fraction < p.begin_fraction)
    Bad("prune.end_fraction", "must be >= prune.begin_fraction");
  if (p.frequency < 1) Bad("prune.frequency", "must be >= 1 (got " + std::to_string(p.frequency) + ")");

  for (size_t i = 0; i < data.labels.size(); ++i) {
    if (data.labels[i].empty()) Bad("data.labels", "empty label name");
    for (size_t j = 0; j < i; ++j)
      if (data.labels[j] == data.labels[i]) Bad("data.labels", "label '" + data.labels[i] + "' given twice");
  }
  if (data.silence_count < 0) Bad("data.silence_count", "must be >= 0");
  {
    const SynthDataOptions& so = data.synth;
    for (const auto& w : so.words) {
      if (w == "_silence_" || w == "_unknown_") Bad("data.synth.words", "'" + w + "' is not a word to speak");
      synth::ValidateWord(w, "data.synth.words");
      if (so.enabled && !data.labels.empty() &&
          std::find(data.labels.begin(), data.labels.end(), w) == data.labels.end())
        Bad("data.synth.words", "'" + w + "' is not one of data.labels");
    }
    for (const auto& w : so.unknown_words) synth::ValidateWord(w, "data.synth.unknown_words");
    if (so.per_word < 1 || so.per_word > 100000)
      Bad("data.synth.per_word", "must be in [1, 100000] (got " + std::to_string(so.per_word) + ")");
    if (so.speakers < 0) Bad("data.synth.speakers", "must be >= 0 (got " + std::to_string(so.speakers) + ")");
    if (so.silence < -1) Bad("data.synth.silence", "must be >= 0, or -1 for the default (got " + std::to_string(so.silence) + ")");
    for (const auto& e : so.engines) {
      bool known = e == "espeak";
      for (auto eng : synth::AllEngines()) known = known || synth::EngineName(eng) == e;
      if (!known) Bad("data.synth.engines", "unknown engine '" + e + "' (espeak-ng, flite, festival)");
    }
  }
  CheckFinite("data.min_peak_dbfs", data.min_peak_dbfs);
  if (data.min_peak_dbfs > 0 || data.min_peak_dbfs < -200)
    Bad("data.min_peak_dbfs", "must be in [-200, 0] dBFS (got " + Fmt(data.min_peak_dbfs) + ")");
  CheckFinite("data.unknown_ratio", data.unknown_ratio);
  if (data.unknown_ratio < 0) Bad("data.unknown_ratio", "must be >= 0");
  if (data.unknown_subclasses && !data.labels.empty() &&
      std::find(data.labels.begin(), data.labels.end(), kUnknownLabel) == data.labels.end())
    Bad("data.unknown_subclasses", "needs _unknown_ among data.labels");
}

std::string Config::ToToml() const {
  toml::table t;
  JsonToToml(table, t);
  std::ostringstream os;
  os << "# kws resolved configuration (every setting, defaults filled in)\n" << t << "\n";
  return os.str();
}

void ApplyOverride(json& tbl, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError("--set " + assignment + ": expected key=value (e.g. train.epochs=10)");
  const std::string path = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  json* node = &tbl;
  std::string walked;
  size_t pos = 0;
  while (true) {
    const auto dot = path.find('.', pos);
    const std::string seg = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    walked += (walked.empty() ? "" : ".") + seg;
    if (seg.empty()) throw UsageError("--set " + path + ": empty key segment");
    if (node->is_array()) {
      char* endp = nullptr;
      const long idx = std::strtol(seg.c_str(), &endp, 10);
      if (*endp != 0 || idx < 0 || idx >= long(node->size()))
        throw UsageError("--set " + path + ": unknown setting '" + walked + "' (index out of range)");
      node = &(*node)[size_t(idx)];
    } else if (node->is_object()) {
      if (!node->contains(seg)) throw UsageError("--set " + path + ": unknown setting '" + walked + "'");
      node = &(*node)[seg];
    } else {
      throw UsageError("--set " + path + ": unknown setting '" + walked + "'");
    }
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  json& cur = *node;
  auto fail = [&](const char* want) {
    throw UsageError("--set " + path + "=" + value + ": must be " + want);
  };
  std::string kw;
  if (path == "train.class_weights") {  // "balanced" or numbers (the default [] has no element type)
    if (value == "balanced") {
      cur = value;
      return;
    }
    cur = json::array({0.0});  // typed as numbers for the list parser below
  }
  if (path == "train.class_repeats") cur = json::array({int64_t(1)});  // typed as integers (default [])
  auto parse_int = [&](int64_t* out) {
    char* e = nullptr;
    errno = 0;
    const long long v = std::strtoll(value.c_str(), &e, 10);
    if (value.empty() || *e != 0 || errno) return false;
    *out = v;
    return true;
  };
  if (IntOrKeyword(path, &kw)) {
    int64_t v;
    if (value == kw) cur = kw;
    else if (parse_int(&v)) cur = v;
    else fail(("an integer or \"" + kw + "\"").c_str());
  } else if (cur.is_boolean()) {
    if (value == "true" || value == "1") cur = true;
    else if (value == "false" || value == "0") cur = false;
    else fail("true or false");
  } else if (cur.is_number_integer()) {
    int64_t v;
    if (!parse_int(&v)) fail("an integer");
    cur = v;
  } else if (cur.is_number()) {
    char* e = nullptr;
    const double v = std::strtod(value.c_str(), &e);
    if (value.empty() || *e != 0) fail("a number");
    cur = v;
  } else if (cur.is_string()) {
    cur = value;
  } else if (cur.is_array() && (cur.empty() || cur[0].is_string() || cur[0].is_number())) {
    // "a,b,c" or "[a, b, c]": strings, or numbers typed by the first element.
    std::string v = value;
    if (v.size() >= 2 && v.front() == '[' && v.back() == ']') v = v.substr(1, v.size() - 2);
    const bool numbers = !cur.empty() && cur[0].is_number();
    const bool ints = numbers && cur[0].is_number_integer();
    json arr = json::array();
    std::stringstream ss(v);
    std::string item;
    while (std::getline(ss, item, ',')) {
      const auto b = item.find_first_not_of(" \t\"'"), e = item.find_last_not_of(" \t\"'");
      if (b == std::string::npos) continue;
      item = item.substr(b, e - b + 1);
      if (!numbers) {
        arr.push_back(item);
        continue;
      }
      char* endp = nullptr;
      if (ints) {
        const long long x = std::strtoll(item.c_str(), &endp, 10);
        if (*endp) fail("a list of integers");
        arr.push_back(int64_t(x));
      } else {
        const double x = std::strtod(item.c_str(), &endp);
        if (*endp) fail("a list of numbers");
        arr.push_back(x);
      }
    }
    cur = arr;
  } else {
    throw UsageError("--set " + path + ": is a table or array of tables, set its fields instead");
  }
}

// A config that is valid until the --set overrides are applied: the first override that makes it
// invalid is named as the culprit ("--set train.epochs=-1: train.epochs: must be >= 1"). Returns
// when the file alone is already invalid (the file is to blame).
static void BlameOverride(const json& file_only, const std::vector<std::string>& overrides, const std::string& source) {
  try {
    FromTable(file_only, source);
  } catch (const Error&) {
    return;
  }
  json tbl = file_only;
  for (const std::string& o : overrides) {
    ApplyOverride(tbl, o);
    try {
      FromTable(tbl, source);
    } catch (const Error& e) {
      throw UsageError("--set " + o + ": " + e.what());
    }
  }
}

Config ParseConfig(const std::string& text, const std::string& source, const std::vector<std::string>& overrides) {
  toml::table parsed;
  try {
    parsed = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw UsageError(source + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + ": " +
                     std::string(e.description()));
  }
  json file = TomlToJson(parsed, source);
  json tbl = DefaultTable();
  try {
    PrepareFeatureDefaults(tbl, file);
    Merge(tbl, file, "");
  } catch (const Error& e) {
    throw UsageError(source + ": " + e.what());
  }
  const json file_only = tbl;
  for (auto& o : overrides) ApplyOverride(tbl, o);
  try {
    return FromTable(tbl, source);
  } catch (const Error& e) {
    if (!overrides.empty()) BlameOverride(file_only, overrides, source);
    throw UsageError(source + ": " + e.what());
  }
}

Config LoadConfig(const std::string& path, const std::vector<std::string>& overrides) {
  return ParseConfig(ReadFileLimited(path, Limits().config_bytes, "config"), path, overrides);
}

Config ConfigFromJson(const json& table, const std::string& source) {
  json tbl = DefaultTable();
  PrepareFeatureDefaults(tbl, table);
  Merge(tbl, table, "");
  return FromTable(tbl, source);
}

json ResolveLayers(const json& layers, int num_classes, bool* softmax_output) {
  json out = layers;
  bool sm = false;
  if (!out.empty() && out.back().is_object() && out.back().value("type", "") == "softmax") {
    if (out.back().size() > 1 + (out.back().contains("name") ? 1 : 0))
      throw UsageError("layer 'softmax': takes no settings");
    out.erase(out.size() - 1);
    sm = true;
  }
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].is_object() && out[i].value("type", "") == "softmax")
      throw UsageError("layer " + std::to_string(i) + " 'softmax': only allowed as the last layer");
  for (size_t i = out.size(); i-- > 0;) {
    if (out[i].is_object() && out[i].value("type", "") == "dense") {
      if (!out[i].contains("units")) out[i]["units"] = num_classes;
      break;
    }
  }
  if (softmax_output) *softmax_output = sm;
  return out;
}

}  // namespace kws
