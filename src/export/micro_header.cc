#include "export/micro_header.h"

#include <cctype>
#include <charconv>
#include <sstream>

#include "features/micro/frontend.h"
#include "util/error.h"

namespace kws {
namespace {

std::string FloatLiteral(float v) {  // shortest text that reads back to the same float, as a C float
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s + "f";
}

}  // namespace

std::string MicroFrontendHeader(const FeatureOptions& f, const std::string& name, const std::string& model) {
  if (!f.is_micro()) throw InternalError("MicroFrontendHeader: the model does not use the micro front end");
  std::string up = name;
  for (char& c : up) c = char(std::toupper(static_cast<unsigned char>(c)));
  const micro::FrontendOptions& m = f.micro;
  const std::string guard = up + "_FRONTEND_H_";
  std::ostringstream s;
  s << "// TFLite Micro audio front-end settings for " << name << " (written by kws export from " << model << ").\n"
    << "// The model was trained on exactly this front end's output (tensorflow/lite/experimental/microfrontend),\n"
    << "// mapped to int8 as " << name << "_feature_to_int8() does; its int8 input takes those values as they are.\n"
    << "//\n"
    << "//   #include \"tensorflow/lite/experimental/microfrontend/lib/frontend_util.h\"\n"
    << "//   #include \"" << name << "_frontend.h\"\n"
    << "//   struct FrontendConfig config;\n"
    << "//   " << name << "_frontend_config(&config);\n"
    << "//   FrontendPopulateState(&config, &state, " << up << "_SAMPLE_RATE);\n"
    << "//   // every " << m.window.step_ms << " ms: one frame of " << m.filterbank.num_channels
    << " values; the model takes the last " << up << "_FEATURE_COUNT frames\n"
    << "//   input[frame * " << up << "_FEATURE_SIZE + i] = " << name << "_feature_to_int8(output.values[i]);\n"
    << "#ifndef " << guard << "\n#define " << guard << "\n\n#include <stdint.h>\n\n"
    << "#define " << up << "_SAMPLE_RATE " << f.sample_rate << "\n"
    << "#define " << up << "_WINDOW_SIZE_MS " << m.window.size_ms << "\n"
    << "#define " << up << "_WINDOW_STEP_MS " << m.window.step_ms << "\n"
    << "#define " << up << "_FEATURE_SIZE " << m.filterbank.num_channels << "   /* channels per frame */\n"
    << "#define " << up << "_FEATURE_COUNT " << f.num_frames(f.window_samples()) << "   /* frames per inference ("
    << f.clip_seconds << " s) */\n"
    << "#define " << up << "_LOWER_BAND_LIMIT " << FloatLiteral(m.filterbank.lower_hz) << "\n"
    << "#define " << up << "_UPPER_BAND_LIMIT " << FloatLiteral(m.filterbank.upper_hz) << "\n"
    << "#define " << up << "_SMOOTHING_BITS " << m.noise_reduction.smoothing_bits << "\n"
    << "#define " << up << "_EVEN_SMOOTHING " << FloatLiteral(m.noise_reduction.even_smoothing) << "\n"
    << "#define " << up << "_ODD_SMOOTHING " << FloatLiteral(m.noise_reduction.odd_smoothing) << "\n"
    << "#define " << up << "_MIN_SIGNAL_REMAINING " << FloatLiteral(m.noise_reduction.min_signal_remaining) << "\n"
    << "#define " << up << "_ENABLE_PCAN " << (m.pcan.enabled ? 1 : 0) << "\n"
    << "#define " << up << "_PCAN_STRENGTH " << FloatLiteral(m.pcan.strength) << "\n"
    << "#define " << up << "_PCAN_OFFSET " << FloatLiteral(m.pcan.offset) << "\n"
    << "#define " << up << "_GAIN_BITS " << m.pcan.gain_bits << "\n"
    << "#define " << up << "_ENABLE_LOG " << (m.log_scale.enabled ? 1 : 0) << "\n"
    << "#define " << up << "_SCALE_SHIFT " << m.log_scale.scale_shift << "\n"
    << "/* The model's int8 input: scale and zero point (float feature = scale * (q - zero_point)). */\n"
    << "#define " << up << "_INPUT_SCALE " << FloatLiteral(micro::kInputScale) << "\n"
    << "#define " << up << "_INPUT_ZERO_POINT (" << micro::kInputZeroPoint << ")\n\n"
    << "/* The front end's uint16 output -> the model's int8 input (micro_speech's mapping). */\n"
    << "static inline int8_t " << name << "_feature_to_int8(uint16_t v) {\n"
    << "  int32_t q = ((int32_t)v * 256 + 333) / 666 - 128;\n"
    << "  return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);\n}\n\n"
    << "#ifdef TENSORFLOW_LITE_EXPERIMENTAL_MICROFRONTEND_LIB_FRONTEND_UTIL_H_\n"
    << "static inline void " << name << "_frontend_config(struct FrontendConfig* config) {\n"
    << "  FrontendFillConfigWithDefaults(config);\n"
    << "  config->window.size_ms = " << up << "_WINDOW_SIZE_MS;\n"
    << "  config->window.step_size_ms = " << up << "_WINDOW_STEP_MS;\n"
    << "  config->filterbank.num_channels = " << up << "_FEATURE_SIZE;\n"
    << "  config->filterbank.lower_band_limit = " << up << "_LOWER_BAND_LIMIT;\n"
    << "  config->filterbank.upper_band_limit = " << up << "_UPPER_BAND_LIMIT;\n"
    << "  config->noise_reduction.smoothing_bits = " << up << "_SMOOTHING_BITS;\n"
    << "  config->noise_reduction.even_smoothing = " << up << "_EVEN_SMOOTHING;\n"
    << "  config->noise_reduction.odd_smoothing = " << up << "_ODD_SMOOTHING;\n"
    << "  config->noise_reduction.min_signal_remaining = " << up << "_MIN_SIGNAL_REMAINING;\n"
    << "  config->pcan_gain_control.enable_pcan = " << up << "_ENABLE_PCAN;\n"
    << "  config->pcan_gain_control.strength = " << up << "_PCAN_STRENGTH;\n"
    << "  config->pcan_gain_control.offset = " << up << "_PCAN_OFFSET;\n"
    << "  config->pcan_gain_control.gain_bits = " << up << "_GAIN_BITS;\n"
    << "  config->log_scale.enable_log = " << up << "_ENABLE_LOG;\n"
    << "  config->log_scale.scale_shift = " << up << "_SCALE_SHIFT;\n"
    << "}\n#endif\n\n#endif  // " << guard << "\n";
  return s.str();
}

}  // namespace kws
