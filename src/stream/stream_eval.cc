#include "stream/stream_eval.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "audio/audio.h"
#include "util/error.h"
#include "util/log.h"
#include "util/rng.h"
#include "util/text.h"

namespace kws {

long PeakRssKb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

void StreamEvalOptions::Validate() const {
  if (data.empty()) throw UsageError("--data is required");
  if (!(minutes > 0 && minutes <= 24 * 60)) throw UsageError("--minutes must be in (0, 1440]");
  if (!(snr_db >= -30 && snr_db <= 80)) throw UsageError("--snr-db must be in [-30, 80]");
  if (!std::isnan(noise_dbfs) && !(noise_dbfs <= 0 && noise_dbfs >= -100))
    throw UsageError("--noise-dbfs must be in [-100, 0]");
  if (!(speech_dbfs <= 0 && speech_dbfs >= -100)) throw UsageError("--speech-dbfs must be in [-100, 0]");
  if (!(tolerance_ms >= 0)) throw UsageError("--tolerance-ms must be >= 0");
  if (!(keyword_fraction > 0 && other_fraction >= 0 && keyword_fraction + other_fraction <= 1))
    throw UsageError("keyword/other fractions must be > 0, >= 0 and sum to <= 1");
  if (!(extra_gap_ms >= 0)) throw UsageError("extra gap must be >= 0");
  det.Validate();
  for (double t : sweep)
    if (!(t >= 0 && t <= 1)) throw UsageError("--sweep thresholds must be in [0, 1]");
  if (!(noise_from >= 0 && noise_from < noise_to && noise_to <= 1))
    throw UsageError("--noise-part must be FROM:TO with 0 <= FROM < TO <= 1");
  if (!dump_false_alarms.empty() && !(dump_seconds > 0 && dump_seconds <= 10))
    throw UsageError("false-alarm dump length must be in (0, 10] s");
}

int ExcludeSpeakersOf(Dataset& ds, const std::vector<std::string>& dirs) {
  std::set<std::string> seen;
  DatasetOptions lo;
  lo.probe = false;
  lo.skip_bad_files = true;  // only the speakers in the file names are needed
  const Dataset other = LoadDataset(dirs, lo);
  for (const Clip& c : other.clips)
    if (c.has_speaker) seen.insert(c.speaker);
  const size_t before = ds.clips.size();
  ds.clips.erase(std::remove_if(ds.clips.begin(), ds.clips.end(),
                                [&](const Clip& c) { return c.has_speaker && seen.count(c.speaker) > 0; }),
                 ds.clips.end());
  return int(before - ds.clips.size());
}

BackgroundNoise NoisePart(const BackgroundNoise& noise, double from, double to) {
  BackgroundNoise out(noise.sample_rate());
  for (int i = 0; i < noise.size(); ++i) {
    const std::vector<float>& x = noise.samples(i);
    const size_t a = size_t(double(x.size()) * from), b = size_t(double(x.size()) * to);
    if (b > a) out.Add(noise.name(i), std::vector<float>(x.begin() + long(a), x.begin() + long(b)));
  }
  return out;
}

namespace {

constexpr int kFadeMs = 20;

double Rms(const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(x[i]) * x[i];
  return n > 0 ? std::sqrt(s / double(n)) : 0.0;
}

// Speech region (in samples) of a clip: 10 ms blocks within 25 dB of the loudest.
void SpeechRegion(const std::vector<float>& x, int rate, int64_t* begin, int64_t* end) {
  const int block = rate / 100;
  const int nb = int(x.size()) / block;
  if (nb == 0) {
    *begin = 0;
    *end = int64_t(x.size());
    return;
  }
  std::vector<double> db(static_cast<size_t>(nb));
  double peak = -300;
  for (int b = 0; b < nb; ++b) {
    const double r = Rms(x.data() + size_t(b) * block, block);
    db[size_t(b)] = r > 1e-10 ? 20 * std::log10(r) : -200;
    peak = std::max(peak, db[size_t(b)]);
  }
  int first = nb, last = -1;
  for (int b = 0; b < nb; ++b)
    if (db[size_t(b)] >= peak - 25) {
      first = std::min(first, b);
      last = b;
    }
  if (last < 0) first = 0, last = nb - 1;
  *begin = int64_t(first) * block;
  *end = int64_t(last + 1) * block;
}

struct WordPool {
  std::vector<int> clips;
  size_t next = 0;
};

int NextClip(WordPool& p) {
  const int c = p.clips[p.next % p.clips.size()];
  ++p.next;
  return c;
}

// Fills r->clips, the keywords' clip/speaker counts and the speaker-bootstrap recall interval
// from the keyword events and which of them were hit.
void ScoreClips(const StreamPlan& plan, const std::vector<int>& kw_slot, const std::vector<char>& hit,
                ThresholdResult* r) {
  std::map<std::string, size_t> clip_index;
  std::map<std::string, std::pair<int, int>> by_speaker;  // speaker -> (events, hits)
  std::vector<std::set<std::string>> speakers(r->keywords.size());
  for (size_t i = 0; i < plan.events.size(); ++i) {
    const StreamEvent& e = plan.events[i];
    if (e.kind != StreamEvent::Kind::kKeyword) continue;
    auto [it, fresh] = clip_index.emplace(e.clip + '\n' + std::to_string(e.label_index), r->clips.size());
    if (fresh) r->clips.push_back({e.clip, e.speaker, e.label_index, 0, 0});
    ClipResult& c = r->clips[it->second];
    ++c.events;
    c.hits += hit[i] ? 1 : 0;
    speakers[size_t(kw_slot[size_t(e.label_index)])].insert(e.speaker);
    auto& s = by_speaker[e.speaker];
    ++s.first;
    s.second += hit[i] ? 1 : 0;
  }
  for (const ClipResult& c : r->clips) {
    KeywordStats& k = r->keywords[size_t(kw_slot[size_t(c.label)])];
    ++k.clips;
    k.clips_never_found += c.hits == 0 ? 1 : 0;
  }
  for (size_t k = 0; k < speakers.size(); ++k) r->keywords[k].speakers = int(speakers[k].size());
  // Bootstrap over speakers: the events of one speaker are not independent (the same voice,
  // the same few recordings), so resample whole speakers.
  std::vector<std::pair<int, int>> spk;
  spk.reserve(by_speaker.size());
  for (const auto& [name, eh] : by_speaker) spk.push_back(eh);
  if (spk.empty()) return;
  constexpr int kResamples = 2000;
  std::vector<double> recalls;
  recalls.reserve(kResamples);
  Rng rng(12345);
  for (int b = 0; b < kResamples; ++b) {
    long ev = 0, hits = 0;
    for (size_t j = 0; j < spk.size(); ++j) {
      const auto& s = spk[size_t(rng.Below(spk.size()))];
      ev += s.first;
      hits += s.second;
    }
    recalls.push_back(ev ? double(hits) / double(ev) : 0.0);
  }
  std::sort(recalls.begin(), recalls.end());
  r->recall_low = recalls[size_t(0.05 * kResamples)];
  r->recall_high = recalls[size_t(0.95 * kResamples) - 1];
}

}  // namespace

StreamPlan PlanStream(const Dataset& ds, const BackgroundNoise& noise, const std::vector<std::string>& labels,
                      const StreamEvalOptions& o) {
  o.Validate();
  if (noise.empty()) throw UsageError(ds.root + ": no _background_noise_ recordings (needed for the noise bed)");
  StreamPlan plan;
  const int rate = noise.sample_rate();
  plan.sample_rate = rate;
  plan.total = int64_t(o.minutes * 60.0 * rate);
  Rng rng(o.seed);

  // Word pools.
  std::vector<int> kw_index;
  std::vector<WordPool> kw_pools;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!IsKeywordLabel(labels[i])) continue;
    WordPool p;
    p.clips = ds.ClipsOf(labels[i]);
    if (p.clips.empty()) throw UsageError(ds.root + ": no clips of keyword '" + labels[i] + "'");
    Rng r = Rng::Derive(o.seed, 1000 + i);
    r.Shuffle(p.clips);
    kw_index.push_back(int(i));
    kw_pools.push_back(std::move(p));
  }
  WordPool other;
  for (size_t c = 0; c < ds.clips.size(); ++c) {
    const std::string& l = ds.clips[c].label;
    if (l == kSilenceLabel || std::find(labels.begin(), labels.end(), l) != labels.end()) {
      if (l != kUnknownLabel) continue;
    }
    other.clips.push_back(int(c));
  }
  {
    Rng r = Rng::Derive(o.seed, 999);
    r.Shuffle(other.clips);
  }

  // Noise bed.
  const int fade = rate * kFadeMs / 1000;
  const float target = float(std::pow(10.0, o.NoiseDbfs() / 20.0));
  Rng nrng = Rng::Derive(o.seed, 7);
  for (int64_t t = 0; t < plan.total;) {
    NoiseSegment s;
    s.file = int(nrng.Below(uint64_t(noise.size())));
    const int64_t flen = int64_t(noise.samples(s.file).size());
    int64_t want = int64_t(nrng.Uniform(5.0, 30.0) * rate);
    want = std::min(want, flen);
    s.offset = flen > want ? int64_t(nrng.Below(uint64_t(flen - want + 1))) : 0;
    s.length = want;
    s.start = t;
    const double r = Rms(noise.samples(s.file).data() + s.offset, s.length);
    s.gain = r > 1e-9 ? float(target / r) : 0.0f;
    plan.noise.push_back(s);
    t += std::max<int64_t>(s.length - fade, fade + 1);
  }

  // Events.
  const double speech_rms = std::pow(10.0, (o.NoiseDbfs() + o.snr_db) / 20.0);
  int64_t cursor = rate;  // 1 s lead-in
  while (true) {
    const double u = rng.Uniform();
    StreamEvent e;
    if (u >= o.keyword_fraction + o.other_fraction || (u >= o.keyword_fraction && other.clips.empty())) {
      e.kind = StreamEvent::Kind::kNoise;
      e.start = cursor;
      e.end = cursor + int64_t(rng.Uniform(2.0, 6.0) * rate);
      if (e.end > plan.total) break;
      e.speech_start = e.speech_end = e.start;
      e.label = "";
      plan.events.push_back(e);
      cursor = e.end;
      continue;
    }
    int clip;
    if (u < o.keyword_fraction) {
      const size_t k = size_t(rng.Below(kw_pools.size()));
      clip = NextClip(kw_pools[k]);
      e.kind = StreamEvent::Kind::kKeyword;
      e.label_index = kw_index[k];
      e.label = labels[size_t(e.label_index)];
    } else {
      clip = NextClip(other);
      e.kind = StreamEvent::Kind::kOther;
      e.label = ds.clips[size_t(clip)].word.empty() ? ds.clips[size_t(clip)].label : ds.clips[size_t(clip)].word;
    }
    e.clip = ds.clips[size_t(clip)].path;
    e.speaker = ds.clips[size_t(clip)].speaker;
    const std::vector<float> x = ReadAudio(e.clip, rate).samples;
    int64_t sb, se;
    SpeechRegion(x, rate, &sb, &se);
    const double r = Rms(x.data() + sb, se - sb);
    e.gain = r > 1e-9 ? float(speech_rms / r) : 0.0f;
    e.start = cursor;
    e.end = cursor + int64_t(x.size());
    e.speech_start = cursor + sb;
    e.speech_end = cursor + se;
    const int64_t gap = int64_t((o.det.post.suppress_ms + rng.Uniform(0.0, o.extra_gap_ms)) * rate / 1000.0);
    if (e.end + gap > plan.total) break;
    plan.events.push_back(e);
    cursor = e.end + gap;
  }
  return plan;
}

