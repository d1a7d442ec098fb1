// kws listen: streaming keyword detection on raw PCM from stdin, an audio file,
// or (with ALSA) a microphone. One JSON line per detection on stdout, flushed:
//   {"t": 3.400, "label": "yes", "score": 0.9731}
// t = seconds of audio from the start of the stream at the hop that fired.
// --model is a .tflite (kws::Detector) or a microWakeWord manifest (.json: kws::WakeWordDetector, the
// wake word as label, the sliding-window mean as score).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "audio/audio_stream.h"
#include "cli/command.h"
#include "cli/detector_flags.h"
#include "stream/capture.h"
#include "stream/detector.h"
#include "stream/wake_word.h"
#include "util/bounded_read.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/text.h"

namespace {

volatile sig_atomic_t g_stop = 0;
timespec g_first_signal{};  // CLOCK_MONOTONIC of the first signal

// The first SIGINT/SIGTERM ends the stream cleanly (summary, exit 0). A second one at least 1 s
// later leaves at once (exit 130, no summary). Signals closer together count as one: `timeout`
// sends its signal to the process and then to its process group, so a program run under it gets
// two at once, and that must still end cleanly.
void OnSignal(int) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // async-signal-safe
  if (!g_stop) {
    g_first_signal = now;
    g_stop = 1;
    return;
  }
  const double since = double(now.tv_sec - g_first_signal.tv_sec) + 1e-9 * double(now.tv_nsec - g_first_signal.tv_nsec);
  if (since >= 1.0) _exit(130);
}

struct Opts {
  std::string model;
  kws::ModelOverrides overrides;  // --frontend, --labels (models without kws metadata)
  std::string labels;             // --labels, comma-separated
  std::string input = "-";
  kws::DetectorOptions det;
  kws::cli::DetectorFlags det_flags;
  std::string exec;
  bool json = false;
  bool scores = false;
  int max_children = 8;
  std::string summary;  // --summary FILE: the JSON summary, written whatever -q says
};

long PeakRssKb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// What the stream loop needs from a detector (kws model or microWakeWord manifest).
struct Session {
  int rate = 16000;
  size_t chunk = 0;  // samples per read: one hop
  std::function<void(const float*, size_t, std::vector<kws::Detection>*)> accept;
  std::function<const kws::DetectorStats&()> stats;
};

class Runner {
 public:
  Runner(const Opts& o, const Session& s) : o_(o), s_(s) {}

  void Feed(const float* x, size_t n) {
    found_.clear();
    const auto t0 = std::chrono::steady_clock::now();
    s_.accept(x, n, &found_);
    busy_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& d : found_) Report(d);
    Reap(false);
  }

  void Report(const kws::Detection& d) {
    nlohmann::json j;
    j["t"] = std::round(double(d.time_ms)) / 1000.0;
    j["label"] = d.name;
    j["score"] = std::round(double(d.score) * 10000.0) / 10000.0;
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
    if (!o_.exec.empty()) Spawn(d);
  }

  void Spawn(const kws::Detection& d) {
    if (children_ >= o_.max_children) {
      ++skipped_exec_;
      kws::LogWarn("kws listen: %d --exec commands still running; not starting another", children_);
      return;
    }
    char score[32], time[32];
    std::snprintf(score, sizeof score, "%.4f", double(d.score));
    std::snprintf(time, sizeof time, "%.3f", double(d.time_ms) / 1000.0);
    std::fflush(stderr);
    const pid_t pid = fork();
    if (pid < 0) {
      kws::LogWarn("kws listen: --exec: fork failed (%s)", std::strerror(errno));
      return;
    }
    if (pid == 0) {
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      setenv("KWS_LABEL", d.name.c_str(), 1);
      setenv("KWS_SCORE", score, 1);
      setenv("KWS_TIME", time, 1);
      execl("/bin/sh", "sh", "-c", o_.exec.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    ++children_;
    ++spawned_;
  }

  void Reap(bool wait_all) {
    while (children_ > 0) {
      int status = 0;
      const pid_t p = waitpid(-1, &status, wait_all ? 0 : WNOHANG);
      if (p > 0) {
        --children_;
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0) ++failed_exec_;
        continue;
      }
      if (p < 0 && errno == EINTR) continue;
      break;
    }
  }

  double busy() const { return busy_; }
  int spawned() const { return spawned_; }
  int failed_exec() const { return failed_exec_; }
  int skipped_exec() const { return skipped_exec_; }

 private:
  const Opts& o_;
  const Session& s_;
  std::vector<kws::Detection> found_;
  double busy_ = 0;
  int children_ = 0, spawned_ = 0, failed_exec_ = 0, skipped_exec_ = 0;
};

