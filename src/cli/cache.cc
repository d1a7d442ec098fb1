// kws cache info | clear: what kws keeps between runs (features, synthesized data) and removing it.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "data/cache.h"
#include "util/error.h"
#include "util/text.h"

namespace {

std::string Mb(int64_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", double(bytes) / double(1 << 20));
  return b;
}

std::string When(int64_t t) {
  const std::time_t tt = std::time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M", &tm);
  return b;
}

nlohmann::json EntriesJson(const std::vector<kws::CacheEntry>& entries) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : entries)
    a.push_back({{"path", e.path}, {"kind", e.kind}, {"bytes", e.bytes}, {"last_used", e.last_used}});
  return a;
}

std::string Where(const std::string& root) {
  return root.empty() ? "none (KWS_CACHE_DIR, XDG_CACHE_HOME and HOME give no folder)" : kws::Printable(root);
}

struct InfoOpts {
  bool json = false;
};

int Info(const InfoOpts& o) {
  const kws::CacheSummary s = kws::ScanCache();
  if (o.json) {
    std::printf("%s\n", nlohmann::json{{"root", s.root},
                                       {"limit_bytes", s.limit_bytes},
                                       {"total_bytes", s.total_bytes},
                                       {"entries", EntriesJson(s.entries)}}
                            .dump(2)
                            .c_str());
    return 0;
  }
  std::printf("cache  %s\n", Where(s.root).c_str());
  std::printf("size   %s MB in %zu entries (limit %s MB, KWS_CACHE_MAX_MB; least recently used go first)\n",
              Mb(s.total_bytes).c_str(), s.entries.size(), Mb(s.limit_bytes).c_str());
  if (s.entries.empty()) return 0;
  std::printf("\n%-9s %10s  %-16s  %s\n", "kind", "MB", "last used", "path");
  for (const auto& e : s.entries) {
    const std::string rel = std::filesystem::path(e.path).lexically_relative(s.root).string();
    std::printf("%-9s %10s  %-16s  %s\n", e.kind.c_str(), Mb(e.bytes).c_str(), When(e.last_used).c_str(),
                kws::Printable(rel).c_str());
  }
  return 0;
}

struct ClearOpts {
  bool features = false, synth = false, json = false;
};

int Clear(const ClearOpts& o) {
  if (o.features && o.synth) throw kws::UsageError("--features and --synth: give one of them, or neither for both");
  const std::string root = kws::CacheRoot();
  const auto removed = kws::ClearCache(root, o.features ? "features" : o.synth ? "synth" : "");
  int64_t bytes = 0;
  for (const auto& e : removed) bytes += e.bytes;
  if (o.json) {
    std::printf("%s\n",
                nlohmann::json{{"root", root}, {"removed", EntriesJson(removed)}, {"removed_bytes", bytes}}.dump(2).c_str());
    return 0;
  }
  std::printf("cache  %s\nremoved %zu entries, %s MB\n", Where(root).c_str(), removed.size(), Mb(bytes).c_str());
  return 0;
}

const char* kFooter =
    "The cache holds the features of every clip kws has seen (one file per feature setting, under\n"
    "features/) and synthesized datasets ([data.synth], quickstart; one folder per setting, under synth/).\n"
    "Location: $KWS_CACHE_DIR, else $XDG_CACHE_HOME/kws, else ~/.cache/kws. Size cap: $KWS_CACHE_MAX_MB\n"
    "(default 4096); the least recently used entries are removed when kws adds to a full cache.\n";

kws::cli::Registrar info_reg(
    "cache info", "Show the cache folder, its size, its limit and its entries",
    [](CLI::App& app) {
      auto o = std::make_shared<InfoOpts>();
      app.add_flag("--json", o->json, "Print JSON: {root, limit_bytes, total_bytes, entries: [{path, kind, bytes, last_used}]}");
      return [o]() -> int { return Info(*o); };
    },
    std::string(kFooter) + "Examples:\n  kws cache info\n  KWS_CACHE_DIR=/scratch/kws kws cache info --json");

kws::cli::Registrar clear_reg(
    "cache clear", "Remove the cache's entries (features, synthesized data, or both)",
    [](CLI::App& app) {
      auto o = std::make_shared<ClearOpts>();
      app.add_flag("--features", o->features, "Only the features files");
      app.add_flag("--synth", o->synth, "Only the synthesized datasets");
      app.add_flag("--json", o->json, "Print JSON: {root, removed: [...], removed_bytes}");
      return [o]() -> int { return Clear(*o); };
    },
    std::string(kFooter) + "Examples:\n  kws cache clear\n  kws cache clear --synth");

}  // namespace
