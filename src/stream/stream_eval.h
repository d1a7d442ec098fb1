// `kws stream-eval`: long synthetic test streams with keywords at known times,
// run through the streaming Detector, scored like a deployed wake-word system.
//
// Stream construction (deterministic in `seed`):
//   * a continuous noise bed of _background_noise_ segments (random file and
//     offset, 5–30 s each, 20 ms cross-fades), each scaled to NoiseDbfs() RMS
//     (speech_dbfs − snr_db unless noise_dbfs is set: speech stays at the level of
//     Speech Commands clips and the noise moves with the SNR, so no SNR clips);
//   * events after a 1 s lead-in, one after another: a keyword clip (prob.
//     keyword_fraction), a clip of another word (other_fraction: any folder that
//     is not a model keyword and not _silence_), or a pure-noise stretch of 2–6 s;
//     after every clip a gap of suppress_ms + U(0, extra_gap_ms);
//   * each clip's speech region is where its 10 ms block level is within 25 dB
//     of its loudest block; the clip is scaled so that the RMS over that region
//     is snr_db above the noise RMS; the sum is clipped to [-1, 1].
//   Clips of each word are shuffled with the seed and used in turn.
//
// Scoring: a detection at time t falls on the first keyword event (not yet hit)
// with clip_start <= t <= speech_end + tolerance_ms. The right label
// on an unmatched event is a hit (delay = t − speech_end); anything else — the
// wrong label, a second detection, a detection on another word or on noise — is
// a false alarm. recall = hits / keyword events per keyword; false alarms per
// hour of stream audio. Clips are reused once a word's clips run out (a 180-minute
// stream has ~1,500 keyword events), so the results also say how many recordings and
// speakers the recall rests on, which clips were missed, and a speaker-bootstrap
// interval for the recall.
//
// Hard-negative mining (dump_false_alarms = DIR): the `dump_seconds` of stream audio
// ending at each false alarm at det.post.threshold is written as 16-bit WAV at the
// stream's rate, named fa_<seed>_<snr>_<ms>.wav (snr as %g, ms = detection time):
//   * on pure noise                    -> DIR/_silence_/
//   * on another word                  -> DIR/_unknown_/
//   * wrong label on a keyword event   -> DIR/<the event's keyword>/ (the window holds that
//     keyword, so it is a hard example of it, never _unknown_), only if the window covers
//     the keyword's whole speech region;
//   * repeats (a second detection of a found keyword) are not written;
//   * nothing is written whose window overlaps the speech of a keyword it is not labelled
//     with, or that starts before the stream does.
//
// The model runs once per stream; every hop's scores (after the VAD gate) are
// recorded so other thresholds replay only the post-processing (--sweep).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/augment.h"
#include "stream/detector.h"

