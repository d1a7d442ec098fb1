// microWakeWord manifests, the model checks, ESPHome's sliding window / cut-off / cool-off on hand-made
// output sequences, and the detector's streaming on small models written here (no ../shared needed).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stream/wake_word.h"
#include "test_util.h"
#include "wake_word_util.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/rng.h"

namespace {

using nlohmann::json;

// A manifest as ESPHome's micro-wake-word-models ship them (version 2).
json ValidManifest() {
  return json::parse(R"({"type": "micro", "wake_word": "Hey Test", "author": "kws tests", "model": "m.tflite",
    "trained_languages": ["en"], "version": 2,
    "micro": {"probability_cutoff": 0.9, "feature_step_size": 10, "sliding_window_size": 4,
              "tensor_arena_size": 20000, "minimum_esphome_version": "2024.7.0"}})");
}

// Parses `j`, expecting BadInput whose message names the file and contains `want`.
void ExpectManifestError(const json& j, const std::string& want) {
  try {
    kws::ParseWakeWordManifest("/models/x.json", j.dump());
    ADD_FAILURE() << "accepted: " << j.dump();
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput) << e.what();
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("/models/x.json: ", 0), 0u) << m;
    EXPECT_NE(m.find(want), std::string::npos) << "want '" << want << "' in: " << m;
  }
}

TEST(WakeWordManifest, ReadsEveryFieldAndFindsTheModelBesideIt) {
  const auto m = kws::ParseWakeWordManifest("/models/hey_test.json", ValidManifest().dump());
  EXPECT_EQ(m.path, "/models/hey_test.json");
  EXPECT_EQ(m.wake_word, "Hey Test");
  EXPECT_EQ(m.model, "m.tflite");
  EXPECT_EQ(m.model_path, "/models/m.tflite");
  EXPECT_EQ(m.version, 2);
  EXPECT_DOUBLE_EQ(m.probability_cutoff, 0.9);
  EXPECT_EQ(m.sliding_window_size, 4);
  EXPECT_EQ(m.feature_step_size, 10);
  EXPECT_EQ(m.tensor_arena_size, 20000);
  json j = ValidManifest();
  j["model"] = "/elsewhere/m.tflite";
  EXPECT_EQ(kws::ParseWakeWordManifest("/models/x.json", j.dump()).model_path, "/elsewhere/m.tflite");
  EXPECT_EQ(kws::ParseWakeWordManifest("x.json", ValidManifest().dump()).model_path, "m.tflite");
}

TEST(WakeWordManifest, VersionOneUsesItsWindowKeyAndA20msStep) {
  // ESPHome's _convert_manifest_v1_to_v2: sliding_window_average_size, 20 ms features.
  const json j = json::parse(R"({"type": "micro", "wake_word": "Old", "model": "old.tflite", "version": 1,
    "micro": {"probability_cutoff": 0.5, "sliding_window_average_size": 10}})");
  const auto m = kws::ParseWakeWordManifest("old.json", j.dump());
  EXPECT_EQ(m.version, 1);
  EXPECT_EQ(m.sliding_window_size, 10);
  EXPECT_EQ(m.feature_step_size, 20);
  json v2_key = j;
  v2_key["micro"].erase("sliding_window_average_size");
  v2_key["micro"]["sliding_window_size"] = 10;
  ExpectManifestError(v2_key, "field 'micro.sliding_window_average_size' is missing");
}

