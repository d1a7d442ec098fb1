// FeatureOptions <-> TOML ([features] table of a config file) and JSON.
//
// Keys (both formats): sample_rate, frame_length_s, frame_step_s, fft_length,
// window, num_mel_bins, lower_hz, upper_hz, log_offset, mfcc, clip_seconds.
// Missing keys keep the value in `base`; unknown keys and wrong types throw,
// naming `what` (e.g. "kws.toml [features]") and the key. The result is not
// validated here (callers apply command-line overrides first, then Validate()).
//
// (tflite/metadata.h has kws::tfl::FeatureOptionsToJson/FromJson, lenient, for
// model metadata; the JSON helpers here are strict and named differently so
// both can be visible in one file.)
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <toml++/toml.h>

#include "features/features.h"

namespace kws {

// Throws UsageError (a config file is something the user typed).
FeatureOptions FeatureOptionsFromToml(const toml::table& t, const FeatureOptions& base = {},
                                      const std::string& what = "[features]");
toml::table FeatureOptionsToToml(const FeatureOptions& f);

nlohmann::json FeatureOptionsToJsonObject(const FeatureOptions& f);
// Throws BadInput (JSON comes from files kws wrote).
FeatureOptions FeatureOptionsFromJsonObject(const nlohmann::json& j, const FeatureOptions& base = {},
                                            const std::string& what = "features");

}  // namespace kws
