// What a model takes and how to feed it, for the commands that run a .tflite on audio (infer, listen,
// stream-eval, bench): its kws metadata, or, for a model without any (Google's micro_speech, ...),
// the front end and labels the command line names.
//
//   kws::ModelOverrides o{"micro", {"silence", "unknown", "yes", "no"}};
//   tfl::KwsMetadata md = kws::ModelMetadata(interpreter, "micro_speech.tflite", o);
//   kws::RunModel(interpreter, md.features, features.data(), scores.data());
//
// Without metadata, --frontend micro means TFLite Micro's front end with micro_speech's settings
// (features/micro/frontend.h); the number of frames comes from the input shape (input elements /
// channels; clip_seconds is set to cover exactly that many frames). --frontend tf.signal means kws's
// default log-mel settings.
//
// Feeding: with the micro front end and an int8 (or uint8) input, the front end's int8 values go into
// the input as they are, whatever scale the file declares: what a microcontroller does (micro_speech's
// feature provider copies them into the input tensor). Otherwise the features go through
// Interpreter::RunFloat (quantized with the input's own scale).
#pragma once
#include <string>
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

}  // namespace kws
