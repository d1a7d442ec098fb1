// The cache folder (data/cache.h): where it is, its size cap (least recently used entries go
// first, never the one in use), temporaries of killed runs, no cache where none can be written
// (HOME missing or not writable), and `kws cache info|clear`.
#include "data/cache.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "data/feature_cache.h"
#include "data_test_util.h"
#include "util/fs.h"
#include "util/log.h"

namespace fs = std::filesystem;
using kws_test::TempDir;
using kws_test::WriteClip;

namespace {

const bool kQuietLogs = (kws::SetVerbosity(kws::Verbosity::kQuiet), true);

// Sets (or unsets, with nullopt) an environment variable for the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
    if (value) ::setenv(name, value->c_str(), 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A file of `bytes` bytes last used `age_s` seconds ago.
void Entry(const fs::path& p, size_t bytes, int age_s) {
  kws::AtomicWriteFile(p, std::string(bytes, 'x'));
  fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::seconds(age_s));
}

// A pid that no longer runs: a child that has exited and been reaped.
int DeadPid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return int(pid);
}

std::string RunKws(const std::string& args, int* code) {
  FILE* p = ::popen((std::string(KWS_BINARY) + " " + args + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t k;
  while ((k = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, k);
  const int status = ::pclose(p);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

}  // namespace

TEST(CacheLimit, LeastRecentlyUsedGoFirstNeverTheOneInUse) {
  const fs::path root = TempDir("cache_lru");
  Entry(root / "features" / "old.kwsfeat", 3000, 300);
  Entry(root / "features" / "mid.kwsfeat", 3000, 200);
  Entry(root / "synth" / "synth-abc" / "yes" / "a.wav", 3000, 250);  // a folder counts as one entry
  fs::last_write_time(root / "synth" / "synth-abc", fs::file_time_type::clock::now() - std::chrono::seconds(250));
  Entry(root / "features" / "new.kwsfeat", 3000, 10);
  Entry(root / "features" / "huge_in_use.kwsfeat", 5000, 1000);  // the oldest, but kept
  // Temporaries: of a process that is gone (removed) and of this one (kept); not entries.
  const int dead = DeadPid();
  Entry(root / "features" / ("x.kwsfeat.tmp." + std::to_string(dead)), 100, 0);
  Entry(root / "synth" / ("synth-def.tmp." + std::to_string(dead)) / "a.wav", 100, 0);
  Entry(root / "features" / ("y.kwsfeat.tmp." + std::to_string(::getpid())), 100, 0);

  kws::CacheSummary s = kws::ScanCache(root.string());
  ASSERT_EQ(s.entries.size(), 5u);
  EXPECT_EQ(s.total_bytes, 17000);
  EXPECT_EQ(fs::path(s.entries.front().path).filename(), "new.kwsfeat");  // most recent first

  const auto removed =
      kws::EnforceCacheLimit(root.string(), 11000, (root / "features" / "huge_in_use.kwsfeat").string());
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(fs::path(removed[0].path).filename(), "old.kwsfeat");
  EXPECT_EQ(fs::path(removed[1].path).filename(), "synth-abc");
  EXPECT_TRUE(fs::exists(root / "features" / "huge_in_use.kwsfeat"));
  EXPECT_TRUE(fs::exists(root / "features" / "mid.kwsfeat"));
  EXPECT_TRUE(fs::exists(root / "features" / "new.kwsfeat"));
  EXPECT_FALSE(fs::exists(root / "features" / ("x.kwsfeat.tmp." + std::to_string(dead))));
  EXPECT_FALSE(fs::exists(root / "synth" / ("synth-def.tmp." + std::to_string(dead))));
  EXPECT_TRUE(fs::exists(root / "features" / ("y.kwsfeat.tmp." + std::to_string(::getpid()))));
  EXPECT_EQ(kws::ScanCache(root.string()).total_bytes, 11000);
  fs::remove_all(root);
}

// Extracting features adds to the cache and keeps it under KWS_CACHE_MAX_MB; reading an entry
// refreshes it.
TEST(CacheLimit, FeatureCacheStaysUnderTheCapAndUseRefreshes) {
  const fs::path data = TempDir("cache_cap_data");
  for (int i = 0; i < 3; ++i) WriteClip(data / "yes" / ("s" + std::to_string(i) + "_nohash_0.wav"), i, 16000);
  for (int i = 0; i < 3; ++i) WriteClip(data / "no" / ("s" + std::to_string(i) + "_nohash_0.wav"), 10 + i, 16000);
  const fs::path root = TempDir("cache_cap");
  Entry(root / "features" / "stale.kwsfeat", 200000, 1000);
  ScopedEnv cap("KWS_CACHE_MAX_MB", "0.1");  // 104,857 bytes: the stale entry must go
  const auto ds = kws::LoadDataset(data.string());
  const auto task = kws::MakeTask(ds, kws::ParseLabelList("yes,no"));
  kws::CacheOptions c;
  c.dir = root.string();
  kws::ExtractStats st;
  kws::ExtractFeatures(ds, task, kws::FeatureOptions{}, c, &st);
  ASSERT_TRUE(st.cache_written);
  EXPECT_FALSE(fs::exists(root / "features" / "stale.kwsfeat"));
  EXPECT_TRUE(fs::exists(st.cache_file));
  fs::last_write_time(st.cache_file, fs::file_time_type::clock::now() - std::chrono::hours(5));
  kws::ExtractStats again;
  kws::ExtractFeatures(ds, task, kws::FeatureOptions{}, c, &again);
  EXPECT_EQ(again.cached, task.size());
  EXPECT_LT(fs::file_time_type::clock::now() - fs::last_write_time(st.cache_file), std::chrono::minutes(5));
  fs::remove_all(root);
  fs::remove_all(data);
}

// HOME that does not exist is never created; a cache folder that cannot be written means no cache
// (a warning), not a failure.
TEST(CacheLimit, NoCacheWhereNoneCanBeWritten) {
  const fs::path data = TempDir("cache_nohome_data");
  for (int i = 0; i < 2; ++i) WriteClip(data / "yes" / ("s" + std::to_string(i) + "_nohash_0.wav"), i, 16000);
  const auto ds = kws::LoadDataset(data.string());
  const auto task = kws::MakeTask(ds, kws::ParseLabelList("yes"));
  const fs::path home = fs::temp_directory_path() / ("kws_no_such_home_" + std::to_string(::getpid()));
  {
    ScopedEnv a("KWS_CACHE_DIR", std::nullopt), b("XDG_CACHE_HOME", std::nullopt), h("HOME", home.string());
    EXPECT_EQ(kws::CacheRoot(), "");
    kws::ExtractStats st;
    const auto f = kws::ExtractFeatures(ds, task, kws::FeatureOptions{}, {}, &st);
    EXPECT_EQ(f.n, task.size());
    EXPECT_EQ(st.cache_file, "");
    EXPECT_FALSE(fs::exists(home));
  }
  {
    ScopedEnv a("KWS_CACHE_DIR", "/sys/kws_cache_test");  // sysfs: nothing can be created there, even by root
    EXPECT_EQ(kws::WritableCacheDir("features"), "");
    kws::ExtractStats st;
    kws::ExtractFeatures(ds, task, kws::FeatureOptions{}, {}, &st);
    EXPECT_EQ(st.computed, task.size());
    EXPECT_FALSE(st.cache_written);
  }
  fs::remove_all(data);
}

TEST(CacheCli, InfoListsAndClearRemoves) {
  const fs::path root = TempDir("cache_cli");
  Entry(root / "features" / "a.kwsfeat", 2 << 20, 100);
  Entry(root / "synth" / "synth-0123" / "yes" / "x.wav", 1 << 20, 50);
  ScopedEnv env("KWS_CACHE_DIR", root.string());
  int code = -1;
  std::string out = RunKws("cache info --json", &code);
  ASSERT_EQ(code, 0) << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["root"], root.string());
  EXPECT_EQ(j["total_bytes"], 3 << 20);
  EXPECT_EQ(j["limit_bytes"], int64_t(4096) << 20);
  ASSERT_EQ(j["entries"].size(), 2u);
  EXPECT_EQ(j["entries"][0]["kind"], "synth");  // used last
  out = RunKws("cache info", &code);
  EXPECT_NE(out.find("3.0 MB in 2 entries (limit 4096.0 MB"), std::string::npos) << out;
  out = RunKws("cache clear --synth", &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("removed 1 entries, 1.0 MB"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(root / "synth" / "synth-0123"));
  EXPECT_TRUE(fs::exists(root / "features" / "a.kwsfeat"));
  out = RunKws("cache clear", &code);
  EXPECT_EQ(code, 0);
  EXPECT_FALSE(fs::exists(root / "features" / "a.kwsfeat"));
  {
    ScopedEnv bad("KWS_CACHE_MAX_MB", "lots");
    out = RunKws("cache info", &code);
    EXPECT_EQ(code, 1);
    EXPECT_NE(out.find("KWS_CACHE_MAX_MB=lots: must be a positive number of MB"), std::string::npos) << out;
  }
  fs::remove_all(root);
}