bool IsRawExtension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".raw" || ext == ".pcm" || ext == ".s16";
}

// Reads raw s16le from `f` in hop-sized chunks until end of input or a signal.
// poll() first so that a signal is noticed while the input is idle.
size_t ReadRaw(std::FILE* f, const std::string& name, Runner& run, size_t chunk, int rate) {
  setvbuf(f, nullptr, _IONBF, 0);  // no hidden buffered bytes: poll() sees everything
  kws::RawPcmReader reader(f, name, rate);  // a leading WAV header (arecord's default) is checked and skipped
  std::vector<float> buf(chunk);
  const int fd = fileno(f);
  while (!g_stop) {
    pollfd p{fd, POLLIN, 0};
    const int r = poll(&p, 1, 200);
    if (r < 0 && errno != EINTR) throw kws::BadInput(name + ": poll failed (" + std::strerror(errno) + ")");
    if (r <= 0) continue;
    const size_t n = reader.Read(buf.data(), buf.size());
    if (n > 0) run.Feed(buf.data(), n);
    if (reader.eof()) break;
  }
  return reader.dropped_bytes();
}

// The detectors a session may run; the one in use stays here for the whole stream.
struct Detectors {
  std::optional<kws::DeployedModel> model;
  std::optional<kws::InterpreterScorer> scorer;
  std::optional<kws::Detector> det;
  std::optional<kws::WakeWordModel> wake_model;
  std::optional<kws::WakeWordDetector> wake;
};

// A .tflite (kws metadata, or --frontend/--labels): ring buffer, VAD, RecognizeCommands smoothing.
Session KwsSession(const Opts& o, Detectors* d) {
  const bool quiet = kws::cli::Globals().quiet;
  Opts opt = o;
  kws::cli::ApplyDetectorFlags(o.det_flags, &opt.det);
  opt.det.Validate();
  kws::ModelOverrides overrides = o.overrides;
  overrides.labels = kws::SplitList(o.labels);
  kws::DeployedModel& model = d->model.emplace(kws::DeployedModel::Load(o.model, overrides));
  const bool model_settings = kws::cli::ApplyModelDetectorSettings(o.det_flags, model.meta, o.model, &opt.det);
  opt.det.Validate();
  const kws::FeatureOptions& fo = model.meta.features;
  kws::Detector& det = d->det.emplace(fo, model.meta.labels, &d->scorer.emplace(model), opt.det);
  if (o.scores)
    det.on_result = [&model](int64_t t, const float* s, bool open) {
      std::fprintf(stderr, "%8.3f %s", double(t) / 1000.0, open ? "run " : "gate");
      for (size_t i = 0; i < model.meta.labels.size(); ++i)
        std::fprintf(stderr, " %s=%.3f", kws::Printable(model.meta.labels[i]).c_str(), double(s[i]));
      std::fprintf(stderr, "\n");
    };
  if (!quiet)
    kws::LogInfo("kws listen: %s (%s, %d Hz, %zu labels, window %d frames), hop %.0f ms, %s, smooth %.0f ms (min %d), "
                 "suppress %.0f ms, VAD %s%s",
                 o.model.c_str(), model.interpreter.model_kind().c_str(), fo.sample_rate, model.meta.labels.size(),
                 model.frames, opt.det.hop_ms, kws::cli::DescribeThresholds(opt.det.post).c_str(), opt.det.post.smooth_ms,
                 opt.det.post.min_results, opt.det.post.suppress_ms,
                 opt.det.vad ? (std::to_string(int(opt.det.vad_dbfs)) + " dBFS for " + std::to_string(int(opt.det.vad_min_ms)) + " ms").c_str() : "off",
                 model_settings ? " (the model's detector settings, flags override)" : "");
  return {fo.sample_rate, size_t(det.hop_samples()),
          [&det](const float* x, size_t n, std::vector<kws::Detection>* out) { det.Accept(x, n, out); },
          [&det]() -> const kws::DetectorStats& { return det.stats(); }};
}

