// Helpers shared by the stream tests: a seed-shaped .tflite with kws metadata, a
// temp dir, running the real binary, a fake scorer that recognises tone "keywords".
#pragma once
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "export/synthetic.h"
#include "export/tflite_export.h"
#include "stream/detector.h"
#include "util/fs.h"

namespace kws::test {

// A detection of class `label` at stream time `time_ms` (for scoring tests).
inline Detection DetectionAt(int64_t time_ms, int label) {
  Detection d;
  d.time_ms = time_ms;
  d.label = label;
  return d;
}

// `detector`: the metadata's detector settings (null = none, as in models exported before them).
inline std::string SeedModelBytes(QuantMode q = QuantMode::kFloat, bool with_metadata = true, uint64_t seed = 1,
                                  const nlohmann::json& detector = nullptr) {
  ir::SyntheticOptions so;
  so.classes = 4;
  so.seed = seed;
  ir::Graph g = ir::MakeSyntheticGraph(so);
  ExportOptions eo;
  eo.quant = q;
  if (with_metadata) {
    tfl::KwsMetadata md;
    md.labels = {"_silence_", "_unknown_", "yes", "no"};
    md.detector = detector;
    eo.metadata = md;  // default features: 16 kHz, 512/160, 20 mel -> 97 x 20
  }
  return ExportTflite(g, eo);
}

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) {
    path = std::filesystem::temp_directory_path() / ("kws_stream_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& f) const { return (path / f).string(); }
};

struct RunResult {
  int rc = -1;
  std::string out;
};
// Runs a /bin/sh command line; returns exit code and stdout.
inline RunResult Sh(const std::string& cmd) {
  RunResult r;
  std::FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> v;
  size_t a = 0;
  while (a < s.size()) {
    size_t b = s.find('\n', a);
    if (b == std::string::npos) b = s.size();
    if (b > a) v.push_back(s.substr(a, b - a));
    a = b + 1;
  }
  return v;
}

// "yes" = a ~500 Hz tone (loudest mel bin 2..6), "no" = a ~3 kHz tone (bins 13..17), for the seed
// features (20 mel bins, 20-6000 Hz). A frame counts when its loudest bin stands 1.0 (log units)
// above the frame's median; score = min(1, frames / 20).
class ToneScorer : public Scorer {
 public:
  int frames() const override { return 97; }
  int bins() const override { return 20; }
  int num_classes() const override { return 4; }
  void Score(const float* f, float* out) override {
    int lo = 0, hi = 0;
    float tmp[20];
    for (int t = 0; t < 97; ++t) {
      const float* r = f + t * 20;
      int best = 0;
      for (int b = 1; b < 20; ++b)
        if (r[b] > r[best]) best = b;
      std::copy(r, r + 20, tmp);
      std::nth_element(tmp, tmp + 10, tmp + 20);
      if (r[best] - tmp[10] < 1.0f) continue;
      if (best >= 2 && best <= 6) ++lo;
      if (best >= 13 && best <= 17) ++hi;
    }
    out[2] = std::min(1.0f, lo / 20.0f);
    out[3] = std::min(1.0f, hi / 20.0f);
    out[0] = std::max(0.0f, 1.0f - out[2] - out[3]);
    out[1] = 0;
  }
};

}  // namespace kws::test
