#include "data/feature_cache.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "audio/audio.h"
#include "data/augment.h"
#include "data/cache.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/parallel.h"

namespace kws {
namespace fs = std::filesystem;

std::string ResolveCacheDir(const std::string& dir_option) {
  return dir_option.empty() ? CacheRoot() : dir_option;
}

namespace {

// ---- windows ----

void CopyWindow(const std::vector<float>& s, float* out, int window) {
  const size_t n = std::min(s.size(), size_t(window));
  std::memcpy(out, s.data(), n * sizeof(float));
  std::fill(out + n, out + window, 0.0f);
}

// Decoded noise, only when the task has synthesised silence.
std::unique_ptr<BackgroundNoise> NoiseIfNeeded(const Dataset& ds, const TaskView& task, const std::vector<int>& items,
                                               int rate) {
  for (int i : items)
    if (task.clip[size_t(i)] < 0) return std::make_unique<BackgroundNoise>(ds, rate);
  return nullptr;
}

void ItemWindow(const Dataset& ds, const TaskView& task, int i, int rate, int window, const BackgroundNoise* noise,
                float* out) {
  const int c = task.clip[size_t(i)];
  if (c >= 0) {
    CopyWindow(ReadAudio(ds.clips[size_t(c)].path, rate).samples, out, window);
    return;
  }
  const NoiseSlice& sl = task.slices[size_t(i)];
  if (!noise) throw InternalError("synthesised silence without background noise");
  noise->SliceAt(sl.noise, sl.offset, out, window);
  for (int k = 0; k < window; ++k) out[k] = std::clamp(out[k] * sl.gain, -1.0f, 1.0f);
}

// ---- cache blob ----
//   "KWSFEAT\0" | u32 0x01020304 (byte order) | u32 version | u32 key_len | key
//   | i32 frames | i32 bins | u64 count | count x 64-char keys | count x frames x bins f32
//   | 64-char SHA-256 hex of everything before
constexpr char kMagic[8] = {'K', 'W', 'S', 'F', 'E', 'A', 'T', 0};

struct Blob {
  int frames = 0, bins = 0;
  std::vector<std::string> keys;
  std::vector<float> data;
};

template <class T>
void Put(std::string& s, T v) { s.append(reinterpret_cast<const char*>(&v), sizeof(T)); }

template <class T>
bool Get(std::string_view s, size_t& pos, T& v) {
  if (pos + sizeof(T) > s.size()) return false;
  std::memcpy(&v, s.data() + pos, sizeof(T));
  pos += sizeof(T);
  return true;
}

std::string Serialize(const Blob& b, const std::string& key) {
  std::string s;
  const size_t row = size_t(b.frames) * size_t(b.bins);
  s.reserve(64 + key.size() + b.keys.size() * 64 + b.data.size() * 4 + 64);
  s.append(kMagic, 8);
  Put<uint32_t>(s, 0x01020304u);
  Put<uint32_t>(s, uint32_t(kFeatureCacheVersion));
  Put<uint32_t>(s, uint32_t(key.size()));
  s += key;
  Put<int32_t>(s, b.frames);
  Put<int32_t>(s, b.bins);
  Put<uint64_t>(s, uint64_t(b.keys.size()));
  for (const auto& k : b.keys) {
    std::string k64 = k;
    k64.resize(64, ' ');
    s += k64;
  }
  s.append(reinterpret_cast<const char*>(b.data.data()), b.keys.size() * row * sizeof(float));
  s += Sha256Hex(s);
  return s;
}

// Returns false (with `why`) for anything that is not a valid blob for `key`.
bool Parse(const std::string& s, const std::string& key, Blob& b, std::string& why) {
  if (s.size() < 8 + 64 || std::memcmp(s.data(), kMagic, 8) != 0) { why = "not a kws feature cache"; return false; }
  const std::string_view body(s.data(), s.size() - 64);
  if (Sha256Hex(body) != std::string_view(s).substr(s.size() - 64)) { why = "checksum mismatch (corrupt)"; return false; }
  size_t pos = 8;
  uint32_t order = 0, version = 0, key_len = 0;
  if (!Get(body, pos, order) || order != 0x01020304u) { why = "other byte order"; return false; }
  if (!Get(body, pos, version) || version != uint32_t(kFeatureCacheVersion)) { why = "other format version"; return false; }
  if (!Get(body, pos, key_len) || pos + key_len > body.size()) { why = "truncated"; return false; }
  if (body.compare(pos, key_len, key) != 0 || key_len != key.size()) { why = "other feature options"; return false; }
  pos += key_len;
  uint64_t count = 0;
  if (!Get(body, pos, b.frames) || !Get(body, pos, b.bins) || !Get(body, pos, count) || b.frames <= 0 || b.bins <= 0) {
    why = "bad header";
    return false;
  }
  const size_t row = size_t(b.frames) * size_t(b.bins);
  if (count > (1u << 28) || body.size() - pos != count * 64 + count * row * sizeof(float)) {
    why = "size mismatch";
    return false;
  }
  b.keys.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    std::string k(body.substr(pos, 64));
    while (!k.empty() && k.back() == ' ') k.pop_back();
    b.keys[i] = std::move(k);
    pos += 64;
  }
  b.data.resize(count * row);
  std::memcpy(b.data.data(), body.data() + pos, count * row * sizeof(float));
  return true;
}

}  // namespace

