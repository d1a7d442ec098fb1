// Shared by the search tests (one binary, test_search): a tiny generated dataset (two tones, 8
// speakers), a tiny base config, a search space over it, and running the kws binary.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audio/audio.h"
#include "support/command.h"
#include "support/tiny_model.h"
#include "util/fs.h"
#include "util/rng.h"

namespace kws::search_test {

namespace fsys = std::filesystem;

using Result = kws_test::CommandResult;

// `kws -q -j2 ARGS` (stdout and stderr captured).
inline Result RunKws(const std::string& args) {
  return kws_test::RunCommand(std::string(KWS_BINARY) + " -q -j2 " + args);
}

// "low": a 400 Hz tone, "high": a 2500 Hz tone, each with noise and a random phase and level;
// 8 speakers x 4 clips per label.
inline void WriteToneData(const fsys::path& dir) { kws_test::WriteToneData(dir.string()); }

// The tiny model (tests/support/tiny_model.h) on 10 mel bins.
inline const std::string kTinyBase = std::string(R"(
[features]
num_mel_bins = 10
frame_step_s = 0.02
)") + kws_test::kTinyLayers + R"(
[train]
epochs = 6
batch_size = 8
validation = 0.25
[train.learning_rate]
initial = 0.02
[prune]
enabled = true
frequency = 2
final_sparsity = 0.5
[data]
labels = ["low", "high"]
cache = false
)";

// Filters 2..16 (16 breaks the MACs budget: 25 x 5 x 16 x 9 = 18,000 > 12,000), a learning rate and
// a sparsity; two rungs (1 and 3 epochs), half promoted.
inline constexpr const char* kTinySpace = R"(
[search]
base = "tiny.toml"
seed = 6     # candidate 2 has 16 filters: refused
trials = 4
rungs = [1, 3]
eta = 2
quant = "int8"
bench_runs = 3

[space]
"model.layers.0.filters" = [2, 4, 8, 16]
"train.learning_rate.initial" = { min = 0.005, max = 0.05, log = true }
"prune.final_sparsity" = { min = 0.3, max = 0.6 }

[budget]
macs = 12000
)";

// trials.jsonl's lines without what a measurement or the machine decides (time, latency, worker).
inline std::vector<nlohmann::json> StableLines(const fsys::path& trials_jsonl) {
  std::vector<nlohmann::json> out;
  const std::string text = ReadFile(trials_jsonl);
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    nlohmann::json j = nlohmann::json::parse(text.substr(pos, nl - pos));
    pos = nl == std::string::npos ? text.size() : nl + 1;
    for (const char* k : {"seconds", "worker", "latency_us"}) j.erase(k);
    if (j.contains("exports"))
      for (auto& [q, f] : j["exports"].items()) f.erase("latency_us");
    out.push_back(j);
  }
  return out;
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    out.push_back(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  return out;
}

}  // namespace kws::search_test
