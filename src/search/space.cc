#include "search/space.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include <toml++/toml.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/toml_json.h"

namespace kws::search {

using json = nlohmann::json;
namespace fsys = std::filesystem;

namespace {

// The shortest "%.Ng" text that reads back as exactly `v`.
std::string ShortestDouble(double v) {
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // stays a float in TOML and JSON
  return s;
}

double RoundSignificant(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return std::strtod(buf, nullptr);
}

const json* FindSetting(const json& table, const std::string& key) {
  const json* node = &table;
  size_t pos = 0;
  while (true) {
    const size_t dot = key.find('.', pos);
    const std::string seg = key.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (node->is_array()) {
      char* end = nullptr;
      const long i = std::strtol(seg.c_str(), &end, 10);
      if (seg.empty() || *end || i < 0 || i >= long(node->size())) return nullptr;
      node = &(*node)[size_t(i)];
    } else if (node->is_object() && node->contains(seg)) {
      node = &(*node)[seg];
    } else {
      return nullptr;
    }
    if (dot == std::string::npos) return node;
    pos = dot + 1;
  }
}

bool IsSpecTable(const json& v) {
  if (!v.is_object() || v.empty()) return false;
  for (auto& [k, _] : v.items())
    if (k == "min" || k == "max" || k == "values" || k == "log" || k == "step") return true;
  return false;
}

ParamSpec ParseSpec(const std::string& key, const json& v, const std::string& where) {
  ParamSpec p;
  p.key = key;
  if (v.is_array()) {
    if (v.empty()) throw UsageError(where + ": empty list of choices");
    for (auto& x : v) p.choices.push_back(x);
    return p;
  }
  if (!v.is_object()) {  // a fixed value
    p.choices.push_back(v);
    return p;
  }
  for (auto& [k, _] : v.items())
    if (k != "min" && k != "max" && k != "values" && k != "log" && k != "step")
      throw UsageError(where + ": unknown field '" + k + "' (expected values, or min, max, log, step)");
  if (v.contains("values")) {
    if (v.size() != 1) throw UsageError(where + ": 'values' cannot be combined with min/max/log/step");
    return ParseSpec(key, v["values"].is_array() ? v["values"] : json::array({v["values"]}), where);
  }
  if (!v.contains("min") || !v.contains("max")) throw UsageError(where + ": a range needs both min and max");
  for (const char* f : {"min", "max", "step"})
    if (v.contains(f) && !v[f].is_number()) throw UsageError(where + ": " + f + " must be a number");
  if (v.contains("log") && !v["log"].is_boolean()) throw UsageError(where + ": log must be true or false");
  p.min = v["min"].get<double>();
  p.max = v["max"].get<double>();
  p.step = v.value("step", 0.0);
  p.log = v.value("log", false);
  p.integer = v["min"].is_number_integer() && v["max"].is_number_integer() &&
              (!v.contains("step") || v["step"].is_number_integer());
  if (!std::isfinite(p.min) || !std::isfinite(p.max)) throw UsageError(where + ": min and max must be finite");
  if (p.min > p.max)
    throw UsageError(where + ": empty range (min " + ShortestDouble(p.min) + " > max " + ShortestDouble(p.max) + ")");
  if (p.step < 0) throw UsageError(where + ": step must be > 0");
  if (p.log && p.min <= 0) throw UsageError(where + ": a log range needs min > 0");
  if (p.log && p.step > 0) throw UsageError(where + ": log and step cannot be combined");
  return p;
}

// [space] entries: nested tables are dotted keys; a leaf is a list, a {values|min/max} table or a value.
void FlattenSpace(const json& t, const std::string& prefix, const std::string& where, std::vector<ParamSpec>& out) {
  for (auto& [k, v] : t.items()) {
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    if (v.is_object() && !IsSpecTable(v)) {
      if (v.empty()) throw UsageError(where + " " + key + ": empty table");
      FlattenSpace(v, key, where, out);
    } else {
      out.push_back(ParseSpec(key, v, where + " " + key));
    }
  }
}

const std::set<std::string> kSearchKeys = {"seed",  "trials", "base",           "rungs",         "eta",
                                           "quant", "cv",     "bench_runs",     "estimate_margin", "max_candidates",
                                           "zip_estimate_scale"};

int GetInt(const json& t, const char* key, int def, int lo, const std::string& where) {
  if (!t.contains(key)) return def;
  if (!t[key].is_number_integer()) throw UsageError(where + "." + key + ": must be an integer");
  const int64_t v = t[key].get<int64_t>();
  if (v < lo || v > 1000000000) throw UsageError(where + "." + key + ": must be >= " + std::to_string(lo));
  return int(v);
}

void CheckQuant(const std::string& q, const std::string& where) {
  if (q != "float" && q != "dynamic" && q != "int8")
    throw UsageError(where + ": '" + q + "' (expected float, dynamic or int8)");
}

void ParseSearchTable(const json& t, SearchSpace& s, std::vector<std::string>& bases) {
  const std::string where = s.source + ": [search]";
  for (auto& [k, _] : t.items())
    if (!kSearchKeys.count(k)) throw UsageError(where + ": unknown key '" + k + "'");
  s.seed = uint64_t(GetInt(t, "seed", 1, 0, where));
  s.trials = GetInt(t, "trials", 20, 1, where);
  s.eta = GetInt(t, "eta", 3, 2, where);
  s.cv = GetInt(t, "cv", 0, 0, where);
  if (s.cv == 1) throw UsageError(where + ".cv: 0 (validation split) or K >= 2 folds");
  s.bench_runs = GetInt(t, "bench_runs", 300, 1, where);
  s.max_candidates = GetInt(t, "max_candidates", 0, 0, where);
  if (t.contains("quant")) {
    if (!t["quant"].is_string()) throw UsageError(where + ".quant: must be a string");
    s.quant = t["quant"].get<std::string>();
    CheckQuant(s.quant, where + ".quant");
  }
  if (t.contains("estimate_margin")) {
    if (!t["estimate_margin"].is_number() || t["estimate_margin"].get<double>() < 0)
      throw UsageError(where + ".estimate_margin: must be a number >= 0");
    s.estimate_margin = t["estimate_margin"].get<double>();
  }
  if (t.contains("zip_estimate_scale")) {
    const json& z = t["zip_estimate_scale"];
    if (!z.is_number() || !(z.get<double>() >= 0.5 && z.get<double>() <= 2))
      throw UsageError(where + ".zip_estimate_scale: must be a number in 0.5..2");
    s.zip_estimate_scale = z.get<double>();
  }
  if (t.contains("rungs")) {
    const json& r = t["rungs"];
    if (!r.is_array() || r.empty()) throw UsageError(where + ".rungs: must be a non-empty list of epochs");
    for (auto& e : r) {
      if (!e.is_number_integer() || e.get<int64_t>() < 1 || e.get<int64_t>() > 100000)
        throw UsageError(where + ".rungs: epochs must be integers >= 1");
      if (!s.rungs.empty() && e.get<int>() <= s.rungs.back())
        throw UsageError(where + ".rungs: epochs must increase (" + r.dump() + ")");
      s.rungs.push_back(e.get<int>());
    }
  }
  if (t.contains("base")) {
    const json& b = t["base"];
    if (b.is_string()) bases.push_back(b.get<std::string>());
    else if (b.is_array() && !b.empty() && std::all_of(b.begin(), b.end(), [](const json& x) { return x.is_string(); }))
      for (auto& x : b) bases.push_back(x.get<std::string>());
    else throw UsageError(where + ".base: a config file or a non-empty list of them");
  }
}

Family LoadFamily(const std::string& name, const std::string& base, const std::string& dir, const std::string& where) {
  Family f;
  f.name = name;
  f.base = base;
  const fsys::path p = fsys::path(base).is_absolute() ? fsys::path(base) : fsys::path(dir) / base;
  f.path = p.lexically_normal().string();
  try {
    f.text = ReadFile(f.path);
  } catch (const Error& e) {
    throw BadInput(where + ": base config " + e.what());
  }
  return f;
}

void ParseFamilies(const json& fam, const std::string& dir, SearchSpace& s) {
  const std::string where = s.source + ": [family]";
  if (!fam.is_object() || fam.empty()) throw UsageError(where + ": expected [family.NAME] tables");
  for (auto& [name, t] : fam.items()) {
    const std::string w = s.source + ": [family." + name + "]";
    if (!t.is_object() || !t.contains("base") || !t["base"].is_string())
      throw UsageError(w + ": needs base = \"CONFIG.toml\"");
    for (auto& [k, _] : t.items())
      if (k != "base" && k != "space") throw UsageError(w + ": unknown key '" + k + "' (expected base, space)");
    Family f = LoadFamily(name, t["base"].get<std::string>(), dir, w);
    if (t.contains("space")) {
      if (!t["space"].is_object()) throw UsageError(w + ".space: must be a table");
      FlattenSpace(t["space"], "", w + ".space", f.params);
    }
    s.families.push_back(std::move(f));
  }
}

void ParseBudgets(const json& b, SearchSpace& s) {
  const std::string where = s.source + ": [budget]";
  if (!b.is_object()) throw UsageError(where + ": must be a table");
  auto parse_one = [&](const std::string& name, const json& t, const std::string& w) {
    Budget bud;
    bud.name = name;
    for (auto& [k, v] : t.items()) {
      const auto& figs = BudgetFigures();
      if (std::find(figs.begin(), figs.end(), k) == figs.end())
        throw UsageError(w + ": unknown figure '" + k + "' (expected tflite_bytes, zip_bytes, arena_bytes, macs or latency_us)");
      if (!v.is_number() || !(v.get<double>() > 0))
        throw UsageError(w + "." + k + ": must be a number > 0");
      bud.limits[k] = v.get<double>();
    }
    if (bud.limits.empty()) throw UsageError(w + ": no limit (e.g. zip_bytes = 4305)");
    s.budgets.push_back(bud);
  };
  const bool named = !b.empty() && std::all_of(b.begin(), b.end(), [](const json& v) { return v.is_object(); });
  if (named) {
    for (auto& [name, t] : b.items()) parse_one(name, t, s.source + ": [budget." + name + "]");
  } else {
    for (auto& [k, v] : b.items())
      if (v.is_object()) throw UsageError(where + ": either limits or [budget.NAME] tables, not both ('" + k + "')");
    parse_one("default", b, where);
  }
}

// Every value a key can take must be accepted by the base configs it applies to.
void CheckAgainstBases(SearchSpace& s) {
  for (Family& f : s.families) {
    Config base;
    try {
      base = ParseConfig(f.text, f.path);
    } catch (const Error& e) {
      throw Error(e.kind(), s.source + ": base " + e.what());
    }
    std::vector<ParamSpec*> specs;
    for (auto& p : s.params) specs.push_back(&p);
    for (auto& p : f.params) specs.push_back(&p);
    for (ParamSpec* p : specs) {
      const std::string where = s.source + ": [space] " + p->key;
      if (p->key == "export.quant") {
        if (p->is_range()) throw UsageError(where + ": a choice of float, dynamic, int8");
        for (auto& c : p->choices) {
          if (!c.is_string()) throw UsageError(where + ": a choice of float, dynamic, int8");
          CheckQuant(c.get<std::string>(), where);
        }
        continue;
      }
      if (p->key.rfind("export.", 0) == 0) throw UsageError(where + ": unknown setting (export.quant is the one export key)");
      const json* cur = FindSetting(base.table, p->key);
      if (!cur) throw UsageError(where + ": unknown setting in " + f.path);
      if (p->is_range()) {
        if (!cur->is_number()) throw UsageError(where + ": a range needs a numeric setting (it is " + cur->dump() + ")");
        if (cur->is_number_integer() && !p->integer)
          throw UsageError(where + ": an integer setting needs integer min, max (and step)");
        if (!cur->is_number_integer()) p->integer = false;
      }
      std::vector<json> probe = p->is_range() ? std::vector<json>{p->integer ? json(int64_t(p->min)) : json(p->min),
                                                                   p->integer ? json(int64_t(p->max)) : json(p->max)}
                                              : p->choices;
      for (const json& v : probe) {
        try {
          ParseConfig(f.text, f.path, {p->key + "=" + OverrideValue(v)});
        } catch (const Error& e) {
          throw UsageError(where + " = " + v.dump() + ": refused by " + f.path + ": " + e.what());
        }
      }
    }
  }
}

}  // namespace

json ParamSpec::Sample(Rng& rng) const {
  if (!is_range()) return choices[choices.size() == 1 ? 0 : rng.Below(choices.size())];
  if (integer) {
    const int64_t st = step > 0 ? int64_t(step) : 1;
    const int64_t count = (int64_t(max) - int64_t(min)) / st + 1;
    return json(int64_t(min) + st * int64_t(rng.Below(uint64_t(count))));
  }
  double v;
  if (step > 0) {
    const uint64_t count = uint64_t(std::floor((max - min) / step + 1e-9)) + 1;
    v = RoundSignificant(min + step * double(rng.Below(count)), 10);
  } else if (log) {
    v = RoundSignificant(std::exp(rng.Uniform(std::log(min), std::log(max))), 3);
  } else {
    v = RoundSignificant(rng.Uniform(min, max), 3);
  }
  return json(std::clamp(v, min, max));
}

std::string ParamSpec::Describe() const {
  if (!is_range()) {
    json a = json::array();
    for (auto& c : choices) a.push_back(c);
    return a.dump();
  }
  std::string d = ShortestDouble(min) + ".." + ShortestDouble(max);
  if (integer) d = std::to_string(int64_t(min)) + ".." + std::to_string(int64_t(max));
  if (step > 0) d += " step " + ShortestDouble(step);
  if (log) d += " (log)";
  return d;
}

bool SearchSpace::Varies(const std::string& key) const {
  for (auto& p : params)
    if (p.key == key) return true;
  for (auto& f : families)
    for (auto& p : f.params)
      if (p.key == key) return true;
  return false;
}

std::string OverrideValue(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) return ShortestDouble(v.get<double>());
  if (v.is_array()) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + OverrideValue(v[i]);
    return s;
  }
  return v.dump();
}

