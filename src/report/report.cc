#include "report/report.h"

#include <string>

#include "util/text.h"
namespace kws {
namespace {

using json = nlohmann::json;

double Num(const json& j, const char* key, double def = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : def;
}
std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::string Pct(double fraction) { return StrFormat("%.2f%%", 100 * fraction); }
std::string Savings(const json& b, const char* key) {
  auto it = b.find(key);
  if (it == b.end() || !it->is_number()) return "—";
  return StrFormat("%.1f%%", it->get<double>());
}
std::string Us(double v) { return StrFormat("%.1f", v); }
std::string Count(const json& j, const char* key) { return GroupThousands((long long)Num(j, key)); }

}  // namespace

std::string GroupThousands(long long v) {
  std::string d = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i && (d.size() - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return (v < 0 ? "-" : "") + out;
}

// The report's sections, each a step of ReportMarkdown (the section headers say which is which).
namespace {

std::string DataSection(const json& data) {
  std::string md = "## Data\n\n";
  if (Str(data, "kind") == "synthetic" && data["synth"].is_object()) {
    const json& s = data["synth"];
    md += StrFormat("Synthetic speech: %d clips per word, text-to-speech voices", int(Num(s, "per_word")));
    if (s.contains("engines")) {
      md += " (";
      for (size_t i = 0; i < s["engines"].size(); ++i) md += (i ? ", " : "") + s["engines"][i].get<std::string>();
      md += ")";
    }
    md += StrFormat(", seed %d, cached in `%s`.\n", int(Num(s, "seed")), Str(s, "cache_dir").c_str());
  } else {
    md += "Clips from `" + Str(data, "source") + "`.\n";
  }
  md += "Labels: ";
  for (size_t i = 0; i < data["labels"].size(); ++i) {
    md += i ? ", `" : "`";
    md += data["labels"][i].get<std::string>();
    md += "`";
  }
  md += StrFormat(
      ".\n\nSplit by speaker: **%d training items** (%d speakers) in `%s`, **%d test items** (%d speakers) in "
      "`%s`.\n",
      int(Num(data, "train_items")), int(Num(data, "train_speakers")), Str(data, "train_dir").c_str(),
      int(Num(data, "test_items")), int(Num(data, "test_speakers")), Str(data, "test_dir").c_str());
  md += "Training carves its own speaker-disjoint validation set out of the training items (best-epoch "
        "selection). **Every accuracy below is on the test items: speakers that no model saw in training or "
        "model selection.**";
  if (Str(data, "kind") == "synthetic")
    md += " Note: these are synthetic test voices too; accuracy on real recordings is usually lower (run "
          "`kws quickstart --data ../shared/data/speech_commands` or `kws eval` on real clips).";
  md += "\n\n| label | training items | test items |\n|---|---:|---:|\n";
  for (auto& [label, c] : data["per_label"].items())
    md += StrFormat("| %s | %d | %d |\n", label.c_str(), int(Num(c, "train")), int(Num(c, "test")));
  return md;
}

std::string ResultsSection(const json& r, bool has_base) {
  const json& data = r.at("data");
  const json& models = r.at("models");
  std::string md = "\n## Results\n\n";
  md += "| model | file | accuracy | .tflite bytes | zipped bytes | parameters (non-zero) | sparsity | MACs | "
        "pre-processing µs | inference µs | total µs | size savings | zipped savings | latency savings |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& m : models) {
    const json& b = m.at("bench");
    const json& e = m.at("eval");
    md += StrFormat("| %s | `%s` | %s (%d/%d) | %s | %s | %s (%s) | %.1f%% | %s | %s | %s | %s | %s | %s | %s |\n",
                    Str(m, "name").c_str(), Str(m, "file").c_str(), Pct(Num(m, "accuracy")).c_str(),
                    int(Num(e, "correct", 0)), int(Num(e, "n")), Count(b, "size_bytes").c_str(),
                    Count(b, "zip_bytes").c_str(), Count(b, "params").c_str(), Count(b, "nonzero_params").c_str(),
                    100 * Num(m, "sparsity"), Count(b, "macs").c_str(), Us(Num(b, "preprocess_us")).c_str(),
                    Us(Num(b, "inference_us")).c_str(), Us(Num(b, "total_us")).c_str(),
                    Savings(b, "size_savings_pct").c_str(), Savings(b, "zip_savings_pct").c_str(),
                    Savings(b, "latency_savings_pct").c_str());
  }
  const json& bo = r.at("bench_options");
  md += StrFormat(
      "\nLatency: median of %d runs per model after %d warm-up runs, one thread, the models interleaved "
      "(p90 values are in report.json). Pre-processing = log-mel features of one 1 s clip; inference = "
      "the kws runtime on the .tflite; total = the median of the per-run sums (so not always the sum of the "
      "two medians). Parameters = weights and biases of conv/dense layers; sparsity = their share of zeros; "
      "zipped = a deflate .zip of the file.",
      int(Num(bo, "runs")), int(Num(bo, "warmup")));
  if (has_base)
    md += " Savings = 100·(1 − model/baseline) against the baseline (`" + Str(r["baseline"], "config") +
          "`, float .tflite).";
  md += "\n\nThe seed report (course project) gave: accuracy 99% (target > 99.4%), .tflite 11,883 bytes, zipped "
        "4,305 bytes, total latency 66.8% lower than its baseline.\n\n";
  md += "Check any number separately:\n\n```\n";
  if (!models.empty()) {
    const std::string out = Str(r, "out_dir");
    md += "kws eval  --model " + out + "/" + Str(models[0], "file") + " --data " + Str(data, "test_dir") + " --json\n";
    md += "kws bench --model " + out + "/" + Str(models[0], "file");
    if (has_base) md += " --baseline " + out + "/" + Str(models.back(), "file");
    md += " --json\n";
  }
  md += "```\n";
  return md;
}

std::string TrainingSection(const json& r, bool has_base) {
  const json& pics = r.at("pictures");
  std::string md = "\n## Training\n\n";
  auto train_section = [&](const char* name, const json& t) {
    md += StrFormat(
        "**%s** (`%s`): %d epoch(s), best epoch %d (validation accuracy %s), %.1f s, %s parameters (%s non-zero)", name,
        Str(t, "config").c_str(), int(Num(t, "epochs")), int(Num(t, "best_epoch")),
        Pct(Num(t, "best_val_accuracy")).c_str(), Num(t, "train_seconds"),
        GroupThousands((long long)Num(t, "params")).c_str(), GroupThousands((long long)Num(t, "nonzero")).c_str());
    if (t.value("pruning", false))
      md += StrFormat(", magnitude pruning to %.0f%% sparsity", 100 * Num(t, "final_sparsity"));
    md += ". Run folder: `" + Str(t, "run_dir") + "`.";
    if (!Str(t, "note").empty()) md += " **Note: " + Str(t, "note") + ".**";
    md += "\n\n";
    const std::string n = name;
    if (pics.contains(n + "_loss"))
      md += "![" + n + " loss](" + pics[n + "_loss"].get<std::string>() + ") ![" + n + " accuracy](" +
            pics[n + "_accuracy"].get<std::string>() + ")\n\n";
  };
  train_section("seed", r.at("seed"));
  if (has_base) train_section("baseline", r["baseline"]);
  return md;
}

std::string ConfusionSection(const json& r) {
  const json& pics = r.at("pictures");
  std::string md =
      "## Confusion matrices (test set)\n\nRows: true label, columns: predicted label; colour = share of the row.\n\n";
  for (const auto& m : r.at("models")) {
    const std::string key = "confusion_" + Str(m, "name");
    if (pics.contains(key)) md += "![" + key + "](" + pics[key].get<std::string>() + ") ";
  }
  return md;
}

// The first model's misclassified test clips (all of them are in report.json).
std::string ErrorsSection(const json& models) {
  std::string md;
  if (!models.empty() && models[0].contains("eval") && models[0]["eval"].contains("errors") &&
      !models[0]["eval"]["errors"].empty()) {
    const json& errs = models[0]["eval"]["errors"];
    constexpr size_t kShown = 20;
    md += StrFormat("\n\n## Misclassified test clips (%s)\n\n", Str(models[0], "name").c_str());
    md += StrFormat("%zu of %d test items; %s. `kws eval --errors` on the same files lists them too.\n\n", errs.size(),
                    int(Num(models[0]["eval"], "n")),
                    errs.size() > kShown ? "the first 20 (report.json has all)" : "all");
    md += "| true label | predicted | p(predicted) | p(true) | clip |\n|---|---|---:|---:|---|\n";
    for (size_t i = 0; i < errs.size() && i < kShown; ++i)
      md += StrFormat("| %s | %s | %.3f | %.3f | `%s` |\n", Str(errs[i], "truth").c_str(),
                      Str(errs[i], "predicted").c_str(), Num(errs[i], "score"), Num(errs[i], "truth_score"),
                      Str(errs[i], "item").c_str());
  }
  return md;
}

std::string PicturesSection(const json& pics) {
  std::string md = "\n\n## Size and latency\n\n";
  if (pics.contains("size")) md += "![size](" + pics["size"].get<std::string>() + ")\n\n";
  if (pics.contains("latency")) md += "![latency](" + pics["latency"].get<std::string>() + ")\n\n";
  if (pics.contains("spectrograms") && !pics["spectrograms"].empty()) {
    md += "## Log-mel spectrograms\n\nThe model input of one training clip per label (time left to right, mel "
          "bins bottom to top, magma colours from the clip's minimum to its maximum).\n\n";
    std::string head = "|", sep = "|", row = "|";
    for (auto& [label, s] : pics["spectrograms"].items()) {
      head += " " + label + " |";
      sep += "---|";
      row += " ![" + label + "](" + Str(s, "file") + ")<br>`" + Str(s, "clip") + "` |";
    }
    md += head + "\n" + sep + "\n" + row + "\n\n";
  }
  return md;
}

std::string FilesSection(const json& r, bool has_base) {
  std::string md = "## Files\n\n"
        "- `seed_float.tflite`, `seed_dynamic.tflite` (dynamic-range: int8 weights, float activations — the TFLite "
        "converter's default), `seed_int8.tflite` (full integer, calibrated on training clips)\n"
        "- `seed_int8.c`: the int8 model as a C array (with its tensor-arena size) for microcontrollers\n";
  if (has_base) md += "- `baseline_float.tflite`: the baseline, for the savings columns\n";
  md += "- `runs/`: checkpoints, metrics.json, resolved config.toml of each training run\n"
        "- `data/train`, `data/test`: the speaker-disjoint split (links to the clips)\n"
        "- `plots/`: the pictures above; `report.json`: every number of this report\n\n";
  md += "## Wall time\n\n| stage | seconds |\n|---|---:|\n";
  for (auto& [stage, s] : r.at("timings_s").items()) md += StrFormat("| %s | %.1f |\n", stage.c_str(), s.get<double>());
  md += StrFormat("\nThreads: %d. kws %s.\n", int(Num(r, "threads")), Str(r, "kws_version").c_str());
  return md;
}

}  // namespace

std::string ReportMarkdown(const json& r) {
  const bool has_base = r.contains("baseline") && r["baseline"].is_object();
  return "# kws quickstart report\n\n" + DataSection(r.at("data")) + ResultsSection(r, has_base) +
         TrainingSection(r, has_base) + ConfusionSection(r) + ErrorsSection(r.at("models")) +
         PicturesSection(r.at("pictures")) + FilesSection(r, has_base);
}

std::string ReportSummary(const json& r) {
  std::string s = StrFormat("%-9s %9s %11s %9s %14s %10s %9s %9s\n", "model", "accuracy", ".tflite B", "zipped B",
                            "params (nz)", "total µs", "size sav", "lat sav");
  for (const auto& m : r.at("models")) {
    const json& b = m.at("bench");
    s += StrFormat("%-9s %9s %11s %9s %14s %9s %9s %9s\n", Str(m, "name").c_str(), Pct(Num(m, "accuracy")).c_str(),
                   Count(b, "size_bytes").c_str(), Count(b, "zip_bytes").c_str(),
                   (Count(b, "params") + " (" + Count(b, "nonzero_params") + ")").c_str(),
                   Us(Num(b, "total_us")).c_str(), Savings(b, "size_savings_pct").c_str(),
                   Savings(b, "latency_savings_pct").c_str());
  }
  s += StrFormat("accuracy on %d held-out test items (%s)\n", int(Num(r.at("data"), "test_items")),
                 Str(r.at("data"), "test_dir").c_str());
  return s;
}

}  // namespace kws
