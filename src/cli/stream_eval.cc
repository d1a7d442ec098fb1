// kws stream-eval: recall / false alarms per hour / delay / real-time factor of
// the streaming detector on long synthetic streams (see stream/stream_eval.h).
#include <cstdio>
#include <stdexcept>
#include <string>

#include "cli/command.h"
#include "cli/detector_flags.h"
#include "report/plots.h"
#include "stream/stream_eval.h"
#include "util/error.h"

namespace {

struct Opts {
  std::string model;
  kws::StreamEvalOptions ev;
  kws::cli::DetectorFlags det_flags;
  bool sweep = false;
  bool json = false;
  bool list_detections = false;
  std::vector<double> thresholds;
  double fa_budget = 1.0;
  std::string svg;
  std::string noise_part;
};

// --sweep / --thresholds: the thresholds replayed besides --threshold.
void ApplySweepFlags(Opts& o) {
  if (o.sweep) {
    o.ev.sweep.clear();
    for (int i = 0; i <= 8; ++i) o.ev.sweep.push_back(0.5 + 0.05 * i);  // 0.5 .. 0.9
    for (double t : {0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.998}) o.ev.sweep.push_back(t);
  }
  if (!o.thresholds.empty()) {
    if (o.sweep) throw kws::UsageError("--sweep and --thresholds: give one of them");
    o.ev.sweep = o.thresholds;
    o.sweep = true;
  }
  if (!o.svg.empty() && !o.sweep) throw kws::UsageError("--svg needs --sweep");
  if (!(o.fa_budget >= 0)) throw kws::UsageError("--fa-budget must be >= 0");
}

// --noise-part FROM:TO.
void ApplyNoisePart(Opts& o) {
  if (o.noise_part.empty()) return;
  const size_t c = o.noise_part.find(':');
  try {
    if (c == std::string::npos) throw std::invalid_argument("no colon");
    size_t used = 0;
    o.ev.noise_from = std::stod(o.noise_part.substr(0, c), &used);
    if (used != c) throw std::invalid_argument("trailing");
    const std::string rest = o.noise_part.substr(c + 1);
    o.ev.noise_to = std::stod(rest, &used);
    if (used != rest.size()) throw std::invalid_argument("trailing");
  } catch (const std::logic_error&) {
    throw kws::UsageError("--noise-part: expected FROM:TO fractions like 0.75:1 (got '" + o.noise_part + "')");
  }
}

// --svg: recall against false alarms/hour over the sweep, with the --fa-budget line.
void WriteSweepSvg(const Opts& o, const kws::StreamEvalResult& r) {
  char snr[32], thr[32];
  std::snprintf(snr, sizeof snr, "%g", o.ev.snr_db);
  kws::LineChart p;
  p.title = std::string("Streaming detection: recall vs false alarms (") + snr + " dB SNR)";
  p.x_label = "false alarms per hour";
  p.y_label = "recall";
  p.y_min = 0;
  p.y_max = 1;
  p.markers = true;
  kws::Series s;
  s.name = "threshold sweep";
  for (const auto& t : r.sweep) {
    s.x.push_back(t.fa_per_hour);
    s.y.push_back(t.recall());
    std::snprintf(thr, sizeof thr, "%g", t.threshold);
    s.point_labels.push_back(thr);
  }
  p.series.push_back(s);
  char budget[64];
  std::snprintf(budget, sizeof budget, "%g false alarm%s/hour", o.fa_budget, o.fa_budget == 1 ? "" : "s");
  p.x_lines.push_back({o.fa_budget, budget});
  kws::WriteSvg(o.svg, kws::LineChartSvg(p));
}

int Run(Opts& o) {
  kws::cli::ApplyDetectorFlags(o.det_flags, &o.ev.det);
  ApplySweepFlags(o);
  ApplyNoisePart(o);
  o.ev.Validate();
  kws::DeployedModel model = kws::DeployedModel::Load(o.model);
  kws::StreamEvalReportOptions how;
  how.model = o.model;
  how.model_detector_settings = kws::cli::ApplyModelDetectorSettings(o.det_flags, model.meta, o.model, &o.ev.det);
  o.ev.Validate();
  kws::InterpreterScorer scorer(model);
  const kws::StreamEvalResult r = kws::RunStreamEval(o.ev, model.meta.features, model.meta.labels, &scorer);

  if (!o.svg.empty()) WriteSweepSvg(o, r);
  how.fa_budget = o.fa_budget;
  how.list_detections = o.list_detections;
  if (o.json) {
    std::printf("%s\n", r.ToJson(o.ev, model.meta.labels, how).dump(2).c_str());
    return 0;
  }
  how.label_thresholds = kws::cli::DescribeLabelThresholds(o.ev.det.post);
  std::fputs(r.Table(o.ev, how).c_str(), stdout);
  if (!o.svg.empty()) std::printf("wrote %s\n", o.svg.c_str());
  return 0;
}

kws::cli::Registrar reg(
    "stream-eval", "Recall, false alarms/hour, delay and speed of streaming detection on long synthetic streams",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--model", o->model, "Model file (.tflite exported by 'kws export')")->required();
      app.add_option("--data", o->ev.data,
                     "Dataset folder: label folders + _background_noise_; repeat it to merge several")
          ->required();
      app.add_option("--minutes", o->ev.minutes, "Stream length")->capture_default_str();
      app.add_option("--snr-db", o->ev.snr_db, "Keyword speech level above the noise")->capture_default_str();
      app.add_option("--speech-dbfs", o->ev.speech_dbfs, "Keyword speech RMS level (noise at this minus the SNR)")
          ->capture_default_str();
      app.add_option("--noise-dbfs", o->ev.noise_dbfs, "Noise bed RMS level instead (speech then at this plus the SNR)");
      app.add_option("--seed", o->ev.seed, "Clip choice, placement and noise")->capture_default_str();
      app.add_option("--tolerance-ms", o->ev.tolerance_ms, "A detection may come this long after the keyword ends")
          ->capture_default_str();
      kws::cli::AddDetectorFlags(app, &o->ev.det, &o->det_flags);
      app.add_option("--exclude-speakers-of", o->ev.exclude_speakers_of,
                     "Leave out every speaker that has a clip in this data folder (e.g. the training data); repeatable");
      app.add_option("--noise-part", o->noise_part,
                     "FROM:TO: use only this part of each _background_noise_ file (fractions, e.g. 0.75:1)");
      app.add_flag("--sweep", o->sweep, "Also replay thresholds 0.5 ... 0.998");
      app.add_option("--fa-budget", o->fa_budget,
                     "Report the operating point: the best recall of --threshold and the sweep at <= this many false "
                     "alarms/hour (chosen on the same stream: optimistic; choose on a tuning stream)")
          ->capture_default_str();
      app.add_option("--thresholds", o->thresholds, "Replay these thresholds instead of --sweep's (comma-separated)")
          ->delimiter(',');
      app.add_option("--dump-false-alarms", o->ev.dump_false_alarms,
                     "Hard-negative mining: write the 1 s of audio ending at each false alarm (at --threshold) to "
                     "DIR/_silence_ (on noise), DIR/_unknown_ (on other words) or DIR/<keyword> (wrong label)");
      app.add_flag("--list-detections", o->list_detections, "With --json: list every detection at --threshold");
      app.add_option("--svg", o->svg, "With --sweep: write the recall vs false-alarms/hour curve as SVG");
      app.add_flag("--json", o->json, "Print JSON");
      return [o]() -> int { return Run(*o); };
    },
    "Examples:\n"
    "  kws stream-eval --model model.tflite --data data/speech_commands --minutes 30 --snr-db 10\n"
    "  kws stream-eval --model model.tflite --data data/speech_commands --sweep --svg roc.svg\n"
    "  kws stream-eval --model runs/s/model_float.tflite --data POOL --exclude-speakers-of TRAIN_DIR --noise-part 0.75:1\n"
    "  kws stream-eval --model M --data TRAIN_DIR --noise-part 0:0.6 --threshold 0.6 --dump-false-alarms mined");

}  // namespace