SearchSpace ParseSpace(const std::string& text, const std::string& source, const std::string& dir) {
  SearchSpace s;
  s.source = source;
  s.text = text;
  const toml::table parsed = ParseToml(text, source);
  const json root = TomlToJson(parsed, source);
  for (auto& [k, _] : root.items())
    if (k != "search" && k != "space" && k != "family" && k != "budget")
      throw UsageError(source + ": unknown table [" + k + "] (expected [search], [space], [family.NAME], [budget])");
  std::vector<std::string> bases;
  if (root.contains("search")) {
    if (!root["search"].is_object()) throw UsageError(source + ": [search] must be a table");
    ParseSearchTable(root["search"], s, bases);
  }
  if (root.contains("family")) {
    if (!bases.empty()) throw UsageError(source + ": [search] base and [family.NAME] tables cannot be combined");
    ParseFamilies(root["family"], dir, s);
  } else {
    if (bases.empty()) throw UsageError(source + ": no base config ([search] base = \"CONFIG.toml\" or [family.NAME])");
    std::set<std::string> names;
    for (auto& b : bases) {
      std::string name = fsys::path(b).stem().string();
      if (!names.insert(name).second) name = b;
      s.families.push_back(LoadFamily(name, b, dir, source + ": [search] base"));
    }
  }
  if (root.contains("space")) {
    if (!root["space"].is_object()) throw UsageError(source + ": [space] must be a table");
    FlattenSpace(root["space"], "", source + ": [space]", s.params);
  }
  if (root.contains("budget")) ParseBudgets(root["budget"], s);
  if (s.budgets.empty()) s.budgets.push_back(Budget{});  // no limit: every trial is within "default"
  std::set<std::string> keys;
  for (auto& p : s.params)
    if (!keys.insert(p.key).second) throw UsageError(source + ": [space] " + p.key + ": given twice");
  for (auto& f : s.families)
    for (auto& p : f.params)
      if (keys.count(p.key)) throw UsageError(source + ": [family." + f.name + ".space] " + p.key + ": also in [space]");
  if (s.rungs.size() > 1 && s.Varies("train.epochs"))
    throw UsageError(source + ": [space] train.epochs: the rungs set the epochs (drop it, or use one rung)");
  CheckAgainstBases(s);
  return s;
}

