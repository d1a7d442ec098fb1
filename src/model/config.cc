#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <toml++/toml.h>

#include "features/options_io.h"
#include "model/blocks.h"
#include "util/bounded_read.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/text.h"
#include "util/toml_json.h"

namespace kws {
namespace {

using json = nlohmann::json;

// [data] and [data.synth].
const std::vector<settings::Setting<DataConfig>>& DataConfigSettings() {
  static const std::vector<settings::Setting<DataConfig>> s = [] {
    auto all = settings::Derived<DataConfig>(DataSettings());
    for (auto& x : settings::Nested("synth", &DataConfig::synth, SynthDataSettings())) all.push_back(std::move(x));
    return all;
  }();
  return s;
}

// Every setting and its default. The file is merged into this tree: a key that is not here is an
// error, and an override is typed by the value here. [features] and [model] are open tables
// (checked by FeatureOptions::Validate / MakeLayer).
json DefaultTable() {
  const FeatureOptions f;
  return json{
      {"features", FeatureOptionsToJsonObject(f)},
      {"model", {{"layers", json::array()}}},
      {"train", settings::ToJson(TrainSettings(), TrainOptions{})},
      {"prune", settings::ToJson(PruneSettings(), PruneOptions{})},
      {"export", settings::ToJson(ExportSettings(), ExportConfigOptions{})},
      {"data", settings::ToJson(DataConfigSettings(), DataConfig{})},
      {"detector", DetectorOptionsToJson(DetectorOptions{})},
  };
}

// Keys whose value may be an integer or one keyword.
bool IntOrKeyword(const std::string& path, std::string* keyword) {
  if (path.rfind("train.", 0) == 0) *keyword = settings::KeywordOf(TrainSettings(), path.substr(6));
  else if (path.rfind("prune.", 0) == 0) *keyword = settings::KeywordOf(PruneSettings(), path.substr(6));
  else keyword->clear();
  return !keyword->empty();
}

// Settings whose default does not show their type: lists that start empty, and values given either as one
// item or as a list. Merge and ApplyOverride type them from this table, not from the default value.
struct ListSetting {
  const char* path;
  enum Item { kString, kNumber, kInteger } item;
  enum StringForm { kNoString, kSplitOnCommas, kOneItem } string_form;  // what a lone string means
  const char* keyword;  // a string allowed in place of the list, or nullptr
  const char* want;     // the error message's "must be ..."
};
constexpr ListSetting kListSettings[] = {
    {"data.labels", ListSetting::kString, ListSetting::kSplitOnCommas, nullptr, "an array of names or \"yes,no\""},
    {"train.class_weights", ListSetting::kNumber, ListSetting::kNoString, "balanced",
     "an array of numbers (one per label) or \"balanced\""},
    {"train.class_repeats", ListSetting::kInteger, ListSetting::kNoString, nullptr,
     "an array of integers (one per label)"},
    {"train.teacher.checkpoint", ListSetting::kString, ListSetting::kOneItem, nullptr, "a path or an array of paths"},
};

const ListSetting* FindListSetting(const std::string& path) {
  for (const ListSetting& s : kListSettings)
    if (path == s.path) return &s;
  return nullptr;
}

// A file's value for a ListSetting, in the form the defaults tree keeps.
json MergeListSetting(const ListSetting& s, const json& v) {
  if (v.is_array()) return v;
  if (v.is_string()) {
    const std::string text = v.get<std::string>();
    if (s.keyword && text == s.keyword) return v;
    if (s.string_form == ListSetting::kSplitOnCommas) return json(SplitList(text));
    if (s.string_form == ListSetting::kOneItem) return v;
  }
  throw UsageError(std::string(s.path) + ": must be " + s.want);
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
    } else if (const ListSetting* list = FindListSetting(path)) {
      d = MergeListSetting(*list, v);
      continue;
    } else if (path == "model.layers") {
      if (!v.is_array()) throw UsageError(path + ": must be an array of tables ([[model.layers]])");
    } else if (path == "train.teacher.layers") {
      if (!v.is_array()) throw UsageError(path + ": must be an array of tables ([[train.teacher.layers]])");
    } else if (std::string(TypeName(d)) != TypeName(v)) {
      throw UsageError(path + ": must be " + TypeName(d) + " (got " + TypeName(v) + ")");
    }
    d = v;
  }
}


