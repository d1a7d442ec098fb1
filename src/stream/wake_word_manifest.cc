#include "stream/wake_word_manifest.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/fs.h"

namespace kws {
namespace {

using nlohmann::json;

// Field access with messages "<file>: field 'micro.x' ...".
class Fields {
 public:
  Fields(const std::string& path, const json& root) : path_(path), root_(root) {}

  [[noreturn]] void Fail(const std::string& field, const std::string& problem) const {
    throw BadInput(path_ + ": field '" + field + "' " + problem);
  }

  const json* Find(const json& obj, const std::string& key) const {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }
  const json& Require(const json& obj, const std::string& key, const std::string& field) const {
    const json* v = Find(obj, key);
    if (!v) Fail(field, "is missing");
    return *v;
  }

  std::string String(const json& obj, const std::string& key, const std::string& field) const {
    const json& v = Require(obj, key, field);
    if (!v.is_string() || v.get<std::string>().empty()) Fail(field, "must be a non-empty string (got " + v.dump() + ")");
    return v.get<std::string>();
  }

  int Integer(const json& v, const std::string& field, int lo, int hi) const {
    if (!v.is_number_integer()) Fail(field, "must be an integer (got " + v.dump() + ")");
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi)
      Fail(field, "must be " + std::to_string(lo) + ".." + std::to_string(hi) + " (got " + std::to_string(x) + ")");
    return int(x);
  }

  const json& root() const { return root_; }

 private:
  const std::string& path_;
  const json& root_;
};

void ReadMicro(const Fields& f, const json& micro, WakeWordManifest* m) {
  const json& cutoff = f.Require(micro, "probability_cutoff", "micro.probability_cutoff");
  if (!cutoff.is_number() || !(cutoff.get<double>() > 0.0 && cutoff.get<double>() <= 1.0))
    f.Fail("micro.probability_cutoff", "must be a number in (0, 1] (got " + cutoff.dump() + ")");
  m->probability_cutoff = cutoff.get<double>();

  // Version 1 named the window "sliding_window_average_size" and used a 20 ms feature step
  // (ESPHome's _convert_manifest_v1_to_v2).
  const std::string window_key = m->version == 1 ? "sliding_window_average_size" : "sliding_window_size";
  m->sliding_window_size = f.Integer(f.Require(micro, window_key, "micro." + window_key), "micro." + window_key, 1, 1000);
  if (m->version == 1) {
    m->feature_step_size = 20;
  } else {
    m->feature_step_size =
        f.Integer(f.Require(micro, "feature_step_size", "micro.feature_step_size"), "micro.feature_step_size", 1, 30);
  }
  if (const json* arena = f.Find(micro, "tensor_arena_size"))
    m->tensor_arena_size = f.Integer(*arena, "micro.tensor_arena_size", 0, 1 << 30);
}

}  // namespace

WakeWordManifest ParseWakeWordManifest(const std::string& path, const std::string& text) {
  const json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) throw BadInput(path + ": not valid JSON (a microWakeWord manifest is a JSON object)");
  if (!root.is_object()) throw BadInput(path + ": not a JSON object (a microWakeWord manifest is one)");
  const Fields f(path, root);
  WakeWordManifest m;
  m.path = path;

  const json& type = f.Require(root, "type", "type");
  if (type != "micro") f.Fail("type", "must be \"micro\" (a microWakeWord model; got " + type.dump() + ")");
  m.version = f.Integer(f.Require(root, "version", "version"), "version", 1, 2);
  m.wake_word = f.String(root, "wake_word", "wake_word");
  m.model = f.String(root, "model", "model");
  const json& micro = f.Require(root, "micro", "micro");
  if (!micro.is_object()) f.Fail("micro", "must be an object (got " + micro.dump() + ")");
  ReadMicro(f, micro, &m);

  const std::filesystem::path model(m.model);
  m.model_path = model.is_absolute() ? model.string() : (std::filesystem::path(path).parent_path() / model).string();
  return m;
}

WakeWordManifest LoadWakeWordManifest(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw BadInput(path + ": no such manifest file");
  WakeWordManifest m = ParseWakeWordManifest(path, ReadFile(path));
  if (!std::filesystem::is_regular_file(m.model_path, ec))
    throw BadInput(path + ": field 'model' names " + m.model_path + ", which does not exist");
  return m;
}

bool IsWakeWordManifestPath(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".json";
}

}  // namespace kws
