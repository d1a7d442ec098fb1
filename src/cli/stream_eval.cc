// kws stream-eval: recall / false alarms per hour / delay / real-time factor of
// the streaming detector on long synthetic streams (see stream/stream_eval.h).
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "cli/command.h"
#include "cli/detector_flags.h"
#include "report/plots.h"
#include "stream/stream_eval.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/text.h"

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

// with_clips: also list the keyword clips that were missed at least once (worst first).
nlohmann::json ResultJson(const kws::ThresholdResult& r, const std::vector<std::string>& labels,
                          bool with_clips = false) {
  nlohmann::json j = {{"threshold", r.threshold},
                      {"keyword_events", r.events},
                      {"hits", r.hits},
                      {"recall", r.recall()},
                      {"recall_ci90", {r.recall_low, r.recall_high}},
                      {"false_rejection_rate", r.events ? 1.0 - r.recall() : 0.0},
                      {"false_alarms", r.false_alarms},
                      {"false_alarms_per_hour", r.fa_per_hour},
                      {"false_alarm_kinds",
                       {{"wrong_label", r.fa_wrong_label}, {"repeat", r.fa_repeat}, {"other_word", r.fa_other_word},
                        {"noise", r.fa_noise}}},
                      {"noise_false_alarms_late", r.fa_noise_late},
                      {"mean_delay_ms", r.mean_delay_ms},
                      {"median_delay_ms", r.median_delay_ms},
                      {"p90_delay_ms", r.p90_delay_ms},
                      {"max_delay_ms", r.max_delay_ms}};
  for (const auto& k : r.keywords)
    j["keywords"][k.label] = {{"events", k.events},
                              {"hits", k.hits},
                              {"recall", k.recall()},
                              {"false_rejection_rate", k.events ? 1.0 - k.recall() : 0.0},
                              {"clips", k.clips},
                              {"speakers", k.speakers},
                              {"clips_never_found", k.clips_never_found}};
  if (with_clips) {
    std::vector<const kws::ClipResult*> missed;
    for (const auto& c : r.clips)
      if (c.hits < c.events) missed.push_back(&c);
    std::stable_sort(missed.begin(), missed.end(), [](const kws::ClipResult* a, const kws::ClipResult* b) {
      return double(a->hits) / a->events < double(b->hits) / b->events;
    });
    j["missed_clips"] = nlohmann::json::array();
    for (const kws::ClipResult* c : missed)
      j["missed_clips"].push_back({{"clip", c->clip}, {"label", labels[size_t(c->label)]}, {"speaker", c->speaker},
                                   {"events", c->events}, {"hits", c->hits}});
  }
  return j;
}

nlohmann::json LabelThresholdsJson(const kws::PostProcessOptions& p) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [label, t] : p.label_thresholds) j[label] = t;
  return j;
}

