#include "search/search.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "model/config.h"
#include "search/asha.h"
#include "search/budget.h"
#include "search/estimate.h"
#include "search/executor.h"
#include "search/queue.h"
#include "search/redis.h"
#include "search/results.h"
#include "search/space.h"
#include "search/trial.h"
#include "train/cv.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/parallel.h"

namespace kws::search {

using json = nlohmann::json;
namespace fsys = std::filesystem;

void SearchOptions::Validate() const {
  if (space.empty()) throw UsageError("--space: required (a search space, e.g. configs/search/yesno.toml)");
  if (out.empty()) throw UsageError("--out: required (the search folder)");
  if (trials < 0) throw UsageError("--trials: must be >= 1");
  if (parallel < 1 || parallel > 256) throw UsageError("--parallel: must be 1..256");
  if (parallel > 1 && !broker.empty())
    throw UsageError("--parallel runs local trials; with --broker start more `kws worker` processes instead");
  if (parallel > 1 && program.empty()) throw UsageError("--parallel: needs the kws program to run trials with");
  if (!(lease_seconds >= 1 && lease_seconds <= 86400)) throw UsageError("--lease: must be 1..86400 seconds");
  if (queue.empty() || queue.find_first_of(" \t\r\n") != std::string::npos)
    throw UsageError("--queue: a name without blanks");
  if (!broker.empty()) ParseRedisUrl(broker);
}

namespace {

// Everything fixed before the first trial: the space, the data, the settings every trial shares.
struct Plan {
  SearchSpace space;
  std::vector<std::string> sets, data_dirs;
  Dataset dataset;
  std::string digest, search_id;
  int threads = 1, trials = 0;
  std::vector<int> rungs;
  json identity;
};

int SetEpochs(const std::vector<std::string>& sets) {
  int e = 0;
  for (const std::string& s : sets)
    if (s.rfind("train.epochs=", 0) == 0) e = std::atoi(s.c_str() + 13);
  return e;
}

// The space's rungs; --set train.epochs=E caps them (a quick look: every rung at most E epochs).
// {0} = one rung at the config's own epochs.
std::vector<int> EffectiveRungs(const SearchSpace& s, const std::vector<std::string>& sets) {
  const int e = SetEpochs(sets);
  const std::vector<int> r = s.rungs.empty() ? std::vector<int>{0} : s.rungs;
  if (e <= 0) return r;
  std::vector<int> out;
  for (int x : r) {
    const int v = x == 0 ? e : std::min(x, e);
    if (out.empty() || out.back() != v) out.push_back(v);
  }
  return out;
}

std::string SearchId(const json& id) {
  return Sha256Hex(id["space_sha256"].get<std::string>() + "\n" + id["sets"].dump() + "\n" +
                   id["data_digest"].get<std::string>() + "\n" + std::to_string(id["threads"].get<int>()))
      .substr(0, 16);
}

void CheckPerFamily(const Plan& p) {
  for (size_t f = 0; f < p.space.families.size(); ++f) {
    Candidate c;
    c.family = int(f);
    c.quant = p.space.quant;
    const Config cfg = ResolveConfig(p.space, c, p.sets, p.rungs[0]);
    if (p.space.cv == 0 && cfg.train.validation <= 0 && cfg.train.validation_data.empty())
      throw UsageError(p.space.families[f].path + ": train.validation = 0: the objective needs a speaker-disjoint "
                       "validation split (train.validation > 0) or cross-validation ([search] cv = K)");
    EstimateFigures(cfg, p.dataset, p.space.quant);  // labels the data lacks, impossible shapes: now
  }
}

Plan MakePlan(const SearchOptions& o) {
  Plan p;
  p.space = LoadSpace(o.space);
  p.sets = o.sets;
  if (!o.labels.empty()) p.sets.push_back("data.labels=" + o.labels);
  for (const std::string& s : p.sets) {
    const std::string key = s.substr(0, s.find('='));
    if (p.space.Varies(key))
      throw UsageError("--set " + s + ": " + key + " is searched by " + o.space + " (drop one of them)");
  }
  p.rungs = EffectiveRungs(p.space, p.sets);
  Candidate base;
  const Config cfg0 = ResolveConfig(p.space, base, p.sets, 0);
  p.data_dirs = DataDirs(cfg0, o.data);
  DatasetOptions lo;
  lo.probe = false;
  lo.skip_bad_files = true;
  p.dataset = LoadDataset(p.data_dirs, lo);
  p.digest = DataDigest(p.dataset);
  CheckPerFamily(p);
  p.trials = o.trials > 0 ? o.trials : p.space.trials;
  p.threads = NumThreads();
  p.identity = {{"space", o.space},
                {"space_sha256", Sha256Hex(p.space.text)},
                {"sets", p.sets},
                {"data", p.data_dirs},
                {"data_digest", p.digest},
                {"clips", p.dataset.clips.size()},
                {"threads", p.threads},
                {"rungs", p.rungs},
                {"eta", p.space.eta},
                {"kws_version", KWS_VERSION}};
  p.search_id = SearchId(p.identity);
  p.identity["search_id"] = p.search_id;
  return p;
}

// --resume: the folder must hold this very search. Only the thread count may be taken over from it.
void CheckResume(Plan& p, const std::string& out) {
  const fsys::path sj = fsys::path(out) / "search.json";
  json old;
  try {
    old = json::parse(ReadFile(sj));
    if (old.at("search_id").get<std::string>() == p.search_id) return;
    json retry = p.identity;
    retry["threads"] = old.at("threads").get<int>();
    if (SearchId(retry) == old["search_id"].get<std::string>()) {
      LogInfo("search: resuming with %d threads per trial, as the search started (results depend on it)",
              old["threads"].get<int>());
      p.threads = old["threads"].get<int>();
      p.identity = retry;
      p.search_id = SearchId(retry);
      p.identity["search_id"] = p.search_id;
      return;
    }
  } catch (const json::exception& e) {
    throw BadInput(sj.string() + ": not a kws search record (" + e.what() + ")");
  }
  std::string what;
  if (old.value("space_sha256", "") != p.identity["space_sha256"]) what += " the space file";
  if (old.value("sets", json()) != p.identity["sets"]) what += " the --set/--labels settings";
  if (old.value("data_digest", "") != p.identity["data_digest"]) what += " the data's content";
  throw UsageError("--resume: " + out + " holds another search (differs in" + (what.empty() ? " its settings" : what) +
                   "); use the same ones or another --out");
}

struct Candidates {
  std::vector<Candidate> all;   // index = candidate number
  std::vector<int> accepted;    // the trials, in order
  std::map<int, json> estimates;  // trial -> its figures before training (estimate.h)
  std::vector<json> refused;    // rejected and duplicate lines
  std::map<std::string, int> reasons;
};

std::string NoCandidateMessage(const Plan& p, const Candidates& c) {
  std::string r;
  for (auto& [why, n] : c.reasons) r += (r.empty() ? "" : ", ") + std::to_string(n) + " x " + why;
  const json& first = c.refused.front();
  return "budget: none of the " + std::to_string(c.all.size()) + " candidates sampled from " + p.space.source +
         " can be trained within it (" + r + "; e.g. trial " + std::to_string(first["trial"].get<int>()) + ": " +
         first["reason"].get<std::string>() + "); widen the space or the budget";
}

Candidates SampleCandidates(const Plan& p) {
  Candidates c;
  std::map<std::string, int> seen;
  const int max = p.space.MaxCandidates(p.trials);
  for (int i = 0; int(c.accepted.size()) < p.trials && i < max; ++i) {
    c.all.push_back(SampleCandidate(p.space, i));
    const Candidate& cand = c.all.back();
    std::string sig = std::to_string(cand.family) + "|" + cand.quant;
    for (auto& o : cand.overrides) sig += "|" + o;
    json line = {{"trial", i}, {"config", cand.varied}, {"quant", cand.quant}};
    auto refuse = [&](const char* status, const std::string& reason, const std::string& key) {
      line["status"] = status;
      line["reason"] = reason;
      c.refused.push_back(line);
      ++c.reasons[key];
    };
    if (auto it = seen.find(sig); it != seen.end()) {
      refuse("duplicate", "same settings as trial " + std::to_string(it->second), "duplicate");
      continue;
    }
    seen[sig] = i;
    Estimate est;
    try {
      est = EstimateFigures(ResolveConfig(p.space, cand, p.sets, p.rungs[0]), p.dataset, cand.quant);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kUsage) throw;
      refuse("rejected", std::string("invalid config: ") + e.what(), "invalid config");
      continue;
    }
    est.figures.zip_bytes = std::round(est.figures.zip_bytes * p.space.zip_estimate_scale);
    const Verdict v = Judge(p.space.budgets, est.figures, {est.estimated, p.space.estimate_margin, false});
    if (!v.ok()) {
      const json figs = est.figures.ToJson();  // (a temporary's items() would dangle in the loop)
      for (auto& [k, x] : figs.items()) line[k] = x;
      std::string key;
      for (auto& f : v.broken) key += (key.empty() ? "" : "+") + f;
      refuse("rejected", v.reason + " (before training)", key);
      continue;
    }
    c.accepted.push_back(i);
    c.estimates[i] = est.figures.ToJson();
  }
  if (c.accepted.empty()) throw UsageError(NoCandidateMessage(p, c));
  if (int(c.accepted.size()) < p.trials)
    LogWarn("search: only %zu distinct candidates within the budget among %zu sampled (of %d wanted)",
            c.accepted.size(), c.all.size(), p.trials);
  return c;
}

// The trials.jsonl lines so far, and what the search has done.
struct State {
  std::string out;
  std::vector<json> records;
  std::set<std::string> trained;   // job keys with a line
  std::set<int> refused;           // candidates with a rejected/duplicate line
  std::map<std::string, std::string> best_dir;  // budget -> trial dir last copied to best/
  int resumed = 0, ran = 0;
};

std::string TrialsPath(const State& st) { return (fsys::path(st.out) / "trials.jsonl").string(); }

std::string KeyOf(const json& rec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "t%04d-e%d", rec["trial"].get<int>(), rec["epochs"].get<int>());
  return buf;
}