// A microWakeWord manifest (.json): the model beside it, streamed as ESPHome's micro_wake_word does.
Session WakeWordSession(const Opts& o, Detectors* d) {
  for (const char* flag : {"--hop-ms", "--label-threshold", "--smooth-ms", "--suppress-ms", "--min-results",
                           "--vad-dbfs", "--vad-min-ms", "--no-vad", "--frontend", "--labels"})
    if (o.det_flags.app && o.det_flags.app->count(flag) > 0)
      throw kws::UsageError(std::string(flag) + " does not apply to a microWakeWord manifest (" + o.model +
                            "): it sets its own front end and detection; --threshold overrides its probability_cutoff");
  kws::WakeWordModel& m = d->wake_model.emplace(kws::LoadWakeWordModel(o.model));
  kws::WakeWordOptions wo = m.options;
  if (o.det_flags.app && o.det_flags.app->count("--threshold") > 0) wo.probability_cutoff = o.det.post.threshold;
  wo.Validate();
  kws::WakeWordDetector& det = d->wake.emplace(m, wo);
  if (o.scores)
    det.on_result = [](int64_t t, float p, float mean) {
      std::fprintf(stderr, "%8.3f p=%.3f mean=%.3f\n", double(t) / 1000.0, double(p), double(mean));
    };
  if (!kws::cli::Globals().quiet)
    kws::LogInfo("kws listen: %s: wake word '%s' (%s, input [1, %d, %d] int8: %d frames per call), micro front end "
                 "%d ms / %d ms; fires when the mean of the last %d outputs > %.2f (uint8 %d), then cools off for %d "
                 "frames",
                 o.model.c_str(), m.manifest.wake_word.c_str(), m.manifest.model_path.c_str(), m.stride,
                 m.frontend.filterbank.num_channels, m.stride, m.frontend.window.size_ms, m.frontend.window.step_ms,
                 wo.sliding_window_size, wo.probability_cutoff, int(wo.cutoff_u8()), wo.min_slices_before_detection);
  return {det.sample_rate(), size_t(det.hop_samples()),
          [&det](const float* x, size_t n, std::vector<kws::Detection>* out) { det.Accept(x, n, out); },
          [&det]() -> const kws::DetectorStats& { return det.stats(); }};
}