namespace kws {

struct StreamEvalOptions {
  std::vector<std::string> data;  // dataset folders (label folders + _background_noise_), merged
  double minutes = 10;
  double snr_db = 10;
  uint64_t seed = 1;
  double speech_dbfs = -20;       // keyword speech RMS (over its speech region), typical of Speech Commands clips
  double noise_dbfs = std::numeric_limits<double>::quiet_NaN();  // noise bed RMS; NaN = speech_dbfs - snr_db
  double NoiseDbfs() const { return std::isnan(noise_dbfs) ? speech_dbfs - snr_db : noise_dbfs; }
  double tolerance_ms = 1500;     // a detection may come this long after the keyword's speech ends
  double keyword_fraction = 0.5;
  double other_fraction = 0.25;
  double extra_gap_ms = 2000;     // gap after a clip: suppress_ms + U(0, extra_gap_ms)
  DetectorOptions det;
  std::vector<double> sweep;      // extra thresholds to replay (empty = only det.post.threshold)
  // Held-out protocol: clips of every speaker that has a clip in one of these data folders
  // (e.g. the training data) are left out of the stream.
  std::vector<std::string> exclude_speakers_of;
  // Only this part of every _background_noise_ file feeds the noise bed, as fractions of its
  // length (e.g. 0.75..1 when training mixed noise from the first 75% of each file).
  double noise_from = 0, noise_to = 1;
  std::string dump_false_alarms;  // "" = off; else the mining folder (see above)
  double dump_seconds = 1.0;
  void Validate() const;          // UsageError naming the flag
};

struct StreamEvent {
  enum class Kind { kKeyword, kOther, kNoise };
  Kind kind = Kind::kNoise;
  std::string label;              // keyword label (kKeyword), word folder (kOther)
  int label_index = -1;           // model class (kKeyword)
  std::string clip;               // path
  std::string speaker;            // the clip's speaker (Clip::speaker; a pseudo-speaker if none)
  int64_t start = 0, end = 0;     // stream samples of the clip (or noise stretch)
  int64_t speech_start = 0, speech_end = 0;
  float gain = 1;
};

struct NoiseSegment {
  int file = 0;
  int64_t offset = 0;             // in the noise file
  int64_t start = 0, length = 0;  // in the stream
  float gain = 1;
};

struct StreamPlan {
  int sample_rate = 16000;
  int64_t total = 0;              // samples
  std::vector<StreamEvent> events;
  std::vector<NoiseSegment> noise;
};

// Plans a stream of `opts.minutes` from `ds` for a model with `labels`. Reads every clip it uses
// once (speech region, gain). UsageError if the data has no clip of some keyword or no noise.
StreamPlan PlanStream(const Dataset& ds, const BackgroundNoise& noise, const std::vector<std::string>& labels,
                      const StreamEvalOptions& opts);

// Renders stream samples [begin, begin + n) into out (clips are read when first needed and
// dropped once the rendering has passed them).
class StreamRenderer {
 public:
  StreamRenderer(const StreamPlan& plan, const BackgroundNoise& noise) : plan_(plan), noise_(noise) {}
  void Render(int64_t begin, float* out, int n);

 private:
  const StreamPlan& plan_;
  const BackgroundNoise& noise_;
  size_t first_event_ = 0, first_noise_ = 0;
  std::vector<std::pair<size_t, std::vector<float>>> cache_;  // event index -> scaled clip
};

struct KeywordStats {
  std::string label;
  int events = 0, hits = 0;
  // A stream reuses clips when it has more keyword events than recordings: recall then rests on
  // `clips` recordings of `speakers` people, whatever the number of events.
  int clips = 0, speakers = 0;
  int clips_never_found = 0;      // clips none of whose events was hit
  double recall() const { return events ? double(hits) / events : 0.0; }
};

// One keyword recording over all the events that used it.
struct ClipResult {
  std::string clip, speaker;
  int label = -1;                 // model class
  int events = 0, hits = 0;
};

// What one detection was scored as.
struct ScoredDetection {
  enum class Kind { kHit, kWrongLabel, kRepeat, kOtherWord, kNoise };
  int64_t time_ms = 0;
  int label = -1;                 // detected class
  Kind kind = Kind::kNoise;
  int event = -1;                 // plan event it fell on (-1 for noise)
};
const char* ScoredKindName(ScoredDetection::Kind k);  // "hit", "wrong_label", "repeat", "other_word", "noise"

struct ThresholdResult {
  double threshold = 0;
  std::vector<KeywordStats> keywords;
  int events = 0, hits = 0;
  int false_alarms = 0;           // all of them
  int fa_wrong_label = 0, fa_repeat = 0, fa_other_word = 0, fa_noise = 0;
  double fa_per_hour = 0;
  double mean_delay_ms = 0, median_delay_ms = 0;
  double p90_delay_ms = 0, max_delay_ms = 0;
  // Noise false alarms that came within 2 x tolerance_ms after a keyword's speech end: a
  // diagnostic for detections that were merely late (each of those keywords is also a miss).
  int fa_noise_late = 0;
  std::vector<ScoredDetection> detections;  // every detection, in time order
  std::vector<ClipResult> clips;  // every keyword clip, in order of first use
  // 90% interval of the recall over speakers: 2,000 bootstrap resamples of the keyword events'
  // speakers (with replacement, fixed seed), 5th and 95th percentiles of sum(hits)/sum(events).
  double recall_low = 0, recall_high = 0;
  double recall() const { return events ? double(hits) / events : 0.0; }
  // As JSON; with_clips: also the keyword clips missed at least once (worst first). `labels` name the
  // model's classes.
  nlohmann::json ToJson(const std::vector<std::string>& labels, bool with_clips = false) const;
};

struct HopResult {
  int64_t time_ms;
  bool gate_open;
};

struct DumpCounts {
  int silence = 0, unknown = 0, keyword = 0;
  int skipped = 0;                // false alarms not written (repeats are not counted)
};

// What a report of a run shows besides its options and result (`kws stream-eval` fills it in).
struct StreamEvalReportOptions {
  std::string model;                     // the model file
  bool model_detector_settings = false;  // the detector settings came from the model's metadata
  double fa_budget = 1.0;                // operating point: best recall at <= this many false alarms/hour
  bool list_detections = false;          // JSON: every detection at the threshold
  std::string label_thresholds;          // table: the per-label thresholds, described after the threshold
};

struct StreamEvalResult {
  double audio_seconds = 0;
  double processing_seconds = 0;  // detector only (features + VAD + model + smoothing)
  double real_time_factor = 0;
  long peak_rss_kb = 0;
  DetectorStats stats;
  int keyword_events = 0, other_events = 0, noise_events = 0;
  int excluded_clips = 0;         // clips left out by exclude_speakers_of
  int speakers = 0;               // distinct speakers of the clips the stream could use
  ThresholdResult main;           // at det.post.threshold
  std::vector<ThresholdResult> sweep;
  DumpCounts dumped;              // with dump_false_alarms

