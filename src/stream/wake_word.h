// Streaming wake-word detection with a microWakeWord model, as ESPHome's micro_wake_word component
// runs it on a device (esphome/components/micro_wake_word/micro_wake_word.cpp and streaming_model.cpp):
//
//   16 kHz audio -> TFLite Micro's front end (features/micro/frontend.h: 30 ms window, the manifest's
//   feature_step_size, 40 channels 125-7,500 Hz, noise reduction, PCAN, log scale; ESPHome's
//   preprocessor_settings.h, which microWakeWord trains with through pymicro-features)
//   -> each frame's uint16 values to int8 as (v * 256 + 333) / 666 - 128, clamped
//   -> written into row k of the model's int8 input [1, stride, 40]; once `stride` new rows are in,
//   one Invoke (the model keeps its streaming state in resource variables between calls)
//   -> its uint8 probability into a ring of the last sliding_window_size outputs
//   -> WakeWordSmoother decides.
//
//   kws::WakeWordModel m = kws::LoadWakeWordModel("okay_nabu.json");  // manifest + model beside it
//   kws::WakeWordDetector det(m, m.options);
//   std::vector<kws::Detection> found;
//   det.Accept(samples, n, &found);  // any chunk size; floats in [-1, 1) at 16 kHz
//
// Detections carry the wake word as their label, the sliding-window mean (0..1) as their score and
// the stream time of the frame that fired (ms). Memory is fixed: no buffer grows with the stream.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "features/micro/frontend.h"
#include "runtime/interpreter.h"
#include "stream/detector.h"
#include "stream/postprocess.h"
#include "stream/wake_word_manifest.h"

namespace kws {

// ESPHome's decision settings. The cutoff is compared as ESPHome compares it: quantized to uint8 by
// truncation (int(probability_cutoff * 255) in __init__.py; 0.97 -> 247) and the window fires when
// the sum of its uint8 outputs exceeds cutoff_u8 * sliding_window_size.
struct WakeWordOptions {
  double probability_cutoff = 0.97;
  int sliding_window_size = 5;
  // ESPHome's MIN_SLICES_BEFORE_DETECTION: after a start or a detection, this many feature frames
  // whose newest output is below the cutoff must pass before the next detection (1 s at 10 ms).
  int min_slices_before_detection = 100;

  void Validate() const;  // UsageError naming the setting
  uint8_t cutoff_u8() const;
};

// The sliding window and its cool-off, one feature frame ("slice") at a time:
//   * a frame on which the model ran puts its uint8 output into the ring of the last N outputs;
//   * every frame: if the newest output in the ring is below the cutoff, the cool-off counter
//     (negative while cooling off) moves one step towards 0;
//   * once per new output, and only when the cool-off is over: the window fires if the sum of its
//     N outputs > cutoff_u8 * N; then every output in the ring becomes 0 and the cool-off starts
//     again at -min_slices_before_detection.
// So one utterance fires once: the next detection needs min_slices frames with a low newest output.
// A construction or Reset starts with the cool-off (as ESPHome does when it loads a model).
class WakeWordSmoother {
 public:
  explicit WakeWordSmoother(const WakeWordOptions& options);
  // One feature frame. `invoked`: the model ran on this frame and gave `probability`.
  // True when the wake word fires here; *mean (may be null) gets the window's mean / 255.
  bool Slice(bool invoked, uint8_t probability, float* mean = nullptr);
  void Reset();

  float mean() const;              // current window mean / 255
  int cool_off() const { return ignore_; }  // <= 0; 0 = detections allowed
  const WakeWordOptions& options() const { return opt_; }

 private:
  WakeWordOptions opt_;
  uint8_t cutoff_;
  std::vector<uint8_t> ring_;
  size_t newest_ = 0;
  int ignore_ = 0;
  bool pending_ = false;  // an output not yet checked against the window
};

// A manifest with its model, checked against the front end its settings give.
struct WakeWordModel {
  WakeWordManifest manifest;
  rt::Interpreter interpreter;
  micro::FrontendOptions frontend;  // ESPHome's settings at manifest.feature_step_size
  WakeWordOptions options;          // the manifest's cutoff and window
  int stride = 0;                   // feature frames per Invoke: input shape [1, stride, channels]
  static constexpr int kSampleRate = 16000;
};

// ESPHome's front-end settings (preprocessor_settings.h) at `step_ms`.
micro::FrontendOptions MicroWakeWordFrontend(int step_ms);

// Loads the manifest and the model beside it. BadInput naming the file if the manifest is invalid,
// the model is missing or malformed, its input is not int8 [1, stride, channels] with the front
// end's channel count, or its output is not one uint8 probability.
WakeWordModel LoadWakeWordModel(const std::string& manifest_path);
// The same from a manifest and model bytes (tests).
WakeWordModel MakeWakeWordModel(const WakeWordManifest& manifest, rt::Interpreter interpreter);

class WakeWordDetector {
 public:
  // `model` must outlive the detector (its interpreter holds the streaming state).
  WakeWordDetector(WakeWordModel& model, const WakeWordOptions& options);
  void Accept(const float* samples, size_t n, std::vector<Detection>* out);
  // Back to the state of a fresh start: front end, model variables, window, counters.
  void Reset();

  // Called after every Invoke with (time_ms, probability 0..1, window mean 0..1).
  std::function<void(int64_t, float, float)> on_result;

  const DetectorStats& stats() const { return stats_; }  // hops = feature frames, inferences = Invokes
  int sample_rate() const { return WakeWordModel::kSampleRate; }
  int hop_samples() const { return front_.window_step(); }
  const WakeWordSmoother& smoother() const { return smoother_; }

 private:
  void Frame(std::vector<Detection>* out);

  WakeWordModel& model_;
  micro::Frontend front_;
  WakeWordSmoother smoother_;
  std::vector<int16_t> pcm_;
  std::vector<uint16_t> frame_;
  int row_ = 0;  // next input row to fill
  int64_t frames_ = 0;
  DetectorStats stats_;
};

// Runs a whole clip from a fresh start (kws infer): the largest mean of N consecutive model outputs
// (the plain sliding window: no cool-off, no clearing after a detection; a clip is a piece of a
// stream) and the largest single output (0..1), whether that window is above the cutoff as
// ESPHome compares it, and how many detections the stream rules (with the start's cool-off) give.
struct WakeWordClipScore {
  float max_mean = 0, max_probability = 0;
  int64_t max_mean_ms = 0;  // stream time where the largest mean was reached
  bool above_cutoff = false;
  int detections = 0;
  // One line of `kws infer --json` for a wake-word model: {file, wake_word, score, max_probability, t,
  // above_cutoff, detections} (scores rounded to 4 decimals, t in seconds).
  nlohmann::ordered_json ToJson(const std::string& file, const std::string& wake_word) const;
};
WakeWordClipScore ScoreWakeWordClip(WakeWordDetector& det, const float* samples, size_t n);

}  // namespace kws
