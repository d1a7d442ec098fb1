// The clip -> scores pipeline shared by `kws infer` and `kws bench` (so the latency that bench
// reports is exactly what infer runs): a .tflite model whose "kws" metadata gives the feature
// settings and labels, one FeatureExtractor at those settings, and kws's runtime.
//
//   kws::ClipClassifier c("model.tflite");            // BadInput if no kws metadata
//   std::vector<kws::ClipResult> r = c.ClassifyFile("clip.wav", /*all_windows=*/false);
//   r[0].label, r[0].score, r[0].scores               // scores: probabilities, sum 1
//
//   // or step by step (what bench times):
//   c.Features(window_samples.data(), features.data());  // preprocessing
//   c.Run(features.data(), scores.data());               // inference (+ softmax if the model outputs logits)
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "features/features.h"
#include "runtime/interpreter.h"
#include "stream/model_input.h"
#include "tflite/metadata.h"

namespace kws {

struct ClipResult {
  std::string file;
  int window = 0;          // window index (0 unless all_windows)
  double start_s = 0.0;    // window start in the clip
  int top = 0;             // index into labels
  std::string label;
  float score = 0.0f;
  std::vector<float> scores;  // one per label, sums to 1
};

class ClipClassifier {
 public:
  // Reads the model; BadInput "<path>: ..." if it is not a loadable .tflite, has no kws metadata
  // (unless `overrides` name its front end and labels: stream/model_input.h), or its metadata does
  // not fit its input/output tensors.
  explicit ClipClassifier(const std::string& model_path, const ModelOverrides& overrides = {});
  ~ClipClassifier();
  ClipClassifier(ClipClassifier&&) noexcept;

  const tfl::KwsMetadata& metadata() const { return md_; }
  const std::vector<std::string>& labels() const { return md_.labels; }
  const FeatureOptions& features() const { return md_.features; }
  rt::Interpreter& interpreter() { return *it_; }
  bool model_has_softmax() const { return softmax_in_model_; }
  int window_samples() const { return md_.features.window_samples(); }
  size_t feature_values() const { return feature_values_; }

  // window_samples() samples -> feature_values() floats.
  void Features(const float* window, float* features);
  // feature_values() floats -> labels().size() probabilities.
  void Run(const float* features, float* scores);

  // Reads any audio file (resampled to the model's rate); the first window (padded/cut), or with
  // all_windows every window `hop_s` apart (0 = half a window). BadInput naming the file.
  std::vector<ClipResult> ClassifyFile(const std::string& path, bool all_windows = false, double hop_s = 0.0);
  // Same on samples already at the model's rate.
  std::vector<ClipResult> ClassifySamples(const std::string& name, const std::vector<float>& samples,
                                          bool all_windows = false, double hop_s = 0.0);

 private:
  std::string path_;
  tfl::KwsMetadata md_;
  std::unique_ptr<rt::Interpreter> it_;
  std::unique_ptr<FeatureExtractor> fx_;
  bool softmax_in_model_ = true;
  size_t feature_values_ = 0;
};

// In-place softmax (max-subtracted).
void SoftmaxInPlace(float* x, int n);

}  // namespace kws
