// Features of a whole task, extracted on all cores and cached on disk.
//
//   kws::ExtractStats st;
//   kws::FeatureSet fs = kws::ExtractFeatures(ds, task, feature_options, {}, &st);
//   // fs.data: contiguous float [fs.n, fs.frames, fs.bins]; fs.labels[i]: class of item i
//   // st.computed / st.cached: how many items were extracted vs read from the cache
//
// Each item's audio is decoded at options.sample_rate, cut/padded to the first
// window of options.window_samples() and run through a FeatureExtractor (one
// per ParallelFor chunk).
//
// Cache layout: one file per (FeatureOptions::Key(), format version) under
// <cache dir>/features/. Rows are keyed by each item's content key (the clip's
// SHA-256), so renamed/moved clips and folders hit, clips seen in another
// dataset hit, and edited clips miss. One blob instead of one file per clip:
// ~5,000 clips become a single ~40 MB sequential read instead of 5,000 opens,
// and the write is one atomic rename.
// The file ends with a SHA-256 of everything before it; a file whose
// checksum, magic, version or key does not match is ignored and rewritten.
// Cache dir: CacheOptions::dir, else data/cache.h's root ($KWS_CACHE_DIR, else
// $XDG_CACHE_HOME/kws, else ~/.cache/kws when HOME exists); no cache, with a warning, when it
// cannot be written. The whole cache is kept under its size cap (data/cache.h).
#pragma once
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/task.h"
#include "features/features.h"

namespace kws {

struct FeatureSet {
  int n = 0, frames = 0, bins = 0;
  std::vector<float> data;                // [n, frames, bins] row-major
  std::vector<int> labels;                // class index per item
  std::vector<std::string> label_names;   // class names
  // Training classes that refine the labels (data.unknown_subclasses): class per item and class names,
  // the first label_names.size() of them being label_names. Empty = the labels are the classes.
  std::vector<int> classes;
  std::vector<std::string> class_names;
  const float* item(int i) const { return data.data() + size_t(i) * size_t(frames) * size_t(bins); }
};

struct CacheOptions {
  bool enabled = true;
  std::string dir;  // "" = default (see above)
};

struct ExtractStats {
  int computed = 0;          // items extracted from audio this call
  int cached = 0;            // items read from the cache file
  bool cache_written = false;
  std::string cache_file;    // "" when the cache is off
  std::string cache_note;    // why an existing cache file was ignored ("" if none)
  double seconds = 0;
};

// The cache root as resolved from CacheOptions / environment ("" if none).
std::string ResolveCacheDir(const std::string& dir_option = "");

// Bumped whenever the feature code or the blob layout changes meaningfully.
// 2: library FFT (FFTW / kissfft<double>) replaced the hand-written one; the
//    backend itself is in FeatureOptions::Key() ("impl=...").
inline constexpr int kFeatureCacheVersion = 2;

FeatureSet ExtractFeatures(const Dataset& ds, const TaskView& task, const FeatureOptions& options,
                           const CacheOptions& cache = {}, ExtractStats* stats = nullptr);

// Audio windows of every item at `sample_rate` (first window of `window`
// samples, zero padded), contiguous [n, window] — for on-the-fly augmentation.
struct WindowSet {
  int n = 0, window = 0, sample_rate = 0;
  std::vector<float> data;
  std::vector<int> labels;
  const float* item(int i) const { return data.data() + size_t(i) * size_t(window); }
};
WindowSet LoadWindows(const Dataset& ds, const TaskView& task, int sample_rate, int window);

// One item's window (clip or synthesised silence).
std::vector<float> LoadItemWindow(const Dataset& ds, const TaskView& task, int item, int sample_rate, int window);

}  // namespace kws