void LoadState(State& st) {
  bool torn = false;
  st.records = ReadJsonl(TrialsPath(st), &torn);
  if (torn) {  // a kill mid-line: keep the whole lines only
    std::string text;
    for (const json& r : st.records) text += r.dump() + "\n";
    AtomicWriteFile(TrialsPath(st), text);
    LogWarn("search: %s ended in a cut-off line (an interrupted write); dropped it", TrialsPath(st).c_str());
  }
  for (const json& r : st.records) {
    if (IsTrained(r)) st.trained.insert(KeyOf(r));
    else st.refused.insert(r.value("trial", -1));
  }
  st.resumed = int(st.trained.size());
}

bool Eligible(const SearchSpace& s, const json& rec) {
  if (rec.value("status", "") == "failed") return false;
  JudgeOptions o;
  o.latency = false;  // measured: promotions must not depend on timing noise
  return Judge(s.budgets, Figures::FromJson(rec), o).ok();
}

json TrainedRecord(const SearchSpace& s, const Candidate& c, const TrialResult& r, const std::string& dir,
                   const json& estimate) {
  json j = {{"trial", r.trial}, {"rung", r.rung}, {"epochs", r.epochs}, {"config", c.varied}, {"quant", c.quant}};
  if (r.status == "failed") {
    j["status"] = "failed";
    j["reason"] = r.error;
  } else {
    const auto it = r.exports.find(c.quant);
    const Figures f = it == r.exports.end() ? Figures{} : it->second;
    const Verdict v = Judge(s.budgets, f, {});
    j["status"] = v.ok() ? "ok" : "over_budget";
    if (!v.ok()) j["reason"] = v.reason;
    j["accuracy"] = r.accuracy;
    if (r.val_loss >= 0) j["val_loss"] = r.val_loss;
    if (r.best_epoch > 0) j["best_epoch"] = r.best_epoch;
    if (!r.cv.is_null()) j["cv"] = r.cv;
    const json figs = f.ToJson();
    for (auto& [k, x] : figs.items()) j[k] = x;
    j["budgets"] = v.within;
    json ex = json::object();
    for (auto& [q, fig] : r.exports) ex[q] = fig.ToJson();
    j["exports"] = ex;
    j["estimate"] = estimate;  // what the budget check before training saw (zip_bytes from untrained weights)
  }
  j["seconds"] = std::round(r.seconds * 100) / 100;
  j["worker"] = r.worker;
  j["dir"] = dir;
  return j;
}