void StreamRenderer::Render(int64_t begin, float* out, int n) {
  std::fill(out, out + n, 0.0f);
  const int64_t end = begin + n;
  const int fade = plan_.sample_rate * kFadeMs / 1000;
  // Noise segments (linear fades in and out, overlapping by `fade`).
  while (first_noise_ < plan_.noise.size() &&
         plan_.noise[first_noise_].start + plan_.noise[first_noise_].length <= begin)
    ++first_noise_;
  for (size_t i = first_noise_; i < plan_.noise.size() && plan_.noise[i].start < end; ++i) {
    const NoiseSegment& s = plan_.noise[i];
    const std::vector<float>& src = noise_.samples(s.file);
    const int64_t a = std::max(begin, s.start), b = std::min(end, s.start + s.length);
    for (int64_t t = a; t < b; ++t) {
      const int64_t k = t - s.start;
      float g = s.gain;
      if (k < fade && i > 0) g *= float(k) / float(fade);
      if (s.length - k <= fade && i + 1 < plan_.noise.size()) g *= float(s.length - k) / float(fade);
      out[t - begin] += g * src[size_t(s.offset + k)];
    }
  }
  // Clips.
  while (first_event_ < plan_.events.size() && plan_.events[first_event_].end <= begin) ++first_event_;
  cache_.erase(std::remove_if(cache_.begin(), cache_.end(), [&](const auto& c) { return c.first < first_event_; }),
               cache_.end());
  for (size_t i = first_event_; i < plan_.events.size() && plan_.events[i].start < end; ++i) {
    const StreamEvent& e = plan_.events[i];
    if (e.kind == StreamEvent::Kind::kNoise) continue;
    auto it = std::find_if(cache_.begin(), cache_.end(), [&](const auto& c) { return c.first == i; });
    if (it == cache_.end()) {
      std::vector<float> x = ReadAudio(e.clip, plan_.sample_rate).samples;
      for (auto& v : x) v *= e.gain;
      cache_.emplace_back(i, std::move(x));
      it = cache_.end() - 1;
    }
    const std::vector<float>& x = it->second;
    const int64_t a = std::max(begin, e.start), b = std::min(end, e.start + int64_t(x.size()));
    for (int64_t t = a; t < b; ++t) out[t - begin] += x[size_t(t - e.start)];
  }
  for (int i = 0; i < n; ++i) out[i] = std::clamp(out[i], -1.0f, 1.0f);
}