std::vector<float> LoadItemWindow(const Dataset& ds, const TaskView& task, int item, int sample_rate, int window) {
  if (item < 0 || item >= task.size()) throw InternalError("LoadItemWindow: item out of range");
  std::vector<float> out(static_cast<size_t>(window));
  std::unique_ptr<BackgroundNoise> noise = NoiseIfNeeded(ds, task, {item}, sample_rate);
  ItemWindow(ds, task, item, sample_rate, window, noise.get(), out.data());
  return out;
}

WindowSet LoadWindows(const Dataset& ds, const TaskView& task, int sample_rate, int window) {
  if (window <= 0 || sample_rate <= 0) throw UsageError("LoadWindows: window and sample rate must be positive");
  WindowSet w;
  w.n = task.size();
  w.window = window;
  w.sample_rate = sample_rate;
  w.labels = task.label;
  w.data.assign(size_t(w.n) * size_t(window), 0.0f);
  std::vector<int> all(size_t(w.n));
  for (int i = 0; i < w.n; ++i) all[size_t(i)] = i;
  std::unique_ptr<BackgroundNoise> noise = NoiseIfNeeded(ds, task, all, sample_rate);
  Progress p("audio", w.n);
  std::atomic<long> done{0};
  ParallelFor(w.n, [&](long b, long e, int chunk) {
    for (long i = b; i < e; ++i) {
      ItemWindow(ds, task, int(i), sample_rate, window, noise.get(), w.data.data() + size_t(i) * size_t(window));
      ++done;
      if (chunk == 0) p.Set(done.load());
    }
  });
  p.Set(done.load());  // chunk 0 may finish before the others
  p.Done();
  return w;
}