// best/NAME/: the trial folder's files and the line (trial.json), swapped in whole.
void CopyBest(const std::string& out, const std::string& name, const json& rec) {
  const fsys::path best = fsys::path(out) / "best", tmp = best / ("." + name + ".tmp"), dst = best / name;
  std::error_code ec;
  fsys::remove_all(tmp, ec);
  fsys::create_directories(tmp);
  for (const auto& e : fsys::directory_iterator(fsys::path(out) / rec["dir"].get<std::string>()))
    if (e.is_regular_file() && e.path().filename() != "result.json") fsys::copy_file(e.path(), tmp / e.path().filename());
  AtomicWriteFile(tmp / "trial.json", rec.dump(2) + "\n");
  fsys::remove_all(dst, ec);
  fsys::rename(tmp, dst);
}

void Refresh(const Plan& p, State& st) {
  AtomicWriteFile(fsys::path(st.out) / "pareto.svg", ParetoSvg(st.records, p.space));
  for (const Budget& b : p.space.budgets) {
    const json best = BestWithin(st.records, b.name);
    if (best.is_null() || st.best_dir[b.name] == best["dir"].get<std::string>()) continue;
    CopyBest(st.out, b.name, best);
    st.best_dir[b.name] = best["dir"].get<std::string>();
  }
}

