#include "tflite/metadata.h"

#include <cstdint>
#include <limits>
#include <type_traits>

#include "features/options_io.h"
#include "tflite/builder.h"
#include "util/error.h"

namespace kws::tfl {

using nlohmann::json;

json FeatureOptionsToJson(const FeatureOptions& f) {
  // The micro front end: {"frontend": "micro", "sample_rate", "clip_seconds", "micro": {...}}.
  if (f.is_micro()) return FeatureOptionsToJsonObject(f);
  return json{{"sample_rate", f.sample_rate},   {"frame_length_s", f.frame_length_s},
              {"frame_step_s", f.frame_step_s}, {"fft_length", f.fft_length},
              {"window", f.window},             {"num_mel_bins", f.num_mel_bins},
              {"lower_hz", f.lower_hz},         {"upper_hz", f.upper_hz},
              {"log_offset", f.log_offset},     {"mfcc", f.mfcc},
              {"clip_seconds", f.clip_seconds}};
}

namespace {

template <class T>
void Get(const json& j, const char* key, T& out, const std::string& what) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  auto wrong = [&] { return BadInput(what + ": kws metadata: '" + key + "' has the wrong type"); };
  // Numbers are checked before conversion: nlohmann converts 1e20 to an int by a plain cast.
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (!it->is_number_integer()) throw wrong();
    if (it->is_number_unsigned() ? it->get<uint64_t>() > uint64_t(std::numeric_limits<T>::max())
                                 : (it->get<int64_t>() < int64_t(std::numeric_limits<T>::min()) ||
                                    it->get<int64_t>() > int64_t(std::numeric_limits<T>::max())))
      throw BadInput(what + ": kws metadata: '" + key + "' is out of range");
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!it->is_number()) throw wrong();
  }
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    throw wrong();
  }
}

}  // namespace

FeatureOptions FeatureOptionsFromJson(const json& j, const std::string& what) {
  if (!j.is_object()) throw BadInput(what + ": kws metadata: 'features' is not an object");
  if (j.contains("frontend") && j["frontend"] != "tf.signal")
    return FeatureOptionsFromJsonObject(j, FeatureOptions{}, what + ": kws metadata: features");
  FeatureOptions f;
  Get(j, "sample_rate", f.sample_rate, what);
  Get(j, "frame_length_s", f.frame_length_s, what);
  Get(j, "frame_step_s", f.frame_step_s, what);
  Get(j, "fft_length", f.fft_length, what);
  Get(j, "window", f.window, what);
  Get(j, "num_mel_bins", f.num_mel_bins, what);
  Get(j, "lower_hz", f.lower_hz, what);
  Get(j, "upper_hz", f.upper_hz, what);
  Get(j, "log_offset", f.log_offset, what);
  Get(j, "mfcc", f.mfcc, what);
  Get(j, "clip_seconds", f.clip_seconds, what);
  return f;
}

std::string KwsMetadataToJson(const KwsMetadata& m) {
  json j{{"format", m.format},
         {"labels", m.labels},
         {"input", m.features.is_micro() ? std::string("micro") : m.features.mfcc > 0 ? std::string("mfcc") : m.input},
         {"features", FeatureOptionsToJson(m.features)}};
  if (!m.quant.empty()) j["quant"] = m.quant;
  if (!m.detector.is_null()) j["detector"] = m.detector;
  if (!m.extra.is_null() && !m.extra.empty()) j["extra"] = m.extra;
  return j.dump();
}

KwsMetadata KwsMetadataFromJson(std::string_view text, const std::string& what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw BadInput(what + ": kws metadata is not a JSON object");
  KwsMetadata m;
  Get(j, "format", m.format, what);
  if (m.format != kKwsMetadataFormat)
    throw BadInput(what + ": kws metadata format " + std::to_string(m.format) + " is not supported (expected " +
                   std::to_string(kKwsMetadataFormat) + ")");
  Get(j, "labels", m.labels, what);
  Get(j, "input", m.input, what);
  Get(j, "quant", m.quant, what);
  if (j.contains("features")) {
    m.features = FeatureOptionsFromJson(j["features"], what);
    try {
      m.features.Validate();
    } catch (const Error& e) {
      throw BadInput(what + ": kws metadata has invalid feature settings: " + e.what());
    }
  }
  if (j.contains("extra")) m.extra = j["extra"];
  if (j.contains("detector") && !j["detector"].is_null()) {
    if (!j["detector"].is_object()) throw BadInput(what + ": kws metadata: 'detector' is not an object");
    m.detector = j["detector"];
  }
  if (m.input != "log-mel" && m.input != "mfcc" && m.input != "micro")
    throw BadInput(what + ": kws metadata: unknown input '" + m.input + "' (expected log-mel, mfcc or micro)");
  return m;
}

void AddKwsMetadata(ModelBuilder& b, const KwsMetadata& m) { b.AddMetadata(kKwsMetadataName, KwsMetadataToJson(m)); }

std::optional<std::string> ReadMetadataEntry(std::string_view bytes, const std::string& name, const std::string& what) {
  const ::tflite::Model* model = VerifiedModel(bytes, what);
  if (!model->metadata()) return std::nullopt;
  for (const auto* md : *model->metadata()) {
    if (!md->name() || md->name()->str() != name) continue;
    if (!model->buffers() || md->buffer() >= model->buffers()->size())
      throw BadInput(what + ": metadata '" + name + "' points at missing buffer " + std::to_string(md->buffer()));
    const auto* buf = model->buffers()->Get(md->buffer());
    if (!buf->data()) return std::string();
    return std::string(reinterpret_cast<const char*>(buf->data()->data()), buf->data()->size());
  }
  return std::nullopt;
}

std::optional<KwsMetadata> ReadKwsMetadata(std::string_view bytes, const std::string& what) {
  auto entry = ReadMetadataEntry(bytes, kKwsMetadataName, what);
  if (!entry) return std::nullopt;
  return KwsMetadataFromJson(*entry, what);
}

}  // namespace kws::tfl
