// `kws export --format c` for a model trained on TFLite Micro's audio front end: a C header beside the
// model array that configures the device's front end exactly as kws computed the training features.
//
//   #include "tensorflow/lite/experimental/microfrontend/lib/frontend_util.h"
//   #include "model_data_frontend.h"          // written next to model_data.cc
//   struct FrontendConfig config;
//   model_data_frontend_config(&config);      // window, filterbank, noise reduction, PCAN, log scale
//   FrontendPopulateState(&config, &state, MODEL_DATA_SAMPLE_RATE);
//   ... per frame: input[i] = model_data_feature_to_int8(output.values[i]);   // the model's int8 input
//
// The macros (MODEL_DATA_WINDOW_SIZE_MS, ..._FEATURE_COUNT = frames per inference, ..._INPUT_SCALE,
// ...) need nothing else; the config function is defined only when frontend_util.h was included first.
#pragma once
#include <string>

#include "features/features.h"

namespace kws {

// `name` is the model array's C identifier (upper-cased for the macros); `model` names the source in
// the header comment. f must use the micro front end.
std::string MicroFrontendHeader(const FeatureOptions& f, const std::string& name, const std::string& model);

}  // namespace kws