struct Run {
  const Plan& plan;
  const Candidates& cands;
  State& st;
  Asha& asha;
  const std::function<void(const json&)>& on_line;
};

Job MakeJob(const Run& run, const Asha::Job& aj) {
  const Candidate& c = run.cands.all[size_t(aj.id)];
  const Config cfg = ResolveConfig(run.plan.space, c, run.plan.sets, aj.epochs);
  Job j;
  j.search_id = run.plan.search_id;
  j.trial = aj.id;
  j.rung = aj.rung;
  j.epochs = cfg.train.epochs;
  j.config_toml = cfg.ToToml();
  j.quant = c.quant;
  j.cv = run.plan.space.cv;
  j.bench_runs = run.plan.space.bench_runs;
  j.threads = run.plan.threads;
  j.data_digest = run.plan.digest;
  return j;
}

void Accept(Run& run, const TrialResult& r) {
  const auto& acc = run.cands.accepted;
  if (r.trial < 0 || size_t(r.trial) >= run.cands.all.size() || std::find(acc.begin(), acc.end(), r.trial) == acc.end() ||
      r.rung < 0 || r.rung >= run.asha.rungs()) {
    LogWarn("search: ignored a result for trial %d rung %d (not a job of this search)", r.trial, r.rung);
    return;
  }
  const std::string key = r.Key();
  const std::string dir = "trials/" + key;
  WriteTrialDir((fsys::path(run.st.out) / dir).string(), r);
  const json rec = TrainedRecord(run.plan.space, run.cands.all[size_t(r.trial)], r, dir, run.cands.estimates.at(r.trial));
  AppendJsonl(TrialsPath(run.st), rec);
  run.st.records.push_back(rec);
  run.st.trained.insert(key);
  ++run.st.ran;
  run.asha.Record(r.trial, r.rung, r.accuracy, Eligible(run.plan.space, rec));
  if (run.on_line) run.on_line(rec);
  Refresh(run.plan, run.st);
}

void Drive(Run& run, Executor& exec) {
  std::set<std::string> outstanding;
  for (const std::string& k : exec.Outstanding())
    if (!run.st.trained.count(k)) outstanding.insert(k);
  while (!run.asha.Done()) {
    for (const Asha::Job& aj : run.asha.Runnable()) {
      if (int(outstanding.size()) >= exec.Capacity()) break;
      const Job job = MakeJob(run, aj);
      if (!outstanding.insert(job.Key()).second) continue;
      exec.Submit(job);
    }
    const std::optional<TrialResult> r = exec.Next();
    if (!r) continue;
    outstanding.erase(r->Key());
    if (run.st.trained.count(r->Key())) continue;  // run twice (a lease ran out): counted once
    Accept(run, *r);
  }
}

json Summary(const Plan& p, const Candidates& c, const State& st) {
  json s = {{"search_id", p.search_id}, {"out", st.out}, {"space", p.space.source}, {"trials", c.accepted.size()},
            {"candidates", c.all.size()}, {"rungs", p.rungs}, {"resumed", st.resumed}, {"ran", st.ran}};
  json reasons = json::object();
  int rejected = 0, dup = 0;
  for (auto& [why, n] : c.reasons) {
    if (why == "duplicate") dup += n;
    else rejected += n, reasons[why] = n;
  }
  s["rejected"] = {{"count", rejected}, {"reasons", reasons}};
  s["duplicates"] = dup;
  int trained = 0, failed = 0, over = 0;
  for (const json& r : st.records) {
    if (!IsTrained(r)) continue;
    ++trained;
    failed += r["status"] == "failed";
    over += r["status"] == "over_budget";
  }
  s["trained"] = trained;
  s["failed"] = failed;
  s["over_budget"] = over;
  json best = json::object();
  for (const Budget& b : p.space.budgets) {
    json r = BestWithin(st.records, b.name);
    if (!r.is_null()) r["best_dir"] = (fsys::path(st.out) / "best" / b.name).string();
    best[b.name] = r;
  }
  s["best"] = best;
  std::vector<json> finals = FinalRecords(st.records);
  std::vector<std::pair<double, double>> pts;
  std::vector<int> ids;
  const std::string fig = SizeFigure(p.space);
  for (const json& r : finals)
    if (r["status"] != "failed" && r.contains(fig)) pts.push_back({r[fig].get<double>(), r["accuracy"].get<double>()}), ids.push_back(r["trial"]);
  json front = json::array();
  for (size_t i : ParetoFront(pts)) front.push_back(ids[i]);
  s["pareto"] = {{"x", fig}, {"trials", front}};
  s["files"] = {{"trials", TrialsPath(st)},
                {"pareto", (fsys::path(st.out) / "pareto.svg").string()},
                {"best", (fsys::path(st.out) / "best").string()}};
  return s;
}

}  // namespace

