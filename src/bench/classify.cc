#include "bench/classify.h"

#include <algorithm>
#include <cmath>

#include "audio/audio.h"
#include "util/bounded_read.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

namespace kws {

void SoftmaxInPlace(float* x, int n) {
  if (n <= 0) return;
  const float m = *std::max_element(x, x + n);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += (x[i] = std::exp(x[i] - m));
  for (int i = 0; i < n; ++i) x[i] = float(x[i] / sum);
}

ClipClassifier::ClipClassifier(const std::string& model_path, const ModelOverrides& overrides) : path_(model_path) {
  const std::string bytes = ReadTfliteFile(model_path);
  std::optional<tfl::KwsMetadata> md = tfl::ReadKwsMetadata(bytes, model_path);
  if (!md && overrides.frontend.empty() && overrides.labels.empty())
    throw BadInput(model_path +
                   ": model has no kws metadata (feature settings and labels); export it with 'kws export', or give "
                   "--frontend and --labels");
  it_ = std::make_unique<rt::Interpreter>(rt::Interpreter::FromBuffer(model_path, bytes));
  md_ = ModelMetadata(*it_, model_path, overrides);
  try {
    md_.features.Validate();
  } catch (const Error& e) {
    throw BadInput(model_path + ": kws metadata has invalid feature settings: " + e.what());
  }
  fx_ = std::make_unique<FeatureExtractor>(md_.features);

  const FeatureOptions& f = md_.features;
  feature_values_ = size_t(f.num_frames(f.window_samples())) * size_t(f.num_features());
  const auto in = it_->input(0);
  if (size_t(in.elements()) != feature_values_)
    throw BadInput(model_path + ": input tensor '" + in.name + "' has " + std::to_string(in.elements()) +
                   " values but the metadata's feature settings give " + std::to_string(feature_values_));
  const auto out = it_->output(0);
  if (md_.labels.empty() || size_t(out.elements()) != md_.labels.size())
    throw BadInput(model_path + ": output tensor '" + out.name + "' has " + std::to_string(out.elements()) +
                   " values but the metadata lists " + std::to_string(md_.labels.size()) + " labels");
  softmax_in_model_ = false;
  for (const auto& op : it_->ops())
    if (op.op == "SOFTMAX") softmax_in_model_ = true;
}

ClipClassifier::~ClipClassifier() = default;
ClipClassifier::ClipClassifier(ClipClassifier&&) noexcept = default;

void ClipClassifier::Features(const float* window, float* features) {
  FeatureMatrix m = fx_->Compute(window, window_samples());
  std::copy(m.data.begin(), m.data.end(), features);
}

void ClipClassifier::Run(const float* features, float* scores) {
  RunModel(*it_, md_.features, features, scores);
  if (!softmax_in_model_) SoftmaxInPlace(scores, int(md_.labels.size()));
}

std::vector<ClipResult> ClipClassifier::ClassifySamples(const std::string& name, const std::vector<float>& samples,
                                                        bool all_windows, double hop_s) {
  if (samples.empty()) throw BadInput(name + ": contains zero samples");
  const size_t window = size_t(window_samples());
  size_t hop = hop_s > 0 ? size_t(std::lround(hop_s * md_.features.sample_rate)) : window / 2;
  if (hop == 0) hop = 1;
  const auto windows =
      Windows(samples, window, all_windows ? LongClipPolicy::kAllWindows : LongClipPolicy::kFirstWindow, hop);
  std::vector<float> feats(feature_values_);
  std::vector<ClipResult> out;
  for (size_t w = 0; w < windows.size(); ++w) {
    ClipResult r;
    r.file = name;
    r.window = int(w);
    r.start_s = double(w * hop) / md_.features.sample_rate;
    r.scores.resize(md_.labels.size());
    Features(windows[w].data(), feats.data());
    Run(feats.data(), r.scores.data());
    r.top = int(std::max_element(r.scores.begin(), r.scores.end()) - r.scores.begin());
    r.label = md_.labels[size_t(r.top)];
    r.score = r.scores[size_t(r.top)];
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<ClipResult> ClipClassifier::ClassifyFile(const std::string& path, bool all_windows, double hop_s) {
  Audio a = ReadAudio(path, md_.features.sample_rate);
  // A recording much longer than the model's window would be judged by its first window alone.
  const double window_s = md_.features.clip_seconds, seconds = double(a.samples.size()) / md_.features.sample_rate;
  if (!all_windows && seconds > 1.1 * window_s)
    LogWarn("%s: %.1f s long; only its first %.2g s is classified (--all-windows classifies every window)",
            path.c_str(), seconds, window_s);
  return ClassifySamples(path, a.samples, all_windows, hop_s);
}

}  // namespace kws