  // The run as JSON (`kws stream-eval --json`) and as a table; `labels` are the model's classes.
  nlohmann::json ToJson(const StreamEvalOptions& opts, const std::vector<std::string>& labels,
                        const StreamEvalReportOptions& how) const;
  std::string Table(const StreamEvalOptions& opts, const StreamEvalReportOptions& how) const;
};

// Matches detections against the plan's keyword events.
ThresholdResult ScoreDetections(const StreamPlan& plan, const std::vector<std::string>& labels,
                                const std::vector<Detection>& detections, double threshold, double tolerance_ms);

// Writes the false alarms of `scored` (its detections) as WAV files under `dir` (see the
// hard-negative mining comment above); renders the windows from `plan` and `noise`.
DumpCounts DumpFalseAlarms(const StreamPlan& plan, const BackgroundNoise& noise, const ThresholdResult& scored,
                           const std::string& dir, uint64_t seed, double snr_db, double seconds = 1.0);
// The file name a false alarm is dumped under: fa_<seed>_<snr %g>_<ms>.wav.
std::string FalseAlarmFileName(uint64_t seed, double snr_db, int64_t time_ms);

// Drops the clips of every speaker (clips with a parsed speaker id) found in the folders
// `dirs`; returns how many clips were dropped. UsageError if a folder cannot be read.
int ExcludeSpeakersOf(Dataset& ds, const std::vector<std::string>& dirs);

// The [from, to) part (fractions of the length) of every file of `noise`.
BackgroundNoise NoisePart(const BackgroundNoise& noise, double from, double to);

// Plans, renders and runs `scorer` over the stream; `progress` is called with the fraction done.
StreamEvalResult RunStreamEval(const StreamEvalOptions& opts, const FeatureOptions& features,
                               const std::vector<std::string>& labels, Scorer* scorer);

// The operating point: of the main result and the sweep, the one with the highest recall among
// those with at most `max_fa_per_hour` false alarms/hour (ties: fewer false alarms, then the
// higher threshold); nullptr when none qualifies. Chosen on the stream it is measured on, so it
// is optimistic: pick the threshold on one stream and report another stream at it.
const ThresholdResult* OperatingPoint(const StreamEvalResult& r, double max_fa_per_hour);

long PeakRssKb();

}  // namespace kws