SearchResult RunSearch(const SearchOptions& o, const std::function<void(const json&)>& on_line) {
  o.Validate();
  Plan plan = MakePlan(o);
  const fsys::path out = o.out;
  const bool has_search = fsys::exists(out / "search.json") || fsys::exists(out / "trials.jsonl");
  if (!o.resume && has_search)
    throw UsageError("--out " + o.out + ": already holds a search; --resume continues it, or pass another --out");
  if (o.resume && !fsys::exists(out / "search.json"))
    throw UsageError("--resume: " + o.out + " holds no search to resume (no search.json)");
  if (o.resume) CheckResume(plan, o.out);
  const Candidates cands = SampleCandidates(plan);
  std::unique_ptr<Executor> exec = MakeExecutor(o, plan.search_id, plan.digest, int(plan.dataset.clips.size()),
                                                plan.data_dirs);  // the broker is checked here

  // Every check passed: from here on files are written.
  fsys::create_directories(out / "trials");
  if (!o.resume) AtomicWriteFile(out / "search.json", plan.identity.dump(2) + "\n");
  State st;
  st.out = o.out;
  LoadState(st);
  if (on_line)
    for (const json& r : st.records) on_line(r);
  for (const json& r : cands.refused) {
    if (st.refused.count(r["trial"].get<int>())) continue;
    AppendJsonl(TrialsPath(st), r);
    st.records.push_back(r);
    if (on_line) on_line(r);
  }
  Asha asha(plan.rungs, plan.space.eta);
  for (int id : cands.accepted) asha.AddTrial(id);
  for (const json& r : st.records)
    if (IsTrained(r)) asha.Record(r["trial"].get<int>(), r["rung"].get<int>(), r.value("accuracy", -1.0),
                                  Eligible(plan.space, r));
  exec->Start();
  Run run{plan, cands, st, asha, on_line};
  Drive(run, *exec);
  exec->Finish();
  Refresh(plan, st);
  return SearchResult{Summary(plan, cands, st)};
}

std::string SearchResult::ToText() const {
  const json& s = summary;
  std::string o;
  char buf[512];
  std::snprintf(buf, sizeof buf, "\n%d trials (%d trainings: %d resumed, %d run now; %d over budget, %d failed) over rungs %s\n",
                s["trials"].get<int>(), s["trained"].get<int>(), s["resumed"].get<int>(), s["ran"].get<int>(),
                s["over_budget"].get<int>(), s["failed"].get<int>(), s["rungs"].dump().c_str());
  o += buf;
  std::snprintf(buf, sizeof buf, "%d candidates sampled: %d rejected before training, %d duplicates\n",
                s["candidates"].get<int>(), s["rejected"]["count"].get<int>(), s["duplicates"].get<int>());
  o += buf;
  for (auto& [why, n] : s["rejected"]["reasons"].items())
    o += "  " + std::to_string(n.get<int>()) + " x " + why + "\n";
  for (auto& [name, r] : s["best"].items()) {
    if (r.is_null()) {
      o += "best within " + name + ": none\n";
      continue;
    }
    std::snprintf(buf, sizeof buf, "best within %s: trial %d (%d epochs) accuracy %.2f%%", name.c_str(),
                  r["trial"].get<int>(), r["epochs"].get<int>(), 100 * r["accuracy"].get<double>());
    o += buf;
    for (const char* k : {"tflite_bytes", "zip_bytes", "arena_bytes", "macs"})
      if (r.contains(k)) o += std::string(", ") + k + " " + Thousands(r[k].get<double>());
    o += "\n  " + r["config"].dump() + "\n  -> " + r["best_dir"].get<std::string>() + "\n";
  }
  o += "trials: " + s["files"]["trials"].get<std::string>() + "\npareto: " + s["files"]["pareto"].get<std::string>() + "\n";
  return o;
}

}  // namespace kws::search