TEST(WakeWordManifest, EachMissingFieldIsNamed) {
  for (const std::string key : {"type", "version", "wake_word", "model", "micro"}) {
    json j = ValidManifest();
    j.erase(key);
    ExpectManifestError(j, "field '" + key + "' is missing");
  }
  for (const std::string key : {"probability_cutoff", "sliding_window_size", "feature_step_size"}) {
    json j = ValidManifest();
    j["micro"].erase(key);
    ExpectManifestError(j, "field 'micro." + key + "' is missing");
  }
  // Not needed to run the model: may be left out.
  for (const std::string key : {"author", "trained_languages"}) {
    json j = ValidManifest();
    j.erase(key);
    EXPECT_NO_THROW(kws::ParseWakeWordManifest("x.json", j.dump())) << key;
  }
  json j = ValidManifest();
  j["micro"].erase("tensor_arena_size");
  EXPECT_EQ(kws::ParseWakeWordManifest("x.json", j.dump()).tensor_arena_size, 0);
}

TEST(WakeWordManifest, EachInvalidValueIsNamed) {
  struct Case {
    std::string path;  // "key" or "micro/key"
    json value;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"type", "openwakeword", "field 'type' must be \"micro\""},
      {"version", 3, "field 'version' must be 1..2 (got 3)"},
      {"version", "2", "field 'version' must be an integer"},
      {"wake_word", "", "field 'wake_word' must be a non-empty string"},
      {"model", 5, "field 'model' must be a non-empty string (got 5)"},
      {"micro", json::array(), "field 'micro' must be an object"},
      {"micro/probability_cutoff", 0, "field 'micro.probability_cutoff' must be a number in (0, 1] (got 0)"},
      {"micro/probability_cutoff", 1.5, "field 'micro.probability_cutoff' must be a number in (0, 1] (got 1.5)"},
      {"micro/probability_cutoff", -0.2, "field 'micro.probability_cutoff' must be a number in (0, 1]"},
      {"micro/probability_cutoff", "high", "field 'micro.probability_cutoff' must be a number in (0, 1]"},
      {"micro/probability_cutoff", true, "field 'micro.probability_cutoff' must be a number in (0, 1]"},
      {"micro/sliding_window_size", 0, "field 'micro.sliding_window_size' must be 1..1000 (got 0)"},
      {"micro/sliding_window_size", 2.5, "field 'micro.sliding_window_size' must be an integer (got 2.5)"},
      {"micro/feature_step_size", 0, "field 'micro.feature_step_size' must be 1..30 (got 0)"},
      {"micro/feature_step_size", 31, "field 'micro.feature_step_size' must be 1..30 (got 31)"},
      {"micro/tensor_arena_size", -1, "field 'micro.tensor_arena_size' must be 0.."},
  };
  for (const Case& c : cases) {
    json j = ValidManifest();
    const size_t slash = c.path.find('/');
    if (slash == std::string::npos) j[c.path] = c.value;
    else j["micro"][c.path.substr(slash + 1)] = c.value;
    ExpectManifestError(j, c.want);
  }
}

TEST(WakeWordManifest, NotJsonOrNotAnObjectIsBadInput) {
  for (const std::string text : {"", "{\"type\": \"micro\"", "[1, 2]", "\"micro\""}) {
    try {
      kws::ParseWakeWordManifest("bad.json", text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const kws::Error& e) {
      EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput);
      EXPECT_EQ(std::string(e.what()).rfind("bad.json: not ", 0), 0u) << e.what();
    }
  }
}

TEST(WakeWordManifest, LoadNeedsTheManifestAndTheModelBesideIt) {
  kws::test::TempDir dir("ww_manifest");
  const std::string manifest = dir / "hey_test.json";
  try {
    kws::LoadWakeWordManifest(manifest);
    ADD_FAILURE();
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput);
    EXPECT_EQ(std::string(e.what()), manifest + ": no such manifest file");
  }
  kws::AtomicWriteFile(manifest, ValidManifest().dump());
  try {
    kws::LoadWakeWordManifest(manifest);
    ADD_FAILURE();
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find(manifest + ": field 'model' names " + (dir / "m.tflite")), std::string::npos)
        << e.what();
  }
  kws::AtomicWriteFile(dir / "m.tflite", "x");
  EXPECT_EQ(kws::LoadWakeWordManifest(manifest).model_path, dir / "m.tflite");
}

