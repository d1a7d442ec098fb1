// kws config keys: every setting of a recipe config (configs/*.toml), with its default and help, from
// the tables the stages own (util/settings.h). Written to docs/configs.md by `kws config keys --markdown`.
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "model/config.h"

namespace {

struct Opts {
  bool json = false;
  bool markdown = false;
};

int Run(const Opts& o) {
  const auto docs = kws::ConfigSettingDocs();
  if (o.json) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& d : docs) a.push_back({{"key", d.key}, {"default", d.default_value}, {"help", d.help}});
    std::printf("%s\n", a.dump(2).c_str());
    return 0;
  }
  if (o.markdown) std::printf("| setting | default | meaning |\n|---|---|---|\n");
  for (const auto& d : docs) {
    if (o.markdown)
      std::printf("| `%s` | `%s` | %s |\n", d.key.c_str(), d.default_value.c_str(), d.help.c_str());
    else
      std::printf("%-36s %-14s %s\n", d.key.c_str(), d.default_value.c_str(), d.help.c_str());
  }
  return 0;
}

kws::cli::Registrar reg(
    "config keys", "List every recipe config setting with its default and meaning",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_flag("--json", o->json, "Print a JSON array of {key, default, help}");
      app.add_flag("--markdown", o->markdown, "Print a Markdown table (docs/configs.md)");
      return [o]() { return Run(*o); };
    },
    "Examples:\n  kws config keys\n  kws config keys | grep prune\n  kws train --config configs/seed.toml --data DIR --out runs/s --set prune.final_sparsity=0.9\n");

}  // namespace