ThresholdResult ScoreDetections(const StreamPlan& plan, const std::vector<std::string>& labels,
                                const std::vector<Detection>& dets, double threshold, double tolerance_ms) {
  ThresholdResult r;
  r.threshold = threshold;
  const double rate = plan.sample_rate;
  std::vector<int> kw_slot(labels.size(), -1);
  for (size_t i = 0; i < labels.size(); ++i)
    if (IsKeywordLabel(labels[i])) {
      kw_slot[i] = int(r.keywords.size());
      r.keywords.push_back({labels[i], 0, 0});
    }
  std::vector<size_t> kw_events;
  for (size_t i = 0; i < plan.events.size(); ++i)
    if (plan.events[i].kind == StreamEvent::Kind::kKeyword) {
      kw_events.push_back(i);
      ++r.keywords[size_t(kw_slot[size_t(plan.events[i].label_index)])].events;
      ++r.events;
    }
  std::vector<char> hit(plan.events.size(), 0);
  std::vector<double> delays;
  using SK = ScoredDetection::Kind;
  for (const Detection& d : dets) {
    const double t = double(d.time_ms);
    ScoredDetection sd;
    sd.time_ms = d.time_ms;
    sd.label = d.label;
    bool matched = false, on_event = false, wrong = false;
    int on = -1;
    for (size_t i : kw_events) {
      const StreamEvent& e = plan.events[i];
      const double s = 1000.0 * double(e.start) / rate, f = 1000.0 * double(e.speech_end) / rate;
      if (t < s) break;
      if (t > f + tolerance_ms) continue;
      on_event = true;
      if (on < 0) on = int(i);
      if (d.label != e.label_index) {
        wrong = true;
        continue;
      }
      if (hit[i]) continue;
      hit[i] = 1;
      matched = true;
      on = int(i);
      ++r.hits;
      ++r.keywords[size_t(kw_slot[size_t(e.label_index)])].hits;
      delays.push_back(t - f);
      break;
    }
    sd.event = on;
    if (matched) {
      sd.kind = SK::kHit;
      r.detections.push_back(sd);
      continue;
    }
    ++r.false_alarms;
    if (wrong) {
      ++r.fa_wrong_label;
      sd.kind = SK::kWrongLabel;
    } else if (on_event) {
      ++r.fa_repeat;
      sd.kind = SK::kRepeat;
    } else {
      // On another word (within its clip + tolerance) or on noise.
      int other = -1;
      double last_kw_end = -1e300;
      for (size_t i = 0; i < plan.events.size(); ++i) {
        const StreamEvent& e = plan.events[i];
        const double s = 1000.0 * double(e.start) / rate, f = 1000.0 * double(e.speech_end) / rate;
        if (s > t) break;
        if (e.kind == StreamEvent::Kind::kOther && t <= f + tolerance_ms && other < 0) other = int(i);
        if (e.kind == StreamEvent::Kind::kKeyword) last_kw_end = f;
      }
      if (other >= 0) {
        ++r.fa_other_word;
        sd.kind = SK::kOtherWord;
        sd.event = other;
      } else {
        ++r.fa_noise;
        sd.kind = SK::kNoise;
        sd.event = -1;
        if (t - last_kw_end <= 2 * tolerance_ms) ++r.fa_noise_late;
      }
    }
    r.detections.push_back(sd);
  }
  ScoreClips(plan, kw_slot, hit, &r);
  const double hours = double(plan.total) / rate / 3600.0;
  r.fa_per_hour = hours > 0 ? r.false_alarms / hours : 0;
  if (!delays.empty()) {
    double sum = 0;
    for (double v : delays) sum += v;
    r.mean_delay_ms = sum / double(delays.size());
    std::sort(delays.begin(), delays.end());
    const size_t m = delays.size() / 2;
    r.median_delay_ms = delays.size() % 2 ? delays[m] : 0.5 * (delays[m - 1] + delays[m]);
    r.p90_delay_ms = delays[std::min(delays.size() - 1, size_t(std::ceil(0.9 * double(delays.size()))) - 1)];
    r.max_delay_ms = delays.back();
  }
  return r;
}

