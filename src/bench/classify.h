// The clip -> scores pipeline shared by `kws infer` and `kws bench` (so the latency that bench
// reports is exactly what infer runs): a DeployedModel (runtime/deployed_model.h: the .tflite, its
// "kws" metadata with the feature settings and labels, a FeatureExtractor at those settings) and a
// softmax when the graph has none.
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
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "features/features.h"
#include "runtime/deployed_model.h"
#include "runtime/interpreter.h"
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
  // One line of `kws infer --json`: {file, [window, start_s,] label, score, scores: {label: p}} in this
  // key order, scores in label order.
  nlohmann::ordered_json ToJson(const std::vector<std::string>& labels, bool windows) const;
};

class ClipClassifier {
 public:
  // Reads the model (DeployedModel::Load: BadInput "<path>: ..." if it is not a loadable .tflite, has
  // no kws metadata and `overrides` do not stand in for it, or its metadata does not fit its tensors).
  explicit ClipClassifier(const std::string& model_path, const ModelOverrides& overrides = {});
  ~ClipClassifier();
  ClipClassifier(ClipClassifier&&) noexcept;

  const tfl::KwsMetadata& metadata() const { return m_.meta; }
  const std::vector<std::string>& labels() const { return m_.meta.labels; }
  const FeatureOptions& features() const { return m_.meta.features; }
  rt::Interpreter& interpreter() { return m_.interpreter; }
  bool model_has_softmax() const { return m_.softmax_in_model; }
  int window_samples() const { return m_.meta.features.window_samples(); }
  size_t feature_values() const { return m_.feature_values(); }

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
  DeployedModel m_;
};

// In-place softmax (max-subtracted).
void SoftmaxInPlace(float* x, int n);

}  // namespace kws