int Run(Opts& o) {
  kws::cli::ApplyDetectorFlags(o.det_flags, &o.ev.det);
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
  if (!o.noise_part.empty()) {
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
  o.ev.Validate();
  kws::StreamModel model = kws::LoadStreamModel(o.model);
  const bool model_settings = kws::cli::ApplyModelDetectorSettings(o.det_flags, model.meta, o.model, &o.ev.det);
  o.ev.Validate();
  kws::InterpreterScorer scorer(model);
  const kws::StreamEvalResult r = kws::RunStreamEval(o.ev, model.meta.features, model.meta.labels, &scorer);
  const std::vector<std::string>& labels = model.meta.labels;

  if (!o.svg.empty()) {
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

  if (o.json) {
    nlohmann::json j = {{"model", o.model},
                        {"data", o.ev.data},
                        {"minutes", o.ev.minutes},
                        {"snr_db", o.ev.snr_db},
                        {"noise_dbfs", o.ev.NoiseDbfs()},
                        {"seed", o.ev.seed},
                        {"tolerance_ms", o.ev.tolerance_ms},
                        {"hop_ms", o.ev.det.hop_ms},
                        {"smooth_ms", o.ev.det.post.smooth_ms},
                        {"suppress_ms", o.ev.det.post.suppress_ms},
                        {"vad", o.ev.det.vad},
                        {"min_results", o.ev.det.post.min_results},
                        {"label_thresholds", LabelThresholdsJson(o.ev.det.post)},
                        {"detector_settings", model_settings ? "model" : "defaults"},
                        {"exclude_speakers_of", o.ev.exclude_speakers_of},
                        {"excluded_clips", r.excluded_clips},
                        {"speakers", r.speakers},
                        {"noise_part", {o.ev.noise_from, o.ev.noise_to}},
                        {"events", {{"keyword", r.keyword_events}, {"other_word", r.other_events}, {"noise", r.noise_events}}},
                        {"audio_seconds", r.audio_seconds},
                        {"processing_seconds", r.processing_seconds},
                        {"real_time_factor", r.real_time_factor},
                        {"inferences", r.stats.inferences},
                        {"gated", r.stats.gated},
                        {"peak_rss_kb", r.peak_rss_kb},
                        {"result", ResultJson(r.main, labels, true)}};
    for (const auto& t : r.sweep) j["sweep"].push_back(ResultJson(t, labels));
    const kws::ThresholdResult* op = kws::OperatingPoint(r, o.fa_budget);
    j["operating_point"] = {{"max_false_alarms_per_hour", o.fa_budget},
                            {"result", op ? ResultJson(*op, labels, true) : nlohmann::json(nullptr)}};
    if (!o.ev.dump_false_alarms.empty())
      j["dumped_false_alarms"] = {{"folder", o.ev.dump_false_alarms}, {"silence", r.dumped.silence},
                                  {"unknown", r.dumped.unknown}, {"keyword", r.dumped.keyword},
                                  {"skipped", r.dumped.skipped}};
    if (o.list_detections)
      for (const auto& d : r.main.detections)
        j["result"]["detections"].push_back({{"time_ms", d.time_ms},
                                             {"label", model.meta.labels[size_t(d.label)]},
                                             {"kind", kws::ScoredKindName(d.kind)},
                                             {"event", d.event}});
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("stream      %.1f min, %d keyword events, %d other words, %d noise stretches, SNR %g dB, seed %llu\n",
              r.audio_seconds / 60, r.keyword_events, r.other_events, r.noise_events, o.ev.snr_db,
              static_cast<unsigned long long>(o.ev.seed));
  if (!o.ev.exclude_speakers_of.empty())
    std::printf("speakers    %d (%d clips of speakers in the excluded folders left out)\n", r.speakers, r.excluded_clips);
  std::printf("threshold   %.3f%s   (smooth %g ms, min %d results, suppress %g ms, hop %g ms, tolerance %g ms, VAD %s%s)\n",
              r.main.threshold, kws::cli::DescribeLabelThresholds(o.ev.det.post).c_str(), o.ev.det.post.smooth_ms,
              o.ev.det.post.min_results, o.ev.det.post.suppress_ms, o.ev.det.hop_ms, o.ev.tolerance_ms,
              o.ev.det.vad ? "on" : "off", model_settings ? "; the model's detector settings, flags override" : "");
  std::printf("%-12s %7s %6s %8s %8s %6s %8s %12s\n", "keyword", "events", "hits", "recall", "FRR", "clips", "speakers",
              "never found");
  int clips = 0, never = 0;
  for (const auto& k : r.main.keywords) {
    std::printf("%-12s %7d %6d %7.2f%% %7.2f%% %6d %8d %12d\n", kws::Printable(k.label).c_str(), k.events, k.hits, 100 * k.recall(),
                100 * (k.events ? 1 - k.recall() : 0), k.clips, k.speakers, k.clips_never_found);
    clips += k.clips;
    never += k.clips_never_found;
  }
  std::printf("%-12s %7d %6d %7.2f%% %7.2f%% %6d %8s %12d\n", "all", r.main.events, r.main.hits, 100 * r.main.recall(),
              100 * (r.main.events ? 1 - r.main.recall() : 0), clips, "", never);
  std::printf("recall      90%% interval over speakers (bootstrap) %.1f-%.1f%%", 100 * r.main.recall_low,
              100 * r.main.recall_high);
  if (clips > 0 && r.main.events > clips)
    std::printf("; %d events from %d recordings (each used ~%.1fx): more speakers' clips give a firmer figure",
                r.main.events, clips, double(r.main.events) / clips);
  std::printf("\n");
  std::printf("false alarms %d = %.2f per hour (wrong label %d, repeat %d, on other words %d, on noise %d)\n",
              r.main.false_alarms, r.main.fa_per_hour, r.main.fa_wrong_label, r.main.fa_repeat, r.main.fa_other_word,
              r.main.fa_noise);
  std::printf("delay       mean %.0f ms, median %.0f ms, 90%% %.0f ms, max %.0f ms after the keyword's speech ends"
              " (%d noise false alarms within 2 x tolerance of a keyword)\n",
              r.main.mean_delay_ms, r.main.median_delay_ms, r.main.p90_delay_ms, r.main.max_delay_ms,
              r.main.fa_noise_late);
  if (!o.ev.dump_false_alarms.empty())
    std::printf("dumped      %d to _silence_, %d to _unknown_, %d to keyword folders, %d skipped, in %s\n",
                r.dumped.silence, r.dumped.unknown, r.dumped.keyword, r.dumped.skipped,
                o.ev.dump_false_alarms.c_str());
  std::printf("speed       %.2f s for %.0f s of audio: real-time factor %.5f (%lld inferences, %lld hops gated)\n",
              r.processing_seconds, r.audio_seconds, r.real_time_factor, (long long)r.stats.inferences,
              (long long)r.stats.gated);
  std::printf("memory      peak RSS %ld KB\n", r.peak_rss_kb);
  if (!r.sweep.empty()) {
    std::printf("\n%-10s %8s %10s %10s\n", "threshold", "recall", "FA/hour", "delay ms");
    for (const auto& t : r.sweep)
      std::printf("%-10g %7.2f%% %10.2f %10.0f\n", t.threshold, 100 * t.recall(), t.fa_per_hour, t.median_delay_ms);
  }
  if (const kws::ThresholdResult* op = kws::OperatingPoint(r, o.fa_budget)) {
    std::printf("\nat <= %g false alarms/hour: recall %.2f%% (speakers' 90%% interval %.1f-%.1f%%) at threshold %.3f "
                "(%.2f/hour; chosen on this stream)\n",
                o.fa_budget, 100 * op->recall(), 100 * op->recall_low, 100 * op->recall_high, op->threshold,
                op->fa_per_hour);
    if (!r.sweep.empty())
      std::printf("(to make it the model's default, for measuring it on other streams: kws export --model RUN ... "
                  "--set detector.threshold=%.3f)\n",
                  op->threshold);
  } else {
    std::printf("\nat <= %g false alarms/hour: no threshold tried gets there (add --sweep or higher --thresholds)\n",
                o.fa_budget);
  }
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