const char* ScoredKindName(ScoredDetection::Kind k) {
  switch (k) {
    case ScoredDetection::Kind::kHit: return "hit";
    case ScoredDetection::Kind::kWrongLabel: return "wrong_label";
    case ScoredDetection::Kind::kRepeat: return "repeat";
    case ScoredDetection::Kind::kOtherWord: return "other_word";
    case ScoredDetection::Kind::kNoise: return "noise";
  }
  return "?";
}

std::string FalseAlarmFileName(uint64_t seed, double snr_db, int64_t time_ms) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "fa_%llu_%g_%lld.wav", static_cast<unsigned long long>(seed), snr_db,
                static_cast<long long>(time_ms));
  return buf;
}

DumpCounts DumpFalseAlarms(const StreamPlan& plan, const BackgroundNoise& noise, const ThresholdResult& scored,
                           const std::string& dir, uint64_t seed, double snr_db, double seconds) {
  if (dir.empty()) throw UsageError("--dump-false-alarms: empty folder name");
  if (!(seconds > 0 && seconds <= 10)) throw UsageError("false-alarm dump length must be in (0, 10] s");
  DumpCounts n;
  const int rate = plan.sample_rate;
  const int64_t len = int64_t(std::llround(seconds * rate));
  using SK = ScoredDetection::Kind;
  std::vector<const ScoredDetection*> todo;
  for (const ScoredDetection& d : scored.detections)
    if (d.kind != SK::kHit && d.kind != SK::kRepeat) todo.push_back(&d);
  std::stable_sort(todo.begin(), todo.end(),
                   [](const ScoredDetection* a, const ScoredDetection* b) { return a->time_ms < b->time_ms; });
  StreamRenderer render(plan, noise);
  std::vector<float> buf(static_cast<size_t>(len));
  for (const ScoredDetection* d : todo) {
    const int64_t end = d->time_ms * rate / 1000, begin = end - len;
    std::string folder;
    int keep_keyword = -1;  // the keyword event whose speech the window may hold
    if (d->kind == SK::kNoise) {
      folder = kSilenceLabel;
    } else if (d->kind == SK::kOtherWord) {
      folder = kUnknownLabel;
    } else if (d->kind == SK::kWrongLabel && d->event >= 0) {
      const StreamEvent& e = plan.events[size_t(d->event)];
      if (begin <= e.speech_start && e.speech_end <= end) {
        folder = e.label;
        keep_keyword = d->event;
      }
    }
    bool ok = !folder.empty() && begin >= 0 && end <= plan.total;
    for (size_t i = 0; ok && i < plan.events.size(); ++i) {
      const StreamEvent& e = plan.events[i];
      if (e.kind == StreamEvent::Kind::kKeyword && int(i) != keep_keyword && e.speech_start < end &&
          e.speech_end > begin)
        ok = false;
    }
    if (!ok) {
      ++n.skipped;
      continue;
    }
    render.Render(begin, buf.data(), int(len));
    const std::filesystem::path out = std::filesystem::path(dir) / folder;
    std::filesystem::create_directories(out);
    WriteWav16((out / FalseAlarmFileName(seed, snr_db, d->time_ms)).string(), buf, rate);
    ++(d->kind == SK::kNoise ? n.silence : d->kind == SK::kOtherWord ? n.unknown : n.keyword);
  }
  return n;
}

