// The recipe config's settings list (`kws config keys`) covers exactly the settings a config resolves to,
// and every listed setting takes a --set override.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "model/config.h"

namespace kws {
namespace {

const char* kLayers = "[[model.layers]]\ntype = \"dense\"\n";

void Leaves(const nlohmann::json& j, const std::string& prefix, std::set<std::string>* out) {
  for (auto& [k, v] : j.items()) {
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    if (v.is_object()) Leaves(v, key, out);
    else out->insert(key);
  }
}

TEST(ConfigKeys, ListEveryResolvedSettingOnce) {
  const Config c = ParseConfig(kLayers, "t.toml");
  std::set<std::string> resolved, listed;
  Leaves(c.table, "", &resolved);
  for (const auto& d : ConfigSettingDocs()) {
    EXPECT_TRUE(listed.insert(d.key).second) << d.key << " listed twice";
    EXPECT_FALSE(d.default_value.empty()) << d.key;
  }
  EXPECT_EQ(listed, resolved);
}

TEST(ConfigKeys, DefaultsAreTheResolvedValues) {
  const Config c = ParseConfig(kLayers, "t.toml");
  for (const auto& d : ConfigSettingDocs()) {
    if (d.key == "model.layers") continue;
    EXPECT_EQ(d.default_value, settings::ValueText(c.table.at(settings::Pointer(d.key)))) << d.key;
  }
}

TEST(ConfigKeys, EverySettingTakesAnOverrideOfItsDefault) {
  const Config c = ParseConfig(kLayers, "t.toml");
  for (const auto& d : ConfigSettingDocs()) {
    if (d.key == "model.layers" || d.default_value.front() == '[') continue;
    std::string v = d.default_value;
    if (v.front() == '"') v = v.substr(1, v.size() - 2);
    nlohmann::json t = c.table;
    EXPECT_NO_THROW(ApplyOverride(t, d.key + "=" + v)) << d.key;
    EXPECT_EQ(t, c.table) << d.key;
  }
}

}  // namespace
}  // namespace kws
