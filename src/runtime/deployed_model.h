// A deployed model: a .tflite read by kws's runtime, with the "kws" metadata that says which feature
// settings and labels it takes, checked against its input and output tensors once, when it is loaded.
// Every command that runs a .tflite on audio (infer, eval, listen, stream-eval, bench, cross-validation)
// loads it through DeployedModel::Load, so they all accept and refuse the same files with the same errors.
//
//   kws::DeployedModel m = kws::DeployedModel::Load("model.tflite");   // BadInput naming the file
//   m.meta.labels, m.meta.features, m.frames x m.bins -> m.classes
//   m.Run(features.data(), scores.data());                          // RunModel below
//   m.extractor().Compute(window, n);                               // clip features at m.meta.features
//
// A model without kws metadata (Google's micro_speech, ...) runs with the front end and labels the
// caller names (ModelOverrides): --frontend micro means TFLite Micro's front end with micro_speech's
// settings (features/micro/frontend.h); the number of frames comes from the input shape (input
// elements / channels; clip_seconds is set to cover exactly that many frames). --frontend tf.signal
// means kws's default log-mel settings.
//
// Feeding: with the micro front end and an int8 (or uint8) input, the front end's int8 values go into
// the input as they are, whatever scale the file declares: what a microcontroller does (micro_speech's
// feature provider copies them into the input tensor). Otherwise the features go through
// Interpreter::RunFloat (quantized with the input's own scale).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "features/features.h"
#include "runtime/interpreter.h"
#include "tflite/metadata.h"

namespace kws {

struct ModelOverrides {
  std::string frontend;             // "" (from the metadata), "micro" or "tf.signal"
  std::vector<std::string> labels;  // empty: from the metadata
};

// The metadata to run `it` with. A model with kws metadata: its own (a --frontend that contradicts it is
// a UsageError; --labels renames its classes, same count). Without: built from `o` (UsageError if
// o.frontend or o.labels is missing; BadInput naming `name` if the input shape does not fit the front
// end, or the output count differs from the labels).
tfl::KwsMetadata ModelMetadata(const rt::Interpreter& it, const std::string& name, const ModelOverrides& o);

// True if features for `f` go into this model's input as raw int8 (see above).
bool FeedsRawInt8(const rt::Interpreter& it, const FeatureOptions& f);
// features: input(0).elements() floats (for the micro front end: dequantized int8, micro::Dequantize);
// out: output(0).elements() floats (dequantized).
void RunModel(rt::Interpreter& it, const FeatureOptions& f, const float* features, float* out);

// A .tflite with its kws metadata (labels, feature settings), checked against its tensors.
struct DeployedModel {
  std::string path;
  rt::Interpreter interpreter;
  tfl::KwsMetadata meta;
  int frames = 0, bins = 0, classes = 0;  // input [frames x bins] features, output `classes` scores
  bool softmax_in_model = false;          // the graph ends in SOFTMAX (else its outputs are logits)

  // BadInput naming the file if it is missing, not a model, has no kws metadata (and `overrides` do
  // not say which front end and labels it takes), its feature settings are invalid, or its
  // input/output shapes do not match the metadata.
  static DeployedModel Load(const std::string& path, const ModelOverrides& overrides = {});
  static DeployedModel FromBuffer(const std::string& name, std::string_view bytes,
                                  const ModelOverrides& overrides = {});

  size_t feature_values() const { return size_t(frames) * size_t(bins); }
  // feature_values() floats -> classes floats (RunModel).
  void Run(const float* features, float* out) { RunModel(interpreter, meta.features, features, out); }
  // A FeatureExtractor at meta.features (made on first use: streaming has its own front end).
  FeatureExtractor& extractor();

 private:
  DeployedModel(std::string p, rt::Interpreter it) : path(std::move(p)), interpreter(std::move(it)) {}
  std::unique_ptr<FeatureExtractor> extractor_;
};

}  // namespace kws