StreamEvalResult RunStreamEval(const StreamEvalOptions& o, const FeatureOptions& features,
                               const std::vector<std::string>& labels, Scorer* scorer) {
  o.Validate();
  Dataset ds = LoadDataset(o.data);
  WarnOtherSampleRates(ds, features.sample_rate);
  StreamEvalResult res;
  if (!o.exclude_speakers_of.empty()) res.excluded_clips = ExcludeSpeakersOf(ds, o.exclude_speakers_of);
  {
    std::set<std::string> spk;
    for (const Clip& c : ds.clips)
      if (c.has_speaker) spk.insert(c.speaker);
    res.speakers = int(spk.size());
  }
  BackgroundNoise noise(ds, features.sample_rate);
  if (o.noise_from > 0 || o.noise_to < 1) noise = NoisePart(noise, o.noise_from, o.noise_to);
  const StreamPlan plan = PlanStream(ds, noise, labels, o);
  for (const auto& e : plan.events)
    ++(e.kind == StreamEvent::Kind::kKeyword ? res.keyword_events
       : e.kind == StreamEvent::Kind::kOther ? res.other_events
                                              : res.noise_events);
  Detector det(features, labels, scorer, o.det);
  // Record every hop's (gated) scores for replays at other thresholds.
  const size_t C = labels.size();
  std::vector<int64_t> times;
  std::vector<float> scores;
  det.on_result = [&](int64_t t, const float* s, bool) {
    times.push_back(t);
    scores.insert(scores.end(), s, s + C);
  };
  StreamRenderer render(plan, noise);
  const int chunk = det.hop_samples();
  std::vector<float> buf(static_cast<size_t>(chunk));
  std::vector<Detection> found;
  double busy = 0;
  Progress prog("stream-eval", long(plan.total / chunk) + 1);
  for (int64_t t = 0; t < plan.total; t += chunk) {
    const int n = int(std::min<int64_t>(chunk, plan.total - t));
    render.Render(t, buf.data(), n);
    const auto t0 = std::chrono::steady_clock::now();
    det.Accept(buf.data(), size_t(n), &found);
    busy += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    prog.Tick();
  }
  prog.Done();
  res.audio_seconds = double(plan.total) / plan.sample_rate;
  res.processing_seconds = busy;
  res.real_time_factor = busy / res.audio_seconds;
  res.stats = det.stats();
  res.main = ScoreDetections(plan, labels, found, o.det.post.threshold, o.tolerance_ms);
  if (!o.dump_false_alarms.empty())
    res.dumped = DumpFalseAlarms(plan, noise, res.main, o.dump_false_alarms, o.seed, o.snr_db, o.dump_seconds);
  for (double th : o.sweep) {
    PostProcessOptions p = o.det.post;
    p.threshold = th;
    ScoreSmoother sm(labels, p, SmootherCapacity(p.smooth_ms, o.det.hop_ms));
    std::vector<Detection> d;
    Detection one;
    for (size_t i = 0; i < times.size(); ++i)
      if (sm.Process(times[i], scores.data() + i * C, &one)) d.push_back(one);
    res.sweep.push_back(ScoreDetections(plan, labels, d, th, o.tolerance_ms));
  }
  res.peak_rss_kb = PeakRssKb();
  return res;
}

