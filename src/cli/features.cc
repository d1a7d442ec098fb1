// kws features CLIP.wav: log-mel / MFCC features of one clip (tf.signal-exact).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "audio/audio.h"
#include "cli/command.h"
#include "features/features.h"
#include "features/options_io.h"
#include "report/png.h"
#include "util/error.h"

namespace {

struct Opts {
  std::string clip, config, png;
  bool json = false;
  kws::FeatureOptions f;  // flag values (defaults = FeatureOptions defaults)
  std::vector<std::pair<CLI::Option*, std::function<void(kws::FeatureOptions&)>>> overrides;
};

template <class T>
void Flag(CLI::App& app, Opts& o, const char* name, T kws::FeatureOptions::*member, const char* help) {
  CLI::Option* opt = app.add_option(name, o.f.*member, help)->capture_default_str();
  o.overrides.emplace_back(opt, [&o, member](kws::FeatureOptions& f) { f.*member = o.f.*member; });
}

kws::FeatureOptions Resolve(const Opts& o) {
  kws::FeatureOptions f;
  if (!o.config.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(o.config, ec)) throw kws::BadInput(o.config + ": no such config file");
    toml::table doc;
    try {
      doc = toml::parse_file(o.config);
    } catch (const toml::parse_error& e) {
      throw kws::UsageError(o.config + ": invalid TOML (" + std::string(e.description()) + ", line " +
                            std::to_string(e.source().begin.line) + ")");
    }
    if (const toml::node* n = doc.get("features")) {
      if (!n->is_table()) throw kws::UsageError(o.config + ": [features] must be a table");
      f = kws::FeatureOptionsFromToml(*n->as_table(), f, o.config + " [features]");
    }
  }
  for (const auto& [opt, apply] : o.overrides)
    if (opt->count() > 0) apply(f);
  try {
    f.Validate();
  } catch (const kws::Error& e) {
    // "features: num_mel_bins must be ..." -> "--num-mel-bins (or [features] num_mel_bins) must be ..."
    std::string m = e.what();
    const std::string prefix = "features: ";
    if (m.rfind(prefix, 0) != 0) throw;
    const size_t end = m.find(' ', prefix.size());
    const std::string key = m.substr(prefix.size(), end - prefix.size());
    std::string flag = "--" + key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    throw kws::UsageError(flag + (o.config.empty() ? "" : " (or [features] " + key + ")") +
                          (end == std::string::npos ? "" : m.substr(end)));
  }
  return f;
}

void PrintJson(const kws::FeatureMatrix& m) {
  std::printf("{\"frames\": %d, \"bins\": %d, \"data\": [", m.frames, m.bins);
  for (int t = 0; t < m.frames; ++t) {
    std::printf(t ? ",\n[" : "\n[");
    for (int b = 0; b < m.bins; ++b) std::printf(b ? ", %.9g" : "%.9g", double(m.at(t, b)));
    std::printf("]");
  }
  std::printf("]}\n");
}

kws::cli::Registrar reg(
    "features", "Compute tf.signal-exact log-mel or MFCC features of one clip",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("clip", o->clip, "Audio file (any format libsndfile reads)")->required();
      app.add_option("--config", o->config, "TOML file whose [features] table sets the options (flags override it)");
      Flag(app, *o, "--sample-rate", &kws::FeatureOptions::sample_rate, "Sample rate in Hz (the clip is resampled)");
      Flag(app, *o, "--frame-length-s", &kws::FeatureOptions::frame_length_s, "STFT frame length in seconds");
      Flag(app, *o, "--frame-step-s", &kws::FeatureOptions::frame_step_s, "STFT frame step in seconds");
      Flag(app, *o, "--fft-length", &kws::FeatureOptions::fft_length, "FFT length (0 = next power of two)");
      Flag(app, *o, "--num-mel-bins", &kws::FeatureOptions::num_mel_bins, "Number of mel bands");
      Flag(app, *o, "--lower-hz", &kws::FeatureOptions::lower_hz, "Lowest mel edge in Hz");
      Flag(app, *o, "--upper-hz", &kws::FeatureOptions::upper_hz, "Highest mel edge in Hz (<= sample_rate/2)");
      Flag(app, *o, "--log-offset", &kws::FeatureOptions::log_offset, "Offset in log(mel + offset)");
      Flag(app, *o, "--mfcc", &kws::FeatureOptions::mfcc, "Keep the first K MFCCs (0 = log-mel)");
      Flag(app, *o, "--window", &kws::FeatureOptions::window, "Window: hann (periodic), hamming or none");
      Flag(app, *o, "--clip-seconds", &kws::FeatureOptions::clip_seconds, "Model window: the clip is cut/padded to it");
      app.add_flag("--json", o->json, "Print {\"frames\", \"bins\", \"data\"} as JSON");
      app.add_option("--png", o->png, "Write a spectrogram image (time on x, low bins at the bottom)");
      return [o]() -> int {
        const kws::FeatureOptions f = Resolve(*o);
        kws::Audio a = kws::ReadAudio(o->clip, f.sample_rate);
        auto w = kws::Windows(a.samples, size_t(f.window_samples()), kws::LongClipPolicy::kFirstWindow, 0);
        kws::FeatureExtractor fx(f);
        kws::FeatureMatrix m = fx.Compute(w[0].data(), int(w[0].size()));
        if (!o->png.empty()) {
          const int sx = std::clamp(720 / m.frames, 1, 16), sy = std::clamp(360 / m.bins, 1, 32);
          kws::Image img = kws::HeatmapImage(m.data.data(), m.frames, m.bins, sx, sy);
          kws::WritePng(o->png, img.width, img.height, img.rgb);
        }
        if (o->json) {
          PrintJson(m);
        } else {
          double lo = m.data[0], hi = m.data[0], sum = 0;
          for (float v : m.data) lo = std::min(lo, double(v)), hi = std::max(hi, double(v)), sum += v;
          std::printf("%s: %d frames x %d %s\n", o->clip.c_str(), m.frames, m.bins, f.mfcc > 0 ? "MFCCs" : "log-mel bins");
          std::printf("options: %s\n", f.ToString().c_str());
          std::printf("min %.4f  max %.4f  mean %.4f\n", lo, hi, sum / double(m.data.size()));
          if (!o->png.empty()) std::printf("image: %s\n", o->png.c_str());
        }
        return 0;
      };
    },
    "Examples:\n  kws features clip.wav\n  kws features clip.wav --num-mel-bins 40 --frame-length-s 0.03 "
    "--frame-step-s 0.02 --upper-hz 4000 --mfcc 10 --json\n  kws features clip.wav --config kws.toml --png spec.png");
}  // namespace
