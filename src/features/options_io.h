// FeatureOptions <-> TOML ([features] table of a config file) and JSON.
//
// Keys (both formats): sample_rate, frame_length_s, frame_step_s, fft_length,
// window, num_mel_bins, lower_hz, upper_hz, log_offset, mfcc, clip_seconds;
// frontend ("tf.signal" or "micro") and, with frontend = "micro", a 'micro'
// table (window_ms, step_ms, num_channels, lower_hz, upper_hz, smoothing_bits,
// even_smoothing, odd_smoothing, min_signal_remaining, pcan, pcan_strength,
// pcan_offset, gain_bits, log_scale, scale_shift) instead of the tf.signal keys,
// which are then rejected. A tf.signal table is written exactly as before
// (no frontend key), so existing files and caches keep their bytes.
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
// True for the keys only the tf.signal front end uses (frame_length_s, ..., mfcc).
bool IsTfOnlyFeatureKey(const std::string& key);

// The micro front end's table alone (keys above; missing keys keep `base`).
micro::FrontendOptions MicroOptionsFromToml(const toml::table& t, const micro::FrontendOptions& base,
                                            const std::string& what);
toml::table MicroOptionsToToml(const micro::FrontendOptions& m);
nlohmann::json MicroOptionsToJson(const micro::FrontendOptions& m);
// Throws BadInput.
micro::FrontendOptions MicroOptionsFromJson(const nlohmann::json& j, const micro::FrontendOptions& base,
                                            const std::string& what);
// Throws BadInput (JSON comes from files kws wrote).
FeatureOptions FeatureOptionsFromJsonObject(const nlohmann::json& j, const FeatureOptions& base = {},
                                            const std::string& what = "features");

}  // namespace kws