void InstallSignalHandlers() {
  struct sigaction sa{};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll/read return EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// Streams o.input through the session until its end or a signal; returns odd bytes dropped.
size_t StreamInput(const Opts& o, const Session& s, Runner& run, std::string* source) {
  const bool quiet = kws::cli::Globals().quiet;
  const int rate = s.rate;
  *source = o.input;
  size_t dropped = 0;
  if (o.input == "-") {
    *source = "<stdin>";
    dropped = ReadRaw(stdin, *source, run, s.chunk, rate);
  } else if (o.input == "mic" || o.input.rfind("mic:", 0) == 0) {
    const std::string device = o.input.size() > 4 ? o.input.substr(4) : "default";
    kws::Capture cap(device, rate);  // BadInput if ALSA is unavailable or the device cannot be opened
    if (!quiet) kws::LogInfo("kws listen: capturing from ALSA device '%s' at %d Hz (Ctrl-C to stop)", device.c_str(), rate);
    std::vector<float> buf(s.chunk);
    while (!g_stop) {
      const size_t n = cap.Read(buf.data(), buf.size());
      if (n > 0) run.Feed(buf.data(), n);
    }
  } else if (IsRawExtension(o.input)) {
    std::FILE* f = std::fopen(o.input.c_str(), "rb");
    if (!f) throw kws::BadInput(o.input + ": cannot open (" + std::strerror(errno) + ")");
    try {
      dropped = ReadRaw(f, o.input, run, s.chunk, rate);
    } catch (...) {
      std::fclose(f);
      throw;
    }
    std::fclose(f);
  } else {
    // Streamed hop by hop (decode, down-mix, resample): memory does not grow with the file's length.
    kws::AudioFileReader reader(o.input, rate);
    const kws::AudioInfo& info = reader.info();
    if (info.sample_rate != rate && !quiet)
      kws::LogInfo("kws listen: %s is %d Hz; resampling to the model's %d Hz", o.input.c_str(), info.sample_rate, rate);
    std::vector<float> buf(s.chunk);
    while (!g_stop) {
      const size_t n = reader.Read(buf.data(), buf.size());
      if (n == 0) break;
      run.Feed(buf.data(), n);
    }
  }
  return dropped;
}

// A file input that cannot be used fails before the banner: one line, the file and the problem.
// (A raw stream may be a FIFO; an audio file must be a regular file.)
void CheckInputFile(const Opts& o) {
  if (o.input == "-" || o.input == "mic" || o.input.rfind("mic:", 0) == 0) return;
  if (!IsRawExtension(o.input)) kws::RegularFileSize(o.input, "audio file");
  else if (std::error_code ec; !std::filesystem::exists(o.input, ec)) throw kws::BadInput(o.input + ": no such file");
}

nlohmann::json SummaryJson(const Opts& o, const Session& s, const Runner& run, const std::string& source,
                           size_t dropped, double wall, long rss_start) {
  const auto& st = s.stats();
  const double audio_s = double(st.samples) / s.rate;
  nlohmann::json j = {{"input", source},
                      {"audio_seconds", audio_s},
                      {"hops", st.hops},
                      {"inferences", st.inferences},
                      {"gated", st.gated},
                      {"detections", st.detections},
                      {"dropped_bytes", dropped},
                      {"processing_seconds", run.busy()},
                      {"wall_seconds", wall},
                      {"real_time_factor", audio_s > 0 ? run.busy() / audio_s : 0.0},
                      {"peak_rss_kb_start", rss_start},
                      {"peak_rss_kb", PeakRssKb()},
                      {"interrupted", bool(g_stop)}};
  if (!o.exec.empty()) j["exec"] = {{"started", run.spawned()}, {"failed", run.failed_exec()}, {"skipped", run.skipped_exec()}};
  return j;
}

void PrintSummary(const Opts& o, const nlohmann::json& j, const std::string& source, size_t dropped) {
  if (o.json) {
    std::fprintf(stderr, "%s\n", j.dump().c_str());
    return;
  }
  const double audio_s = j["audio_seconds"], busy = j["processing_seconds"];
  std::fprintf(stderr,
               "kws listen: %s: %.1f s of audio, %lld hops, %lld inferences (%lld gated by VAD), %lld detections%s\n",
               source.c_str(), audio_s, j["hops"].get<long long>(), j["inferences"].get<long long>(),
               j["gated"].get<long long>(), j["detections"].get<long long>(), g_stop ? " (interrupted)" : "");
  std::fprintf(stderr, "kws listen: processing %.3f s (real-time factor %.5f), peak memory %ld KB (%ld KB after loading)\n",
               busy, j["real_time_factor"].get<double>(), j["peak_rss_kb"].get<long>(), j["peak_rss_kb_start"].get<long>());
  if (dropped)
    std::fprintf(stderr, "kws listen: %s: input ended mid-sample; dropped %zu odd byte%s\n", source.c_str(), dropped,
                 dropped == 1 ? "" : "s");
  if (!o.exec.empty())
    std::fprintf(stderr, "kws listen: --exec ran %d times (%d failed, %d skipped)\n", j["exec"]["started"].get<int>(),
                 j["exec"]["failed"].get<int>(), j["exec"]["skipped"].get<int>());
}

int Run(const Opts& o) {
  if (o.max_children < 1) throw kws::UsageError("--max-exec must be >= 1");
  if (!o.summary.empty()) kws::CheckOutputPath(o.summary, kws::OutputKind::kFile, "--summary");
  CheckInputFile(o);
  Detectors detectors;
  const Session session = kws::IsWakeWordManifestPath(o.model) ? WakeWordSession(o, &detectors) : KwsSession(o, &detectors);
  InstallSignalHandlers();
  Runner run(o, session);
  const long rss_start = PeakRssKb();
  const auto wall0 = std::chrono::steady_clock::now();
  std::string source;
  const size_t dropped = StreamInput(o, session, run, &source);
  run.Reap(true);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const nlohmann::json summary = SummaryJson(o, session, run, source, dropped, wall, rss_start);
  if (!o.summary.empty()) kws::AtomicWriteFile(o.summary, summary.dump(2) + "\n");
  if (!kws::cli::Globals().quiet) PrintSummary(o, summary, source, dropped);
  return 0;
}

kws::cli::Registrar reg(
    "listen", "Streaming keyword detection on raw PCM (stdin), an audio file, or a microphone",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--model", o->model,
                     "Model file (.tflite exported by 'kws export'), or a microWakeWord manifest (.json, ESPHome's; "
                     "its model is loaded from beside it)")
          ->required();
      app.add_option("--input", o->input,
                     "'-' = raw s16le mono PCM at the model rate on stdin (default); an audio file (any format "
                     "libsndfile reads, resampled; .raw/.pcm/.s16 = raw s16le); mic[:DEVICE] = ALSA capture")
          ->capture_default_str();
      kws::cli::AddDetectorFlags(app, &o->det, &o->det_flags);
      app.add_option("--exec", o->exec,
                     "Run this /bin/sh command per detection (env KWS_LABEL, KWS_SCORE, KWS_TIME); not waited for");
      app.add_option("--max-exec", o->max_children, "At most this many --exec commands running at once")->capture_default_str();
      app.add_flag("--json", o->json, "Print the end-of-stream summary as JSON (on stderr)");
      app.add_option("--summary", o->summary,
                     "Also write the end-of-stream summary as JSON to this file (even with -q; stdout keeps only "
                     "detections)");
      app.add_flag("--scores", o->scores, "Print every hop's scores on stderr (debugging)");
      app.add_option("--frontend", o->overrides.frontend,
                     "For a model without kws metadata: micro (TFLite Micro's audio front end, micro_speech's "
                     "settings, run over the whole stream as on a device; int8 fed as is) or tf.signal");
      app.add_option("--labels", o->labels, "For a model without kws metadata: its classes in output order, comma-separated");
      return [o]() -> int { return Run(*o); };
    },
    "Detections: one JSON line each on stdout: {\"t\": seconds, \"label\": ..., \"score\": ...}\n"
    "Examples:\n"
    "  arecord -q -f S16_LE -r 16000 -c 1 | kws listen --model model.tflite\n"
    "  kws listen --model model.tflite --input recording.wav --exec 'notify-send \"$KWS_LABEL\"'\n"
    "  kws listen --model model.tflite --input mic:hw:1,0\n"
    "  kws listen --model micro_speech_quantized.tflite --frontend micro --labels silence,unknown,yes,no --input clip.wav\n"
    "  kws listen --model okay_nabu.json --input mic      # microWakeWord: label = the manifest's wake_word");

}  // namespace
