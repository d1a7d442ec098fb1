#include "util/toml_json.h"

#include "util/error.h"

namespace kws {

nlohmann::json TomlToJson(const toml::node& n, const std::string& where) {
  using json = nlohmann::json;
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

toml::table ParseToml(const std::string& text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw UsageError(source + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + ": " +
                     std::string(e.description()));
  }
}

}  // namespace kws