namespace {

// The feature cache file of these settings and the rows it holds (have = false when there is none, it cannot
// be read, or it was made for another shape).
struct CachedRows {
  fs::path file;  // empty when caching is off or the cache folder cannot be written
  Blob blob;
  bool have = false;
};

CachedRows ReadCachedRows(const std::string& key, const CacheOptions& cache, int frames, int bins, ExtractStats& st) {
  CachedRows c;
  if (!cache.enabled) return c;
  const std::string dir = WritableCacheDir("features", cache.dir);  // "" (and a warning) when it cannot be written
  if (dir.empty()) return c;
  // One file per feature settings, rows keyed by content: any folder, moved or not, and any
  // mix of folders finds the rows of clips it has seen before.
  c.file = fs::path(dir) / (Sha256Hex(key).substr(0, 32) + ".kwsfeat");
  st.cache_file = c.file.string();
  std::error_code ec;
  if (!fs::exists(c.file, ec)) return c;
  std::string bytes;
  try { bytes = ReadFile(c.file); } catch (const Error& e) { st.cache_note = e.what(); }
  if (bytes.empty()) return c;
  c.have = Parse(bytes, key, c.blob, st.cache_note);
  if (c.have && (c.blob.frames != frames || c.blob.bins != bins)) {
    c.have = false;
    st.cache_note = "shape mismatch";
  }
  if (!c.have) LogWarn("%s: ignoring feature cache (%s), recomputing", c.file.c_str(), st.cache_note.c_str());
  return c;
}

// Copies the rows the cache has into fs; returns the items still to compute.
std::vector<int> FillFromCache(const CachedRows& c, const TaskView& task, FeatureSet& fs, ExtractStats& st) {
  const size_t row = size_t(fs.frames) * size_t(fs.bins);
  std::unordered_map<std::string, size_t> old_row;
  if (c.have)
    for (size_t i = 0; i < c.blob.keys.size(); ++i) old_row.emplace(c.blob.keys[i], i);
  std::vector<int> todo;
  for (int i = 0; i < fs.n; ++i) {
    auto it = old_row.find(task.keys[size_t(i)]);
    if (it != old_row.end()) {
      std::memcpy(fs.data.data() + size_t(i) * row, c.blob.data.data() + it->second * row, row * sizeof(float));
      ++st.cached;
    } else {
      todo.push_back(i);
    }
  }
  return todo;
}

// Extracts the features of the todo items into fs, one FeatureExtractor per chunk.
void ComputeRows(const Dataset& ds, const TaskView& task, const FeatureOptions& options, const std::vector<int>& todo,
                 FeatureSet& fs) {
  const int rate = options.sample_rate, window = options.window_samples();
  const size_t row = size_t(fs.frames) * size_t(fs.bins);
  std::unique_ptr<BackgroundNoise> noise = NoiseIfNeeded(ds, task, todo, rate);
  Progress p("features", long(todo.size()));
  std::atomic<long> done{0};
  ParallelFor(long(todo.size()), [&](long b, long e, int chunk) {
    FeatureExtractor fx(options);
    std::vector<float> w(static_cast<size_t>(window));
    for (long j = b; j < e; ++j) {
      const int i = todo[size_t(j)];
      ItemWindow(ds, task, i, rate, window, noise.get(), w.data());
      FeatureMatrix m = fx.Compute(w.data(), window);
      if (m.frames != fs.frames || m.bins != fs.bins)
        throw InternalError("features: extractor gave " + std::to_string(m.frames) + "x" + std::to_string(m.bins) +
                            ", expected " + std::to_string(fs.frames) + "x" + std::to_string(fs.bins));
      std::memcpy(fs.data.data() + size_t(i) * row, m.data.data(), row * sizeof(float));
      ++done;
      if (chunk == 0) p.Set(done.load());
    }
  });
  p.Set(done.load());  // chunk 0 may finish before the others
  p.Done();
}

// Writes this task's rows plus every old row (other datasets share the file) back, atomically.
void WriteCachedRows(const CachedRows& c, const std::string& key, const TaskView& task, const FeatureSet& fs,
                     ExtractStats& st) {
  const size_t row = size_t(fs.frames) * size_t(fs.bins);
  Blob nb;
  nb.frames = fs.frames;
  nb.bins = fs.bins;
  std::unordered_map<std::string, int> seen;
  std::vector<const float*> src;
  for (int i = 0; i < fs.n; ++i)
    if (seen.emplace(task.keys[size_t(i)], 1).second) {
      nb.keys.push_back(task.keys[size_t(i)]);
      src.push_back(fs.item(i));
    }
  if (c.have) {
    for (size_t r = 0; r < c.blob.keys.size(); ++r)
      if (seen.emplace(c.blob.keys[r], 1).second) {
        nb.keys.push_back(c.blob.keys[r]);
        src.push_back(c.blob.data.data() + r * row);
      }
  }
  nb.data.resize(nb.keys.size() * row);
  for (size_t r = 0; r < src.size(); ++r) std::memcpy(nb.data.data() + r * row, src[r], row * sizeof(float));
  try {
    AtomicWriteFile(c.file, Serialize(nb, key));
    st.cache_written = true;
    EnforceCacheLimit(c.file.parent_path().parent_path().string(), CacheLimitBytes(), c.file.string());
  } catch (const Error& e) {
    LogWarn("feature cache not written: %s", e.what());
  }
}

}  // namespace

FeatureSet ExtractFeatures(const Dataset& ds, const TaskView& task, const FeatureOptions& options,
                           const CacheOptions& cache, ExtractStats* stats_out) {
  const auto t0 = std::chrono::steady_clock::now();
  options.Validate();
  ExtractStats st;
  FeatureSet fs;
  fs.n = task.size();
  fs.frames = options.num_frames(options.window_samples());
  fs.bins = options.num_features();
  fs.labels = task.label;
  fs.label_names = task.labels;
  fs.data.assign(size_t(fs.n) * size_t(fs.frames) * size_t(fs.bins), 0.0f);

  const std::string key = options.Key() + "|window=first|v" + std::to_string(kFeatureCacheVersion);
  const CachedRows cached = ReadCachedRows(key, cache, fs.frames, fs.bins, st);
  const std::vector<int> todo = FillFromCache(cached, task, fs, st);
  if (!todo.empty()) {
    ComputeRows(ds, task, options, todo, fs);
    st.computed = int(todo.size());
  }
  if (!cached.file.empty() && (st.computed > 0 || !cached.have))
    WriteCachedRows(cached, key, task, fs, st);
  else if (cached.have)
    TouchCacheEntry(cached.file.string());  // least-recently-used order of the size cap
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  LogVerbose("features: %d computed, %d from cache (%.2f s)%s%s", st.computed, st.cached, st.seconds,
             st.cache_file.empty() ? "" : ", cache ", st.cache_file.c_str());
  if (stats_out) *stats_out = st;
  return fs;
}

}  // namespace kws