const ThresholdResult* OperatingPoint(const StreamEvalResult& r, double max_fa_per_hour) {
  const ThresholdResult* best = nullptr;
  auto consider = [&](const ThresholdResult& t) {
    if (!(t.fa_per_hour <= max_fa_per_hour)) return;
    if (!best || t.hits > best->hits || (t.hits == best->hits && t.false_alarms < best->false_alarms) ||
        (t.hits == best->hits && t.false_alarms == best->false_alarms && t.threshold > best->threshold))
      best = &t;
  };
  consider(r.main);
  for (const ThresholdResult& t : r.sweep) consider(t);
  return best;
}

// ---- reports: JSON and table ----

namespace {

// printf into `out`.
__attribute__((format(printf, 2, 3))) void Appendf(std::string& out, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  out += VStrFormat(fmt, args);
  va_end(args);
}

nlohmann::json LabelThresholdsJson(const PostProcessOptions& p) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [label, t] : p.label_thresholds) j[label] = t;
  return j;
}

}  // namespace

nlohmann::json ThresholdResult::ToJson(const std::vector<std::string>& labels, bool with_clips) const {
  const ThresholdResult& r = *this;
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
    std::vector<const ClipResult*> missed;
    for (const auto& c : r.clips)
      if (c.hits < c.events) missed.push_back(&c);
    std::stable_sort(missed.begin(), missed.end(), [](const ClipResult* a, const ClipResult* b) {
      return double(a->hits) / a->events < double(b->hits) / b->events;
    });
    j["missed_clips"] = nlohmann::json::array();
    for (const ClipResult* c : missed)
      j["missed_clips"].push_back({{"clip", c->clip}, {"label", labels[size_t(c->label)]}, {"speaker", c->speaker},
                                   {"events", c->events}, {"hits", c->hits}});
  }
  return j;
}

