#include "data/cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>

#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

namespace kws {
namespace fs = std::filesystem;

namespace {

constexpr int64_t kDefaultLimitMb = 4096;
const char* const kKinds[] = {"features", "synth"};

int64_t DirBytes(const fs::path& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec)) total += int64_t(it->file_size(fec));
  }
  return total;
}

int64_t MTime(const fs::path& p) {
  std::error_code ec;
  const auto t = fs::last_write_time(p, ec);
  if (ec) return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::file_clock::to_sys(t).time_since_epoch())
      .count();
}

// A cache entry is a finished features file or synth folder; temporaries (*.tmp.PID) are not.
bool IsEntry(const std::string& kind, const fs::directory_entry& e) {
  const std::string name = e.path().filename().string();
  if (TemporaryOwner(name) > 0) return false;
  std::error_code ec;
  if (kind == "features") return e.is_regular_file(ec) && e.path().extension() == ".kwsfeat";
  return e.is_directory(ec) && name.rfind("synth-", 0) == 0;
}

// Why a folder cannot hold the cache ("" = it can): created if missing, then a probe file.
std::string CannotWrite(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ec.message();
  const fs::path probe = dir / (".kws-write-test." + std::to_string(::getpid()));
  const int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return std::strerror(errno);
  ::close(fd);
  ::unlink(probe.c_str());
  return "";
}

}  // namespace

std::string CacheRoot() {
  if (const char* e = std::getenv("KWS_CACHE_DIR"); e && *e) return e;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return (fs::path(x) / "kws").string();
  if (const char* h = std::getenv("HOME"); h && *h) {
    std::error_code ec;
    if (fs::is_directory(h, ec)) return (fs::path(h) / ".cache" / "kws").string();  // never create HOME itself
  }
  return "";
}

std::string WritableCacheDir(const std::string& sub, const std::string& dir_option) {
  static std::mutex mu;
  static std::set<std::string> warned;
  const std::string root = dir_option.empty() ? CacheRoot() : dir_option;
  std::string why;
  fs::path dir;
  if (root.empty()) {
    why = "no cache folder (KWS_CACHE_DIR, XDG_CACHE_HOME and an existing HOME give none)";
  } else {
    dir = fs::path(root) / sub;
    if (const std::string w = CannotWrite(dir); !w.empty()) why = dir.string() + ": cannot write (" + w + ")";
  }
  if (why.empty()) return dir.string();
  std::lock_guard<std::mutex> lock(mu);
  if (warned.insert(sub + "|" + why).second)
    LogWarn("%s cache off: %s; set KWS_CACHE_DIR to a writable folder", sub.c_str(), why.c_str());
  return "";
}

int64_t CacheLimitBytes() {
  const char* v = std::getenv("KWS_CACHE_MAX_MB");
  if (!v || !*v) return kDefaultLimitMb << 20;
  char* end = nullptr;
  const double mb = std::strtod(v, &end);
  if (*end != 0 || !(mb > 0) || mb > 1e9)
    throw UsageError(std::string("KWS_CACHE_MAX_MB=") + v + ": must be a positive number of MB");
  return int64_t(mb * double(1 << 20));
}

CacheSummary ScanCache(const std::string& root_arg) {
  CacheSummary s;
  s.root = root_arg.empty() ? CacheRoot() : root_arg;
  s.limit_bytes = CacheLimitBytes();
  if (s.root.empty()) return s;
  for (const char* kind : kKinds) {
    std::error_code ec;
    for (fs::directory_iterator it(fs::path(s.root) / kind, ec), end; !ec && it != end; it.increment(ec)) {
      if (!IsEntry(kind, *it)) continue;
      CacheEntry e;
      e.path = it->path().string();
      e.kind = kind;
      std::error_code fec;
      e.bytes = it->is_directory(fec) ? DirBytes(it->path()) : int64_t(it->file_size(fec));
      e.last_used = MTime(it->path());
      s.total_bytes += e.bytes;
      s.entries.push_back(std::move(e));
    }
  }
  std::stable_sort(s.entries.begin(), s.entries.end(),
                   [](const CacheEntry& a, const CacheEntry& b) { return a.last_used > b.last_used; });
  return s;
}

void TouchCacheEntry(const std::string& path) {
  std::error_code ec;
  fs::last_write_time(path, fs::file_time_type::clock::now(), ec);
}

std::vector<CacheEntry> EnforceCacheLimit(const std::string& root, int64_t limit_bytes, const std::string& keep) {
  std::vector<CacheEntry> removed;
  if (root.empty()) return removed;
  for (const char* kind : kKinds) RemoveStaleTemporaries(fs::path(root) / kind);
  CacheSummary s = ScanCache(root);
  int64_t total = s.total_bytes;
  // Oldest first; ties by path, so the order does not depend on the directory listing.
  std::vector<CacheEntry> order = s.entries;
  std::stable_sort(order.begin(), order.end(), [](const CacheEntry& a, const CacheEntry& b) {
    return a.last_used != b.last_used ? a.last_used < b.last_used : a.path < b.path;
  });
  std::error_code keep_ec;
  for (const CacheEntry& e : order) {
    if (total <= limit_bytes) break;
    if (!keep.empty() && fs::equivalent(e.path, keep, keep_ec)) continue;
    std::error_code ec;
    fs::remove_all(e.path, ec);
    if (ec) continue;
    total -= e.bytes;
    removed.push_back(e);
  }
  if (!removed.empty())
    LogVerbose("cache: removed %zu least recently used entr%s to stay under %lld MB", removed.size(),
               removed.size() == 1 ? "y" : "ies", (long long)(limit_bytes >> 20));
  return removed;
}

std::vector<CacheEntry> ClearCache(const std::string& root, const std::string& kind) {
  std::vector<CacheEntry> removed;
  if (root.empty()) return removed;
  for (const char* k : kKinds) RemoveStaleTemporaries(fs::path(root) / k);
  for (const CacheEntry& e : ScanCache(root).entries) {
    if (!kind.empty() && e.kind != kind) continue;
    std::error_code ec;
    fs::remove_all(e.path, ec);
    if (ec) throw BadInput(e.path + ": cannot remove (" + ec.message() + ")");
    removed.push_back(e);
  }
  return removed;
}

}  // namespace kws
