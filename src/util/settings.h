// A stage's settings as one table, kaldi-native-fbank style: each options struct lists its settings
// once, {key, member, help, check}, and that list drives the defaults, reading a parsed config
// table, validation messages and the documentation (`kws config keys`).
//
//   const std::vector<settings::Setting<PruneOptions>>& PruneSettings() {
//     static const std::vector<settings::Setting<PruneOptions>> s = {
//         settings::Member("final_sparsity", &PruneOptions::final_sparsity, "sparsity reached at end_step",
//                          settings::InRange(0, 1, false, true)),
//         ...};
//     return s;
//   }
//   nlohmann::json defaults = settings::ToJson(PruneSettings(), PruneOptions{});   // {"final_sparsity": 0.85, ...}
//   PruneOptions p = settings::Read(PruneSettings(), table.at("prune"), "prune");  // typed values
//   settings::Validate(PruneSettings(), p, "prune");  // UsageError "prune.final_sparsity: must be in [0, 1) (got 1)"
//
// Keys may be dotted ("learning_rate.initial"): nested tables. Reading assumes the table's types were
// checked against the defaults (the recipe config merges a file into ToJson(defaults) first); a
// setter still rejects values it cannot store (a negative seed, a non-string in a list of names).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace kws::settings {

using json = nlohmann::json;

// ---- Messages: UsageError "<path>: <what>" ----
[[noreturn]] void Bad(const std::string& path, const std::string& what);
std::string Fmt(double v);  // as ostream prints it (0.1, 1e-05)
void CheckFinite(const std::string& path, double v);
void CheckPositive(const std::string& path, double v);
void CheckRange(const std::string& path, double v, double lo, double hi, bool lo_open = false, bool hi_open = false);

// A check of one value; `path` is the setting's full name ("train.epochs").
template <class M>
using ValueCheck = std::function<void(const M&, const std::string& path)>;

ValueCheck<double> InRange(double lo, double hi, bool lo_open = false, bool hi_open = false);
ValueCheck<double> Positive();
ValueCheck<double> Finite();
ValueCheck<int> AtLeast(int lo);                         // "must be >= 1 (got 0)"
ValueCheck<int> IntInRange(int lo, int hi);              // "must be in [0, 16] (got 17)"
ValueCheck<std::string> OneOf(std::vector<std::string> words);  // must be "a", "b" or "c" (got "x")

// ---- One setting ----
template <class T>
struct Setting {
  std::string key;                                                     // relative: "epochs", "learning_rate.end"
  std::string help;
  std::function<json(const T&)> get;                                   // as written in a config
  std::function<void(T&, const json&, const std::string& path)> set;   // from a merged table
  std::function<void(const T&, const std::string& path)> check;        // may be empty
  std::string keyword;  // an integer setting that also takes this word ("auto", "end")

  // Adds a check that sees the whole struct (a range bounded by another setting).
  Setting& Also(std::function<void(const T&, const std::string& path)> more) {
    auto first = std::move(check);
    check = [first, more](const T& t, const std::string& p) {
      if (first) first(t, p);
      more(t, p);
    };
    return *this;
  }
};

// ---- Stored values: how a member type is written and read ----
inline json ValueToJson(bool v) { return v; }
inline json ValueToJson(int v) { return v; }
inline json ValueToJson(long v) { return v; }
inline json ValueToJson(double v) { return v; }
inline json ValueToJson(uint64_t v) { return int64_t(v); }
inline json ValueToJson(const std::string& v) { return v; }
json ValueToJson(const std::vector<std::string>& v);

void ValueFromJson(const json& j, bool& out, const std::string& path);
void ValueFromJson(const json& j, int& out, const std::string& path);
void ValueFromJson(const json& j, long& out, const std::string& path);
void ValueFromJson(const json& j, double& out, const std::string& path);
void ValueFromJson(const json& j, uint64_t& out, const std::string& path);  // "must be >= 0 (got -1)"
void ValueFromJson(const json& j, std::string& out, const std::string& path);
void ValueFromJson(const json& j, std::vector<std::string>& out, const std::string& path);  // "must be an array of strings"