TEST(WakeWordManifest, ManifestPathsAreJsonFiles) {
  EXPECT_TRUE(kws::IsWakeWordManifestPath("okay_nabu.json"));
  EXPECT_TRUE(kws::IsWakeWordManifestPath("/a/b/OKAY.JSON"));
  EXPECT_FALSE(kws::IsWakeWordManifestPath("okay_nabu.tflite"));
  EXPECT_FALSE(kws::IsWakeWordManifestPath("json"));
}

// ---------------------------------------------------------------------------------------------
// Model checks (small models from wake_word_util.h)
// ---------------------------------------------------------------------------------------------

using kws::test::TinyModel;

kws::WakeWordManifest TinyManifest(int step_ms = 10, int window = 3, double cutoff = 0.5) {
  kws::WakeWordManifest m;
  m.path = "tiny.json";
  m.wake_word = "Tiny";
  m.model = m.model_path = "tiny.tflite";
  m.feature_step_size = step_ms;
  m.sliding_window_size = window;
  m.probability_cutoff = cutoff;
  return m;
}

kws::WakeWordModel Tiny(const std::vector<int>& shape, tflite::TensorType in = tflite::TensorType::INT8,
                        tflite::TensorType out = tflite::TensorType::UINT8) {
  return kws::MakeWakeWordModel(TinyManifest(), kws::rt::Interpreter::FromBuffer("tiny.tflite", TinyModel(shape, in, out)));
}

