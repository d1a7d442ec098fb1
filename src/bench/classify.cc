#include "bench/classify.h"

#include <algorithm>
#include <cmath>

#include "audio/audio.h"
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

nlohmann::ordered_json ClipResult::ToJson(const std::vector<std::string>& labels, bool windows) const {
  nlohmann::ordered_json j;  // keys in a fixed order, scores in label order
  j["file"] = file;
  if (windows) {
    j["window"] = window;
    j["start_s"] = start_s;
  }
  j["label"] = label;
  j["score"] = score;
  nlohmann::ordered_json s = nlohmann::ordered_json::object();
  for (size_t i = 0; i < labels.size(); ++i) s[labels[i]] = scores[i];
  j["scores"] = s;
  return j;
}

ClipClassifier::ClipClassifier(const std::string& model_path, const ModelOverrides& overrides)
    : m_(DeployedModel::Load(model_path, overrides)) {
  m_.extractor();  // made now, so the first Features call costs what the others do
}

ClipClassifier::~ClipClassifier() = default;
ClipClassifier::ClipClassifier(ClipClassifier&&) noexcept = default;

void ClipClassifier::Features(const float* window, float* features) {
  FeatureMatrix m = m_.extractor().Compute(window, window_samples());
  std::copy(m.data.begin(), m.data.end(), features);
}

void ClipClassifier::Run(const float* features, float* scores) {
  m_.Run(features, scores);
  if (!m_.softmax_in_model) SoftmaxInPlace(scores, m_.classes);
}

std::vector<ClipResult> ClipClassifier::ClassifySamples(const std::string& name, const std::vector<float>& samples,
                                                        bool all_windows, double hop_s) {
  if (samples.empty()) throw BadInput(name + ": contains zero samples");
  const size_t window = size_t(window_samples());
  size_t hop = hop_s > 0 ? size_t(std::lround(hop_s * m_.meta.features.sample_rate)) : window / 2;
  if (hop == 0) hop = 1;
  const auto windows =
      Windows(samples, window, all_windows ? LongClipPolicy::kAllWindows : LongClipPolicy::kFirstWindow, hop);
  std::vector<float> feats(m_.feature_values());
  std::vector<ClipResult> out;
  for (size_t w = 0; w < windows.size(); ++w) {
    ClipResult r;
    r.file = name;
    r.window = int(w);
    r.start_s = double(w * hop) / m_.meta.features.sample_rate;
    r.scores.resize(m_.meta.labels.size());
    Features(windows[w].data(), feats.data());
    Run(feats.data(), r.scores.data());
    r.top = int(std::max_element(r.scores.begin(), r.scores.end()) - r.scores.begin());
    r.label = m_.meta.labels[size_t(r.top)];
    r.score = r.scores[size_t(r.top)];
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<ClipResult> ClipClassifier::ClassifyFile(const std::string& path, bool all_windows, double hop_s) {
  Audio a = ReadAudio(path, m_.meta.features.sample_rate);
  // A recording much longer than the model's window would be judged by its first window alone.
  const double window_s = m_.meta.features.clip_seconds, seconds = double(a.samples.size()) / m_.meta.features.sample_rate;
  if (!all_windows && seconds > 1.1 * window_s)
    LogWarn("%s: %.1f s long; only its first %.2g s is classified (--all-windows classifies every window)",
            path.c_str(), seconds, window_s);
  return ClassifySamples(path, a.samples, all_windows, hop_s);
}

}  // namespace kws