nlohmann::json StreamEvalResult::ToJson(const StreamEvalOptions& opts, const std::vector<std::string>& labels,
                                        const StreamEvalReportOptions& how) const {
  const StreamEvalResult& r = *this;
  nlohmann::json j = {{"model", how.model},
                      {"data", opts.data},
                      {"minutes", opts.minutes},
                      {"snr_db", opts.snr_db},
                      {"noise_dbfs", opts.NoiseDbfs()},
                      {"seed", opts.seed},
                      {"tolerance_ms", opts.tolerance_ms},
                      {"hop_ms", opts.det.hop_ms},
                      {"smooth_ms", opts.det.post.smooth_ms},
                      {"suppress_ms", opts.det.post.suppress_ms},
                      {"vad", opts.det.vad},
                      {"min_results", opts.det.post.min_results},
                      {"label_thresholds", LabelThresholdsJson(opts.det.post)},
                      {"detector_settings", how.model_detector_settings ? "model" : "defaults"},
                      {"exclude_speakers_of", opts.exclude_speakers_of},
                      {"excluded_clips", r.excluded_clips},
                      {"speakers", r.speakers},
                      {"noise_part", {opts.noise_from, opts.noise_to}},
                      {"events", {{"keyword", r.keyword_events}, {"other_word", r.other_events}, {"noise", r.noise_events}}},
                      {"audio_seconds", r.audio_seconds},
                      {"processing_seconds", r.processing_seconds},
                      {"real_time_factor", r.real_time_factor},
                      {"inferences", r.stats.inferences},
                      {"gated", r.stats.gated},
                      {"peak_rss_kb", r.peak_rss_kb},
                      {"result", r.main.ToJson(labels, true)}};
  for (const auto& t : r.sweep) j["sweep"].push_back(t.ToJson(labels));
  const ThresholdResult* op = OperatingPoint(r, how.fa_budget);
  j["operating_point"] = {{"max_false_alarms_per_hour", how.fa_budget},
                          {"result", op ? op->ToJson(labels, true) : nlohmann::json(nullptr)}};
  if (!opts.dump_false_alarms.empty())
    j["dumped_false_alarms"] = {{"folder", opts.dump_false_alarms}, {"silence", r.dumped.silence},
                                {"unknown", r.dumped.unknown}, {"keyword", r.dumped.keyword},
                                {"skipped", r.dumped.skipped}};
  if (how.list_detections)
    for (const auto& d : r.main.detections)
      j["result"]["detections"].push_back({{"time_ms", d.time_ms},
                                           {"label", labels[size_t(d.label)]},
                                           {"kind", ScoredKindName(d.kind)},
                                           {"event", d.event}});
  return j;
}

