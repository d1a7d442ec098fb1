// The folder kws keeps derived data in between runs, and its size cap.
//
//   <root>/features/<key>.kwsfeat   features of every clip seen with one feature setting (data/feature_cache.h)
//   <root>/synth/synth-<key>/       a synthesized dataset per synthesis setting (synth/synth.h SynthesizeCached)
//
// Root: $KWS_CACHE_DIR, else $XDG_CACHE_HOME/kws, else $HOME/.cache/kws. HOME is only used when it is
// an existing folder (kws never creates a home folder); with none of them, or when the root cannot be
// written, kws runs without a cache and says so once.
//
// Size cap: after kws adds to the cache, the entries (each features file, each synth folder) least
// recently used are removed until the cache fits in $KWS_CACHE_MAX_MB (default 4096 MB); the entry
// just used is never removed. Using an entry refreshes its time (its modification time). Temporaries of
// killed runs are removed on the way. `kws cache info` lists the entries, `kws cache clear` removes them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace kws {

// The cache root from the environment ("" when there is none); nothing is created.
std::string CacheRoot();

// The root's subfolder `sub` ("features", "synth"), created if needed, or "" — with a warning, once
// per process — when there is no root or it cannot be written. `dir_option` non-empty overrides the
// root (CacheOptions::dir).
std::string WritableCacheDir(const std::string& sub, const std::string& dir_option = "");

// The size cap in bytes: $KWS_CACHE_MAX_MB (UsageError when it is not a positive number), else 4 GB.
int64_t CacheLimitBytes();

struct CacheEntry {
  std::string path;   // a features file or a synth folder
  std::string kind;   // "features" | "synth"
  int64_t bytes = 0;
  int64_t last_used = 0;  // seconds since the epoch (modification time)
};

struct CacheSummary {
  std::string root;                 // "" = no cache
  int64_t limit_bytes = 0, total_bytes = 0;
  std::vector<CacheEntry> entries;  // most recently used first
};

// The entries under `root` (default: CacheRoot()).
CacheSummary ScanCache(const std::string& root = "");

// Marks an entry as just used (LRU order).
void TouchCacheEntry(const std::string& path);

// Removes least recently used entries under `root` until the total fits `limit_bytes`, never `keep`;
// also removes temporaries left by killed runs. Returns the entries removed.
std::vector<CacheEntry> EnforceCacheLimit(const std::string& root, int64_t limit_bytes, const std::string& keep = "");

// Removes every entry (of `kind` when not empty) and stale temporaries; returns the entries removed.
std::vector<CacheEntry> ClearCache(const std::string& root, const std::string& kind = "");

}  // namespace kws