void ExpectModelError(const std::vector<int>& shape, tflite::TensorType in, tflite::TensorType out,
                      const std::string& want) {
  try {
    Tiny(shape, in, out);
    ADD_FAILURE() << "accepted";
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("tiny.tflite: ", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << "want '" << want << "' in: " << e.what();
  }
}

TEST(WakeWordModel, InputMustMatchTheFrontEnd) {
  using tflite::TensorType;
  const auto i8 = TensorType::INT8, u8 = TensorType::UINT8;
  ExpectModelError({1, 3, 32}, i8, u8, "input [1, 3, 32] does not match the micro front end, which gives 40 values");
  ExpectModelError({1, 120}, i8, u8, "input [1, 120] does not match the micro front end");
  ExpectModelError({2, 3, 40}, i8, u8, "input [2, 3, 40] does not match");
  ExpectModelError({1, 3, 40}, TensorType::FLOAT32, u8, "input is float32");
  ExpectModelError({1, 3, 40}, i8, i8, "output is int8 [1, 1]; a microWakeWord model gives one uint8 probability");
  const kws::WakeWordModel m3 = Tiny({1, 3, 40});
  EXPECT_EQ(m3.stride, 3);
  EXPECT_EQ(m3.frontend.window.size_ms, 30);
  EXPECT_EQ(m3.frontend.window.step_ms, 10);
  EXPECT_EQ(m3.frontend.filterbank.num_channels, 40);
  EXPECT_TRUE(m3.frontend.pcan.enabled);
  EXPECT_DOUBLE_EQ(m3.options.probability_cutoff, 0.5);
  EXPECT_EQ(m3.options.sliding_window_size, 3);
  EXPECT_EQ(Tiny({1, 1, 40}).stride, 1);
}

// ---------------------------------------------------------------------------------------------
// The sliding window, on hand-made uint8 outputs
// ---------------------------------------------------------------------------------------------

kws::WakeWordOptions Opts(double cutoff, int window, int min_slices) {
  kws::WakeWordOptions o;
  o.probability_cutoff = cutoff;
  o.sliding_window_size = window;
  o.min_slices_before_detection = min_slices;
  return o;
}

// Feeds one slice per value (every slice invoked); returns the indices that fired.
std::vector<int> Fired(kws::WakeWordSmoother& s, const std::vector<int>& outputs) {
  std::vector<int> fired;
  for (size_t i = 0; i < outputs.size(); ++i)
    if (s.Slice(true, uint8_t(outputs[i]))) fired.push_back(int(i));
  return fired;
}

TEST(WakeWordSmoother, CutoffIsQuantizedAsEsphomeDoes) {
  // int(probability_cutoff * 255): truncation.
  EXPECT_EQ(Opts(0.97, 5, 0).cutoff_u8(), 247);  // 247.35
  EXPECT_EQ(Opts(0.5, 5, 0).cutoff_u8(), 127);   // 127.5
  EXPECT_EQ(Opts(1.0, 5, 0).cutoff_u8(), 255);
  EXPECT_EQ(Opts(0.001, 5, 0).cutoff_u8(), 0);
  EXPECT_THROW(Opts(0.0, 5, 0).Validate(), kws::Error);
  EXPECT_THROW(Opts(1.01, 5, 0).Validate(), kws::Error);
  EXPECT_THROW(Opts(0.5, 0, 0).Validate(), kws::Error);
  EXPECT_THROW(Opts(0.5, 5, -1).Validate(), kws::Error);
}

TEST(WakeWordSmoother, FiresWhenTheWindowSumIsAboveTheCutoff) {
  // Window 1, cutoff 127: 127 is not above it, 128 is.
  kws::WakeWordSmoother one(Opts(0.5, 1, 0));
  EXPECT_EQ(Fired(one, {127, 100, 127}), std::vector<int>{});
  EXPECT_EQ(Fired(one, {128}), std::vector<int>{0});
  // Window 3, cutoff 127: fires when the sum of the last three > 381.
  kws::WakeWordSmoother three(Opts(0.5, 3, 0));
  EXPECT_EQ(Fired(three, {0, 255, 126}), std::vector<int>{});   // 381
  kws::WakeWordSmoother three_b(Opts(0.5, 3, 0));
  EXPECT_EQ(Fired(three_b, {0, 255, 127}), std::vector<int>{2});  // 382
  kws::WakeWordSmoother three_c(Opts(0.5, 3, 0));
  float mean = -1;
  EXPECT_FALSE(three_c.Slice(true, 200, &mean));
  EXPECT_FLOAT_EQ(mean, 200.0f / (3 * 255.0f));
  EXPECT_FALSE(three_c.Slice(true, 100, &mean));
  EXPECT_TRUE(three_c.Slice(true, 90, &mean));  // 390
  EXPECT_FLOAT_EQ(mean, 390.0f / (3 * 255.0f));
  EXPECT_FLOAT_EQ(three_c.mean(), 0.0f);  // cleared after the detection
}

TEST(WakeWordSmoother, OneUtteranceFiresOnceThenCoolsOff) {
  // Window 3, cutoff 127, cool-off 4 slices.
  kws::WakeWordSmoother s(Opts(0.5, 3, 4));
  std::vector<int> out = {0, 0, 0, 0};  // 0-3: the start's cool-off ends at slice 3
  out.insert(out.end(), 20, 255);       // 4-23: a long utterance
  out.insert(out.end(), {0, 0});        // 24-25: two low outputs: cool-off -2
  out.insert(out.end(), 3, 255);        // 26-28: high outputs hold it at -2
  out.insert(out.end(), {0, 0});        // 29-30: -1, 0; the window {255, 0, 0} at 30 is below
  out.insert(out.end(), {255, 255});    // 31-32: the next utterance
  // 5: the second 255 makes 510 > 381; the ring is cleared and the cool-off starts at -4. It only
  // moves on slices whose newest output is below the cut-off (24-25, 29-30), so 6..30 never fire
  // however high the outputs. At 32 the window is {0, 255, 255} = 510.
  EXPECT_EQ(Fired(s, out), (std::vector<int>{5, 32}));
}

TEST(WakeWordSmoother, TheStartCountsAsADetection) {
  // ESPHome resets the window when it loads a model: a stream that starts high never fires until
  // min_slices low outputs have passed.
  kws::WakeWordSmoother s(Opts(0.5, 2, 100));
  EXPECT_EQ(Fired(s, std::vector<int>(500, 255)), std::vector<int>{});
  EXPECT_EQ(s.cool_off(), -100);
  EXPECT_EQ(Fired(s, std::vector<int>(99, 0)), std::vector<int>{});
  EXPECT_EQ(s.cool_off(), -1);
  EXPECT_EQ(Fired(s, {0, 255, 255}), std::vector<int>{1});
  // Reset: the start state again.
  s.Reset();
  EXPECT_EQ(s.cool_off(), -100);
  EXPECT_FLOAT_EQ(s.mean(), 0.0f);
  EXPECT_EQ(Fired(s, std::vector<int>(50, 255)), std::vector<int>{});
}

TEST(WakeWordSmoother, APendingOutputIsCheckedWhenTheCoolOffEnds) {
  // The model runs every third slice. An output stays pending while cooling off, and is checked
  // on the slice that ends the cool-off even when the model did not run there (ESPHome checks
  // every slice while an output is unprocessed).
  kws::WakeWordSmoother s(Opts(0.5, 3, 2));
  EXPECT_FALSE(s.Slice(true, 255));   // newest 255: cool-off stays -2
  EXPECT_FALSE(s.Slice(true, 255));
  EXPECT_FALSE(s.Slice(true, 100));   // newest below: -1
  EXPECT_EQ(s.cool_off(), -1);
  EXPECT_TRUE(s.Slice(false, 0));     // 0: sum 610 > 381, fired without a new output
  EXPECT_FALSE(s.Slice(false, 0));
  // Without a pending output nothing is checked: slices without a model run never fire on their own.
  kws::WakeWordSmoother t(Opts(0.5, 1, 0));
  EXPECT_TRUE(t.Slice(true, 200));
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(t.Slice(false, 0));
}

// ---------------------------------------------------------------------------------------------
// The detector on the small model
// ---------------------------------------------------------------------------------------------

using kws::test::Bursts;

struct StreamRun {
  std::vector<std::pair<int64_t, float>> results;  // (time, probability) per Invoke
  std::vector<kws::Detection> found;
  kws::DetectorStats stats;
};

StreamRun Stream(kws::WakeWordDetector& det, const std::vector<float>& x, const std::vector<size_t>& chunks) {
  det.Reset();
  StreamRun r;
  det.on_result = [&](int64_t t, float p, float) { r.results.emplace_back(t, p); };
  size_t at = 0, k = 0;
  while (at < x.size()) {
    const size_t n = std::min(x.size() - at, chunks.empty() ? x.size() : chunks[k++ % chunks.size()]);
    det.Accept(x.data() + at, n, &r.found);
    at += n;
  }
  r.stats = det.stats();
  det.on_result = nullptr;
  return r;
}

TEST(WakeWordDetector, RunsTheModelOncePerStrideOfFrames) {
  kws::WakeWordModel m = Tiny({1, 3, 40});
  kws::WakeWordDetector det(m, Opts(0.5, 3, 100));
  const std::vector<float> x = Bursts(10.0, 1);
  const StreamRun r = Stream(det, x, {});
  // 30 ms window, 10 ms step: 1 + (160000 - 480) / 160 = 998 frames; one Invoke per 3.
  EXPECT_EQ(r.stats.samples, 160000);
  EXPECT_EQ(r.stats.hops, 998);
  EXPECT_EQ(r.stats.inferences, 332);
  ASSERT_EQ(r.results.size(), 332u);
  EXPECT_EQ(r.results[0].first, 50);  // the third frame ends at 480 + 2 * 160 samples
  EXPECT_EQ(r.results[1].first, 80);
  // The bursts drive the output up and down; the detector fires once per burst after the start's 1 s.
  float lo = 1, hi = 0;
  for (const auto& [t, p] : r.results) lo = std::min(lo, p), hi = std::max(hi, p);
  EXPECT_LT(lo, 0.3f);
  EXPECT_GT(hi, 0.9f);
  ASSERT_EQ(r.found.size(), 5u) << "one per burst (at 1.2, 3.2, 5.2, 7.2, 9.2 s)";
  for (size_t i = 0; i < r.found.size(); ++i) {
    EXPECT_EQ(r.found[i].name, "Tiny");
    EXPECT_GT(r.found[i].score, 0.5f);
    EXPECT_GE(r.found[i].time_ms, int64_t(1200 + 2000 * i));
    EXPECT_LE(r.found[i].time_ms, int64_t(1800 + 2000 * i));
  }
  EXPECT_EQ(r.stats.detections, 5);
}

TEST(WakeWordDetector, OneBlockOrManyGiveTheSameStream) {
  kws::WakeWordModel m = Tiny({1, 3, 40});
  kws::WakeWordDetector det(m, Opts(0.5, 3, 100));
  const std::vector<float> x = Bursts(7.0, 2);
  const StreamRun whole = Stream(det, x, {});
  ASSERT_FALSE(whole.found.empty());
  for (const std::vector<size_t>& chunks : std::vector<std::vector<size_t>>{{1}, {160}, {7, 500, 1, 3000, 161}, {479, 481}}) {
    const StreamRun parts = Stream(det, x, chunks);
    EXPECT_EQ(parts.results, whole.results) << "chunks " << chunks[0];
    ASSERT_EQ(parts.found.size(), whole.found.size());
    for (size_t i = 0; i < whole.found.size(); ++i) {
      EXPECT_EQ(parts.found[i].time_ms, whole.found[i].time_ms);
      EXPECT_EQ(parts.found[i].score, whole.found[i].score);
    }
    EXPECT_EQ(parts.stats.hops, whole.stats.hops);
  }
}

TEST(WakeWordDetector, ClipScoreIsTheLargestPlainWindowMean) {
  kws::WakeWordModel m = Tiny({1, 1, 40});
  kws::WakeWordDetector det(m, Opts(0.5, 3, 100));
  const std::vector<float> x = Bursts(4.0, 3);
  const StreamRun r = Stream(det, x, {});
  float best = 0;
  for (size_t i = 2; i < r.results.size(); ++i)
    best = std::max(best, (r.results[i].second + r.results[i - 1].second + r.results[i - 2].second) / 3.0f);
  const kws::WakeWordClipScore s = kws::ScoreWakeWordClip(det, x.data(), x.size());
  EXPECT_NEAR(s.max_mean, best, 1e-6);
  EXPECT_GT(s.max_probability, 0.9f);
  EXPECT_EQ(s.detections, int(r.found.size()));
  EXPECT_GE(s.max_mean_ms, 1200);
  EXPECT_TRUE(s.above_cutoff);
  // A burst within the first second: above the cutoff, but the stream's start cool-off keeps it from
  // firing. Quiet alone: neither.
  std::vector<float> early = Bursts(1.0, 4), quiet(16000, 0.0f);
  std::copy(x.begin() + 19200, x.begin() + 25600, early.begin() + 3200);  // 1.2-1.6 s to 0.2-0.6 s
  const kws::WakeWordClipScore e = kws::ScoreWakeWordClip(det, early.data(), early.size());
  EXPECT_TRUE(e.above_cutoff);
  EXPECT_EQ(e.detections, 0);
  EXPECT_GE(e.max_mean_ms, 200);
  EXPECT_LE(e.max_mean_ms, 800);
  const kws::WakeWordClipScore q = kws::ScoreWakeWordClip(det, quiet.data(), quiet.size());
  EXPECT_FALSE(q.above_cutoff);
  EXPECT_LT(q.max_mean, 0.5f);
}

}  // namespace