// A setting stored in `T::*member`.
template <class T, class M>
Setting<T> Member(std::string key, M T::*member, std::string help, ValueCheck<M> check = {}) {
  Setting<T> s;
  s.key = std::move(key);
  s.help = std::move(help);
  s.get = [member](const T& t) { return ValueToJson(t.*member); };
  s.set = [member](T& t, const json& j, const std::string& path) { ValueFromJson(j, t.*member, path); };
  if (check) s.check = [member, check](const T& t, const std::string& path) { check(t.*member, path); };
  return s;
}

// A setting with its own reader and writer (a value with a keyword, a list with its own messages).
template <class T>
Setting<T> Custom(std::string key, std::string help, std::function<json(const T&)> get,
                  std::function<void(T&, const json&, const std::string&)> set,
                  std::function<void(const T&, const std::string&)> check = {}) {
  return Setting<T>{std::move(key), std::move(help), std::move(get), std::move(set), std::move(check), ""};
}

// The settings of a member struct `T::*member` under `prefix` ("augment" -> "augment.shift_ms").
template <class T, class S>
std::vector<Setting<T>> Nested(const std::string& prefix, S T::*member, const std::vector<Setting<S>>& inner) {
  std::vector<Setting<T>> out;
  for (const Setting<S>& s : inner) {
    Setting<T> o;
    o.key = prefix + "." + s.key;
    o.help = s.help;
    o.keyword = s.keyword;
    o.get = [member, g = s.get](const T& t) { return g(t.*member); };
    o.set = [member, f = s.set](T& t, const json& j, const std::string& p) { f(t.*member, j, p); };
    if (s.check) o.check = [member, c = s.check](const T& t, const std::string& p) { c(t.*member, p); };
    out.push_back(std::move(o));
  }
  return out;
}

// The settings of a base struct, as settings of a struct derived from it.
template <class D, class B>
std::vector<Setting<D>> Derived(const std::vector<Setting<B>>& base) {
  static_assert(std::is_base_of_v<B, D>);
  std::vector<Setting<D>> out;
  for (const Setting<B>& s : base) out.push_back(Setting<D>{s.key, s.help, s.get, s.set, s.check, s.keyword});
  return out;
}

json::json_pointer Pointer(const std::string& dotted_key);  // "a.b" -> /a/b

// ---- The whole table ----
// Every setting's value in `t`, as a nested JSON object.
template <class T>
json ToJson(const std::vector<Setting<T>>& table, const T& t) {
  json j = json::object();
  for (const auto& s : table) j[Pointer(s.key)] = s.get(t);
  return j;
}

// Reads every setting from `j` (which has them all, e.g. defaults merged with a file) into a copy of `base`.
template <class T>
T Read(const std::vector<Setting<T>>& table, const json& j, const std::string& prefix, T base = {}) {
  for (const auto& s : table) s.set(base, j.at(Pointer(s.key)), prefix + "." + s.key);
  return base;
}

// Runs every setting's check in table order; the first failure throws UsageError naming the setting.
template <class T>
void Validate(const std::vector<Setting<T>>& table, const T& t, const std::string& prefix) {
  for (const auto& s : table)
    if (s.check) s.check(t, prefix + "." + s.key);
}

// The keyword an integer setting also takes ("" = none); `key` is relative to the table.
template <class T>
std::string KeywordOf(const std::vector<Setting<T>>& table, const std::string& key) {
  for (const auto& s : table)
    if (s.key == key) return s.keyword;
  return "";
}

// One line of the documentation: full key, default as written in a config, help.
struct Doc {
  std::string key, default_value, help;
};
std::string ValueText(const json& v);  // a TOML-ish rendering of a default (80, 0.1, "adam", [], true)
template <class T>
std::vector<Doc> Docs(const std::vector<Setting<T>>& table, const std::string& prefix, const T& defaults = {}) {
  std::vector<Doc> out;
  for (const auto& s : table) out.push_back({prefix + "." + s.key, ValueText(s.get(defaults)), s.help});
  return out;
}

}  // namespace kws::settings
