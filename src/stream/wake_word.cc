#include "stream/wake_word.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "util/error.h"

namespace kws {

// ---------------------------------------------------------------------------------------------
// Options and the sliding window (ESPHome streaming_model.cpp: perform_streaming_inference,
// determine_detected, reset_probabilities; micro_wake_word.cpp: process_probabilities_)
// ---------------------------------------------------------------------------------------------

void WakeWordOptions::Validate() const {
  if (!(probability_cutoff > 0.0 && probability_cutoff <= 1.0))
    throw UsageError("wake word: probability_cutoff must be in (0, 1] (got " + std::to_string(probability_cutoff) + ")");
  if (sliding_window_size < 1 || sliding_window_size > 1000)
    throw UsageError("wake word: sliding_window_size must be 1..1000 (got " + std::to_string(sliding_window_size) + ")");
  if (min_slices_before_detection < 0 || min_slices_before_detection > 1000000)
    throw UsageError("wake word: min_slices_before_detection must be 0..1000000 (got " +
                     std::to_string(min_slices_before_detection) + ")");
}

uint8_t WakeWordOptions::cutoff_u8() const {
  // Python's int(probability_cutoff * 255) on a double: truncation toward zero.
  return uint8_t(std::clamp(std::trunc(probability_cutoff * 255.0), 0.0, 255.0));
}

WakeWordSmoother::WakeWordSmoother(const WakeWordOptions& options)
    : opt_((options.Validate(), options)), cutoff_(options.cutoff_u8()) {
  ring_.assign(size_t(opt_.sliding_window_size), 0);
  Reset();
}

void WakeWordSmoother::Reset() {
  std::fill(ring_.begin(), ring_.end(), uint8_t(0));
  ignore_ = -opt_.min_slices_before_detection;
  pending_ = false;
}

float WakeWordSmoother::mean() const {
  uint32_t sum = 0;
  for (uint8_t p : ring_) sum += p;
  return float(sum) / (255.0f * float(ring_.size()));
}

bool WakeWordSmoother::Slice(bool invoked, uint8_t probability, float* mean_out) {
  if (invoked) {
    newest_ = (newest_ + 1) % ring_.size();
    ring_[newest_] = probability;
    pending_ = true;
  }
  if (ring_[newest_] < cutoff_) ignore_ = std::min(ignore_ + 1, 0);
  if (mean_out) *mean_out = mean();
  if (!pending_ || ignore_ < 0) return false;  // the output stays pending until the cool-off ends
  pending_ = false;
  uint32_t sum = 0;
  for (uint8_t p : ring_) sum += p;
  if (sum <= uint32_t(cutoff_) * uint32_t(ring_.size())) return false;
  std::fill(ring_.begin(), ring_.end(), uint8_t(0));
  ignore_ = -opt_.min_slices_before_detection;
  return true;
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

micro::FrontendOptions MicroWakeWordFrontend(int step_ms) {
  // ESPHome preprocessor_settings.h: micro_speech's settings (30 ms window, 40 channels, 125-7,500 Hz,
  // noise reduction 10 bits 0.025/0.06/0.05, PCAN 0.95/80/21, log scale shift 6) at the model's step.
  micro::FrontendOptions o = micro::FrontendOptions::MicroSpeech();
  o.window.step_ms = step_ms;
  return o;
}

namespace {
std::string ShapeText(const std::vector<int>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}
}  // namespace

WakeWordModel MakeWakeWordModel(const WakeWordManifest& manifest, rt::Interpreter interpreter) {
  WakeWordModel m{manifest, std::move(interpreter), MicroWakeWordFrontend(manifest.feature_step_size), {}, 0};
  const std::string& name = manifest.model_path;
  m.frontend.Validate(WakeWordModel::kSampleRate);
  m.options.probability_cutoff = manifest.probability_cutoff;
  m.options.sliding_window_size = manifest.sliding_window_size;
  m.options.Validate();
  rt::Interpreter& it = m.interpreter;
  if (it.num_inputs() != 1 || it.num_outputs() != 1)
    throw BadInput(name + ": a microWakeWord model has one input and one output (this one " +
                   std::to_string(it.num_inputs()) + " and " + std::to_string(it.num_outputs()) + ")");
  // ESPHome's load_model_ checks: input int8 [1, stride, 40], output uint8 [1, 1].
  const rt::TensorInfo in = it.input(0), out = it.output(0);
  const int channels = m.frontend.filterbank.num_channels;
  if (in.shape.size() != 3 || in.shape[0] != 1 || in.shape[1] < 1 || in.shape[2] != channels)
    throw BadInput(name + ": input " + ShapeText(in.shape) + " does not match the micro front end, which gives " +
                   std::to_string(channels) + " values per frame (a microWakeWord model takes [1, stride, " +
                   std::to_string(channels) + "])");
  if (in.type != rt::DType::kInt8)
    throw BadInput(name + ": input is " + rt::DTypeName(in.type) + "; a microWakeWord model takes the front end's int8");
  if (out.elements() != 1 || out.type != rt::DType::kUInt8)
    throw BadInput(name + ": output is " + std::string(rt::DTypeName(out.type)) + " " + ShapeText(out.shape) +
                   "; a microWakeWord model gives one uint8 probability [1, 1]");
  m.stride = in.shape[1];
  // What TFLite Micro computes on the device (reference requantization).
  it.set_int8_arithmetic(rt::Int8Arithmetic::kReference);
  return m;
}

WakeWordModel LoadWakeWordModel(const std::string& manifest_path) {
  const WakeWordManifest manifest = LoadWakeWordManifest(manifest_path);
  return MakeWakeWordModel(manifest, rt::Interpreter::FromFile(manifest.model_path));
}

// ---------------------------------------------------------------------------------------------
// The detector
// ---------------------------------------------------------------------------------------------

WakeWordDetector::WakeWordDetector(WakeWordModel& model, const WakeWordOptions& options)
    : model_(model), front_(model.frontend, WakeWordModel::kSampleRate), smoother_(options) {
  if (model.stride < 1) throw UsageError("wake word detector: the model is not loaded (stride 0)");
  frame_.assign(size_t(front_.num_channels()), 0);
  Reset();
}

void WakeWordDetector::Reset() {
  front_.Reset();
  model_.interpreter.ResetVariables();
  std::memset(model_.interpreter.input_data(0), 0, model_.interpreter.input(0).bytes);
  smoother_.Reset();
  row_ = 0;
  frames_ = 0;
  stats_ = {};
}

void WakeWordDetector::Accept(const float* x, size_t n, std::vector<Detection>* out) {
  stats_.samples += int64_t(n);
  pcm_.resize(n);
  for (size_t i = 0; i < n; ++i) pcm_[i] = micro::ToInt16(x[i]);
  const int16_t* p = pcm_.data();
  while (n > 0) {
    size_t used = 0;
    if (front_.ProcessSamples(p, n, &used, frame_.data())) Frame(out);
    p += used;
    n -= used;
  }
}

void WakeWordDetector::Frame(std::vector<Detection>* out) {
  ++stats_.hops;
  const int64_t end_sample = int64_t(front_.window_size()) + frames_ * int64_t(front_.window_step());
  const int64_t now_ms = end_sample * 1000 / WakeWordModel::kSampleRate;
  ++frames_;
  // ESPHome's generate_features_ + perform_streaming_inference: the frame's int8 into the next row.
  const int channels = front_.num_channels();
  int8_t* input = static_cast<int8_t*>(model_.interpreter.input_data(0)) + size_t(row_) * size_t(channels);
  for (int c = 0; c < channels; ++c) input[c] = micro::ToInt8(frame_[size_t(c)]);
  bool invoked = false;
  uint8_t probability = 0;
  if (++row_ == model_.stride) {
    row_ = 0;
    model_.interpreter.Invoke();
    ++stats_.inferences;
    probability = *static_cast<const uint8_t*>(model_.interpreter.output_data(0));
    invoked = true;
  }
  float mean = 0;
  const bool fired = smoother_.Slice(invoked, probability, &mean);
  if (invoked && on_result) on_result(now_ms, float(probability) / 255.0f, mean);
  if (!fired) return;
  ++stats_.detections;
  if (!out) return;
  Detection d;
  d.time_ms = now_ms;
  d.label = 0;
  d.name = model_.manifest.wake_word;
  d.score = mean;
  out->push_back(std::move(d));
}

WakeWordClipScore ScoreWakeWordClip(WakeWordDetector& det, const float* samples, size_t n) {
  det.Reset();
  WakeWordClipScore s;
  const WakeWordOptions& o = det.smoother().options();
  std::vector<uint8_t> last(size_t(o.sliding_window_size), 0);
  size_t at = 0;
  uint32_t best = 0;
  auto previous = std::move(det.on_result);
  det.on_result = [&](int64_t t, float p, float) {
    last[at] = uint8_t(std::lround(p * 255.0f));  // the model's uint8 output
    at = (at + 1) % last.size();
    uint32_t sum = 0;
    for (uint8_t v : last) sum += v;
    if (sum > best) {
      best = sum;
      s.max_mean_ms = t;
    }
    s.max_probability = std::max(s.max_probability, p);
  };
  det.Accept(samples, n, nullptr);
  det.on_result = std::move(previous);
  s.max_mean = float(best) / (255.0f * float(last.size()));
  s.above_cutoff = best > uint32_t(o.cutoff_u8()) * uint32_t(last.size());
  s.detections = int(det.stats().detections);
  return s;
}

nlohmann::ordered_json WakeWordClipScore::ToJson(const std::string& file, const std::string& wake_word) const {
  nlohmann::ordered_json j;  // keys in a fixed order
  j["file"] = file;
  j["wake_word"] = wake_word;
  j["score"] = std::round(double(max_mean) * 10000.0) / 10000.0;
  j["max_probability"] = std::round(double(max_probability) * 10000.0) / 10000.0;
  j["t"] = double(max_mean_ms) / 1000.0;
  j["above_cutoff"] = above_cutoff;
  j["detections"] = detections;
  return j;
}

}  // namespace kws