SearchSpace LoadSpace(const std::string& path) {
  const std::string text = ReadFile(path);
  return ParseSpace(text, path, fsys::path(path).parent_path().string());
}

Candidate SampleCandidate(const SearchSpace& s, int index) {
  Candidate c;
  c.index = index;
  c.quant = s.quant;
  Rng rng = Rng::Derive(s.seed, uint64_t(index));
  if (s.families.size() > 1) {
    c.family = int(rng.Below(s.families.size()));
    c.varied["family"] = s.families[size_t(c.family)].name;
  }
  auto draw = [&](const ParamSpec& p) {
    const json v = p.Sample(rng);
    const bool varies = p.is_range() || p.choices.size() > 1;
    if (varies) c.varied[p.key] = v;
    if (p.key == "export.quant") c.quant = v.get<std::string>();
    else c.overrides.push_back(p.key + "=" + OverrideValue(v));
  };
  for (const ParamSpec& p : s.params) draw(p);
  for (const ParamSpec& p : s.families[size_t(c.family)].params) draw(p);
  return c;
}

Config ResolveConfig(const SearchSpace& s, const Candidate& c, const std::vector<std::string>& sets, int epochs) {
  const Family& f = s.families[size_t(c.family)];
  std::vector<std::string> o = sets;
  o.insert(o.end(), c.overrides.begin(), c.overrides.end());
  if (epochs > 0) o.push_back("train.epochs=" + std::to_string(epochs));
  return ParseConfig(f.text, f.path, o);
}

}  // namespace kws::search