using settings::Bad;

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

  c.train = settings::Read(TrainSettings(), tbl.at("train"), "train");
  c.prune = settings::Read(PruneSettings(), tbl.at("prune"), "prune");
  c.export_options = settings::Read(ExportSettings(), tbl.at("export"), "export");

  c.data = settings::Read(DataConfigSettings(), tbl.at("data"), "data");
  c.detector = DetectorOptionsFromJson(tbl.at("detector"), DetectorOptions{}, source);
  c.Validate();
  return c;
}

}  // namespace

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

  settings::Validate(TrainSettings(), train, "train");
  if (!data.labels.empty()) train.CheckPerLabelLists(data.labels.size());
  settings::Validate(PruneSettings(), prune, "prune");
  settings::Validate(ExportSettings(), export_options, "export");

  settings::Validate(DataConfigSettings(), data, "data");
  if (data.synth.enabled && !data.labels.empty())
    for (const auto& w : data.synth.words)
      if (std::find(data.labels.begin(), data.labels.end(), w) == data.labels.end())
        Bad("data.synth.words", "'" + w + "' is not one of data.labels");
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
  if (const ListSetting* list = FindListSetting(path)) {
    const bool list_form = value.find(',') != std::string::npos || value.rfind('[', 0) == 0;
    if ((list->keyword && value == list->keyword) || (list->string_form == ListSetting::kOneItem && !list_form)) {
      cur = value;
      return;
    }
    // Typed by a first element for the list parser below (an empty list reads as strings).
    if (list->item == ListSetting::kNumber) cur = json::array({0.0});
    else if (list->item == ListSetting::kInteger) cur = json::array({int64_t(1)});
    else cur = json::array();
  }
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

// Paths a config file gives (train.teacher.config / .checkpoint) are relative to the file, so a recipe
// can name another beside it (made absolute, so the run's config.toml means the same); --set values
// stay relative to the current directory.
namespace {
void ResolveFilePaths(json& tbl, const json& file, const std::string& source) {
  const std::filesystem::path dir = std::filesystem::path(source).parent_path();
  if (dir.empty()) return;
  auto resolve = [&](const json& v) {
    if (!v.is_string() || v.get<std::string>().empty() || std::filesystem::path(v.get<std::string>()).is_absolute())
      return v;
    return json(std::filesystem::absolute(dir / v.get<std::string>()).lexically_normal().string());
  };
  for (const char* key : {"/train/teacher/config", "/train/teacher/checkpoint"}) {  // a path, or an array of them
    const json::json_pointer p(key);
    if (!file.contains(p)) continue;
    const json& v = file.at(p);
    if (v.is_string()) {
      tbl[p] = resolve(v);
    } else if (v.is_array()) {
      json a = json::array();
      for (const json& x : v) a.push_back(resolve(x));
      tbl[p] = a;
    }
  }
}
}  // namespace

Config ParseConfig(const std::string& text, const std::string& source, const std::vector<std::string>& overrides) {
  const toml::table parsed = ParseToml(text, source);
  json file = TomlToJson(parsed, source);
  json tbl = DefaultTable();
  try {
    PrepareFeatureDefaults(tbl, file);
    Merge(tbl, file, "");
  } catch (const Error& e) {
    throw UsageError(source + ": " + e.what());
  }
  ResolveFilePaths(tbl, file, source);
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

std::vector<settings::Doc> ConfigSettingDocs() {
  std::vector<settings::Doc> out;
  auto leaves = [&](const json& j, const std::string& prefix, const std::string& help, auto&& self) -> void {
    for (auto& [k, v] : j.items()) {
      if (v.is_object()) self(v, prefix + "." + k, help, self);
      else out.push_back({prefix + "." + k, settings::ValueText(v), help});
    }
  };
  leaves(FeatureOptionsToJsonObject(FeatureOptions{}), "features", "features/features.h FeatureOptions", leaves);
  out.push_back({"model.layers", "[]", "[[model.layers]] tables: type + the layer's fields"});
  for (auto& d : settings::Docs(TrainSettings(), "train")) out.push_back(d);
  for (auto& d : settings::Docs(PruneSettings(), "prune")) out.push_back(d);
  for (auto& d : settings::Docs(ExportSettings(), "export")) out.push_back(d);
  for (auto& d : settings::Docs(DataConfigSettings(), "data")) out.push_back(d);
  leaves(DetectorOptionsToJson(DetectorOptions{}), "detector", "tflite/detector_options.h DetectorOptions", leaves);
  return out;
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