std::string StreamEvalResult::Table(const StreamEvalOptions& opts, const StreamEvalReportOptions& how) const {
  const StreamEvalResult& r = *this;
  const PostProcessOptions& post = opts.det.post;
  std::string t;
  Appendf(t, "stream      %.1f min, %d keyword events, %d other words, %d noise stretches, SNR %g dB, seed %llu\n",
          r.audio_seconds / 60, r.keyword_events, r.other_events, r.noise_events, opts.snr_db,
          static_cast<unsigned long long>(opts.seed));
  if (!opts.exclude_speakers_of.empty())
    Appendf(t, "speakers    %d (%d clips of speakers in the excluded folders left out)\n", r.speakers,
            r.excluded_clips);
  Appendf(t, "threshold   %.3f%s   (smooth %g ms, min %d results, suppress %g ms, hop %g ms, tolerance %g ms, VAD %s%s)\n",
          r.main.threshold, how.label_thresholds.c_str(), post.smooth_ms, post.min_results, post.suppress_ms,
          opts.det.hop_ms, opts.tolerance_ms, opts.det.vad ? "on" : "off",
          how.model_detector_settings ? "; the model's detector settings, flags override" : "");
  Appendf(t, "%-12s %7s %6s %8s %8s %6s %8s %12s\n", "keyword", "events", "hits", "recall", "FRR", "clips", "speakers",
          "never found");
  int clips = 0, never = 0;
  for (const auto& k : r.main.keywords) {
    Appendf(t, "%-12s %7d %6d %7.2f%% %7.2f%% %6d %8d %12d\n", Printable(k.label).c_str(), k.events, k.hits,
            100 * k.recall(), 100 * (k.events ? 1 - k.recall() : 0), k.clips, k.speakers, k.clips_never_found);
    clips += k.clips;
    never += k.clips_never_found;
  }
  Appendf(t, "%-12s %7d %6d %7.2f%% %7.2f%% %6d %8s %12d\n", "all", r.main.events, r.main.hits, 100 * r.main.recall(),
          100 * (r.main.events ? 1 - r.main.recall() : 0), clips, "", never);
  Appendf(t, "recall      90%% interval over speakers (bootstrap) %.1f-%.1f%%", 100 * r.main.recall_low,
          100 * r.main.recall_high);
  if (clips > 0 && r.main.events > clips)
    Appendf(t, "; %d events from %d recordings (each used ~%.1fx): more speakers' clips give a firmer figure",
            r.main.events, clips, double(r.main.events) / clips);
  Appendf(t, "\n");
  Appendf(t, "false alarms %d = %.2f per hour (wrong label %d, repeat %d, on other words %d, on noise %d)\n",
          r.main.false_alarms, r.main.fa_per_hour, r.main.fa_wrong_label, r.main.fa_repeat, r.main.fa_other_word,
          r.main.fa_noise);
  Appendf(t, "delay       mean %.0f ms, median %.0f ms, 90%% %.0f ms, max %.0f ms after the keyword's speech ends"
          " (%d noise false alarms within 2 x tolerance of a keyword)\n",
          r.main.mean_delay_ms, r.main.median_delay_ms, r.main.p90_delay_ms, r.main.max_delay_ms, r.main.fa_noise_late);
  if (!opts.dump_false_alarms.empty())
    Appendf(t, "dumped      %d to _silence_, %d to _unknown_, %d to keyword folders, %d skipped, in %s\n",
            r.dumped.silence, r.dumped.unknown, r.dumped.keyword, r.dumped.skipped, opts.dump_false_alarms.c_str());
  Appendf(t, "speed       %.2f s for %.0f s of audio: real-time factor %.5f (%lld inferences, %lld hops gated)\n",
          r.processing_seconds, r.audio_seconds, r.real_time_factor, (long long)r.stats.inferences,
          (long long)r.stats.gated);
  Appendf(t, "memory      peak RSS %ld KB\n", r.peak_rss_kb);
  if (!r.sweep.empty()) {
    Appendf(t, "\n%-10s %8s %10s %10s\n", "threshold", "recall", "FA/hour", "delay ms");
    for (const auto& s : r.sweep)
      Appendf(t, "%-10g %7.2f%% %10.2f %10.0f\n", s.threshold, 100 * s.recall(), s.fa_per_hour, s.median_delay_ms);
  }
  if (const ThresholdResult* op = OperatingPoint(r, how.fa_budget)) {
    Appendf(t, "\nat <= %g false alarms/hour: recall %.2f%% (speakers' 90%% interval %.1f-%.1f%%) at threshold %.3f "
            "(%.2f/hour; chosen on this stream)\n",
            how.fa_budget, 100 * op->recall(), 100 * op->recall_low, 100 * op->recall_high, op->threshold,
            op->fa_per_hour);
    if (!r.sweep.empty())
      Appendf(t, "(to make it the model's default, for measuring it on other streams: kws export --model RUN ... "
              "--set detector.threshold=%.3f)\n",
              op->threshold);
  } else {
    Appendf(t, "\nat <= %g false alarms/hour: no threshold tried gets there (add --sweep or higher --thresholds)\n",
            how.fa_budget);
  }
  return t;
}

}  // namespace kws
