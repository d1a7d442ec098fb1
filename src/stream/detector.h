// Streaming keyword detector: StreamingFeatures -> (energy VAD gate) -> Scorer
// every hop -> ScoreSmoother (micro_speech post-processing).
//
//   kws::DeployedModel m = kws::DeployedModel::Load("model.tflite");  // runtime/deployed_model.h
//   kws::InterpreterScorer scorer(m);
//   kws::Detector det(m.meta.features, m.meta.labels, &scorer, options);
//   std::vector<kws::Detection> found;
//   det.Accept(samples, n, &found);                             // any chunk size
//
// Every hop (hop_ms of input, counted from the start of the stream) the
// detector evaluates once, as soon as the model's window of feature frames is
// complete (the first evaluation is at the first hop boundary >= one window):
//   * gate open (EnergyVad: a run of >= vad_min_ms of 10 ms blocks at or above
//     vad_dbfs within the model window): the last `frames` feature frames go
//     through the scorer;
//   * gate closed: the model is not run and the result is treated as silence —
//     the one-hot _silence_ vector (all zeros if the model has no _silence_
//     class) enters the smoothing window, so keyword averages decay exactly as
//     if the model had said "silence" with certainty.
// Either way the result goes through the ScoreSmoother. Detection times are the
// stream time of the hop that fired (ms from the start of the stream).
//
// Memory is fixed by the model window, the smoothing window and the hop: no
// buffer grows with the length of the stream.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "features/features.h"
#include "runtime/deployed_model.h"
#include "runtime/interpreter.h"
#include "tflite/detector_options.h"
#include "stream/frontend.h"
#include "stream/postprocess.h"
#include "stream/vad.h"
#include "tflite/metadata.h"

namespace kws {

// Scores one window of features [frames x bins] (row-major) into num_classes() values.
class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual int frames() const = 0;
  virtual int bins() const = 0;
  virtual int num_classes() const = 0;
  virtual void Score(const float* features, float* scores) = 0;
};

// Runs the model through RunModel (runtime/deployed_model.h): Interpreter::RunFloat for float, dynamic
// and int8 models, the front end's int8 as is for micro front-end int8 models.
class InterpreterScorer : public Scorer {
 public:
  explicit InterpreterScorer(DeployedModel& m) : m_(m) {}
  int frames() const override { return m_.frames; }
  int bins() const override { return m_.bins; }
  int num_classes() const override { return m_.classes; }
  void Score(const float* features, float* scores) override {
    m_.Run(features, scores);
  }

 private:
  DeployedModel& m_;
};

struct DetectorStats {
  int64_t samples = 0;
  int64_t hops = 0;          // evaluations (window complete)
  int64_t inferences = 0;    // scorer calls
  int64_t gated = 0;         // evaluations skipped by the VAD
  int64_t detections = 0;
};

class Detector {
 public:
  Detector(const FeatureOptions& features, std::vector<std::string> labels, Scorer* scorer,
           const DetectorOptions& options);
  // Feeds samples at features.sample_rate; appends detections to *out (may be null).
  void Accept(const float* samples, size_t n, std::vector<Detection>* out);
  void Reset();

  // Called for every evaluation with (time_ms, scores, gate_open) before smoothing
  // (stream-eval records these to replay other thresholds without re-running the model).
  std::function<void(int64_t, const float*, bool)> on_result;

  const DetectorStats& stats() const { return stats_; }
  const std::vector<std::string>& labels() const { return smoother_.labels(); }
  const DetectorOptions& options() const { return opt_; }
  int hop_samples() const { return hop_; }
  int sample_rate() const { return rate_; }
  const std::vector<float>& last_scores() const { return scores_; }
  const ScoreSmoother& smoother() const { return smoother_; }

 private:
  void Evaluate(std::vector<Detection>* out);

  DetectorOptions opt_;
  Scorer* scorer_;
  int rate_, hop_, frames_;
  StreamingFeatures front_;
  EnergyVad vad_;
  ScoreSmoother smoother_;
  std::vector<float> window_, scores_, silence_;
  int64_t since_hop_ = 0;
  DetectorStats stats_;
};


}  // namespace kws
