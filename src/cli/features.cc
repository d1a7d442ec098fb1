// kws features CLIP.wav: log-mel / MFCC features of one clip (tf.signal-exact), or with
// --frontend micro TFLite Micro's front end (bit-exact; int8 as a model takes it, --raw uint16).
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
#include "util/bounded_read.h"
#include "util/error.h"

namespace {

struct Opts {
  std::string clip, config, png, frontend;
  bool json = false, raw = false;
  kws::FeatureOptions f;  // flag values (defaults = FeatureOptions defaults)
  kws::micro::FrontendOptions m = kws::micro::FrontendOptions::MicroSpeech();  // micro flag values
  std::vector<std::pair<CLI::Option*, std::function<void(kws::FeatureOptions&)>>> overrides;
};

template <class T>
void Flag(CLI::App& app, Opts& o, const char* name, T kws::FeatureOptions::*member, const char* help) {
  CLI::Option* opt = app.add_option(name, o.f.*member, help)->capture_default_str();
  o.overrides.emplace_back(opt, [&o, member, name](kws::FeatureOptions& f) {
    if (f.is_micro()) throw kws::UsageError(std::string(name) + " is a tf.signal setting; with --frontend micro see "
                                            "--window-ms, --step-ms, --num-channels, --band-lower-hz, --band-upper-hz");
    f.*member = o.f.*member;
  });
}

// A micro front-end flag: `get` picks the field in a FrontendOptions.
template <class T>
void MicroFlag(CLI::App& app, Opts& o, const char* name, T& (*get)(kws::micro::FrontendOptions&), const char* help) {
  CLI::Option* opt = app.add_option(name, get(o.m), help)->capture_default_str()->group("Micro front end (--frontend micro)");
  o.overrides.emplace_back(opt, [&o, get, name](kws::FeatureOptions& f) {
    if (!f.is_micro()) throw kws::UsageError(std::string(name) + " needs --frontend micro");
    get(f.micro) = get(o.m);
  });
}

kws::FeatureOptions Resolve(const Opts& o) {
  kws::FeatureOptions f;
  if (o.frontend == "micro") f.frontend = "micro";  // micro_speech's settings unless flags or the config change them
  if (!o.config.empty()) {
    const std::string text = kws::ReadFileLimited(o.config, kws::Limits().config_bytes, "config");
    toml::table doc;
    try {
      doc = toml::parse(text, o.config);
    } catch (const toml::parse_error& e) {
      throw kws::UsageError(o.config + ": invalid TOML (" + std::string(e.description()) + ", line " +
                            std::to_string(e.source().begin.line) + ")");
    }
    if (const toml::node* n = doc.get("features")) {
      if (!n->is_table()) throw kws::UsageError(o.config + ": [features] must be a table");
      f = kws::FeatureOptionsFromToml(*n->as_table(), f, o.config + " [features]");
    }
  }
  if (!o.frontend.empty()) {
    if (o.frontend != "micro" && o.frontend != "tf.signal")
      throw kws::UsageError("--frontend must be tf.signal or micro (got '" + o.frontend + "')");
    f.frontend = o.frontend;
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
    // micro.window_ms -> --window-ms, micro.lower_hz -> --band-lower-hz ([features.micro] window_ms)
    const bool micro = key.rfind("micro.", 0) == 0;
    std::string name = micro ? key.substr(6) : key;
    if (micro && (name == "lower_hz" || name == "upper_hz")) name = "band_" + name;
    std::string flag = "--" + name;
    std::replace(flag.begin(), flag.end(), '_', '-');
    const std::string table = micro ? "[features.micro] " + key.substr(6) : "[features] " + key;
    throw kws::UsageError(flag + (o.config.empty() ? "" : " (or " + table + ")") +
                          (end == std::string::npos ? "" : m.substr(end)));
  }
  return f;
}

// The micro front end's frames as integers: int8 (what a model takes) or, raw, the uint16 output.
void PrintMicroJson(const std::vector<uint16_t>& v, int frames, int bins, bool raw) {
  std::printf("{\"frames\": %d, \"bins\": %d, \"data\": [", frames, bins);
  for (int t = 0; t < frames; ++t) {
    std::printf(t ? ",\n[" : "\n[");
    for (int b = 0; b < bins; ++b) {
      const uint16_t x = v[size_t(t) * size_t(bins) + size_t(b)];
      std::printf(b ? ", %d" : "%d", raw ? int(x) : int(kws::micro::ToInt8(x)));
    }
    std::printf("]");
  }
  std::printf("]}\n");
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
      app.add_option("--frontend", o->frontend,
                     "tf.signal (default) or micro: TFLite Micro's audio front end, bit-exact, micro_speech's "
                     "settings (30 ms / 20 ms, 40 channels, 125-7500 Hz, noise reduction, PCAN, log)");
      using MO = kws::micro::FrontendOptions;
      MicroFlag<int>(app, *o, "--window-ms", +[](MO& m) -> int& { return m.window.size_ms; }, "Window length, ms");
      MicroFlag<int>(app, *o, "--step-ms", +[](MO& m) -> int& { return m.window.step_ms; }, "Window step, ms");
      MicroFlag<int>(app, *o, "--num-channels", +[](MO& m) -> int& { return m.filterbank.num_channels; },
                     "Filterbank channels");
      MicroFlag<float>(app, *o, "--band-lower-hz", +[](MO& m) -> float& { return m.filterbank.lower_hz; },
                       "Lowest band edge, Hz");
      MicroFlag<float>(app, *o, "--band-upper-hz", +[](MO& m) -> float& { return m.filterbank.upper_hz; },
                       "Highest band edge, Hz (< sample_rate/2)");
      MicroFlag<int>(app, *o, "--smoothing-bits", +[](MO& m) -> int& { return m.noise_reduction.smoothing_bits; },
                     "Noise reduction: scale-up bits");
      MicroFlag<float>(app, *o, "--even-smoothing", +[](MO& m) -> float& { return m.noise_reduction.even_smoothing; },
                       "Noise reduction: even channels' smoothing");
      MicroFlag<float>(app, *o, "--odd-smoothing", +[](MO& m) -> float& { return m.noise_reduction.odd_smoothing; },
                       "Noise reduction: odd channels' smoothing");
      MicroFlag<float>(app, *o, "--min-signal-remaining",
                       +[](MO& m) -> float& { return m.noise_reduction.min_signal_remaining; },
                       "Noise reduction: fraction always kept (1 = off)");
      MicroFlag<bool>(app, *o, "--pcan", +[](MO& m) -> bool& { return m.pcan.enabled; }, "PCAN gain control on/off");
      MicroFlag<float>(app, *o, "--pcan-strength", +[](MO& m) -> float& { return m.pcan.strength; }, "PCAN exponent");
      MicroFlag<float>(app, *o, "--pcan-offset", +[](MO& m) -> float& { return m.pcan.offset; }, "PCAN offset");
      MicroFlag<int>(app, *o, "--gain-bits", +[](MO& m) -> int& { return m.pcan.gain_bits; }, "PCAN gain bits");
      MicroFlag<bool>(app, *o, "--log-scale", +[](MO& m) -> bool& { return m.log_scale.enabled; }, "Log scale on/off");
      MicroFlag<int>(app, *o, "--scale-shift", +[](MO& m) -> int& { return m.log_scale.scale_shift; },
                     "Log scale: output = ln(x) * 2^shift");
      app.add_flag("--raw", o->raw, "With the micro front end: print its uint16 output, not the int8 a model takes");
      app.add_flag("--json", o->json, "Print {\"frames\", \"bins\", \"data\"} as JSON");
      app.add_option("--png", o->png, "Write a spectrogram image (time on x, low bins at the bottom)");
      return [o]() -> int {
        const kws::FeatureOptions f = Resolve(*o);
        if (o->raw && !f.is_micro()) throw kws::UsageError("--raw needs --frontend micro");
        kws::Audio a = kws::ReadAudio(o->clip, f.sample_rate);
        auto w = kws::Windows(a.samples, size_t(f.window_samples()), kws::LongClipPolicy::kFirstWindow, 0);
        if (f.is_micro() && o->json) {  // integers straight from the front end (the same frames Compute gives)
          kws::micro::Frontend fe(f.micro, f.sample_rate);
          std::vector<int16_t> pcm(w[0].size());
          for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = kws::micro::ToInt16(w[0][i]);
          int frames = 0;
          const std::vector<uint16_t> v = fe.ComputeClip(pcm.data(), pcm.size(), &frames);
          PrintMicroJson(v, frames, fe.num_channels(), o->raw);
          return 0;
        }
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
          std::printf("%s: %d frames x %d %s\n", o->clip.c_str(), m.frames, m.bins,
                      f.is_micro() ? "micro front-end channels (dequantized int8)" : f.mfcc > 0 ? "MFCCs" : "log-mel bins");
          std::printf("options: %s\n", f.ToString().c_str());
          std::printf("min %.4f  max %.4f  mean %.4f\n", lo, hi, sum / double(m.data.size()));
          if (!o->png.empty()) std::printf("image: %s\n", o->png.c_str());
        }
        return 0;
      };
    },
    "With --frontend micro, --json prints the int8 values a model takes ((v * 256 + 333) / 666 - 128, as\n"
    "micro_speech computes them), --raw the front end's uint16 output.\n"
    "Examples:\n  kws features clip.wav\n  kws features yes.wav --frontend micro --json\n  kws features clip.wav --num-mel-bins 40 --frame-length-s 0.03 "
    "--frame-step-s 0.02 --upper-hz 4000 --mfcc 10 --json\n  kws features clip.wav --config kws.toml --png spec.png");
}  // namespace
