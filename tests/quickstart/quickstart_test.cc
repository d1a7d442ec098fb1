// kws quickstart: embedded configs in sync with configs/*.toml, the SVG writer, and an end-to-end run on a
// tiny synthetic set whose report numbers must equal what `kws eval` and `kws bench` compute separately.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "quickstart/quickstart.h"
#include "report/plots.h"
#include "report/report.h"
#include "util/fs.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct CmdResult {
  int code = -1;
  std::string out;
};

CmdResult RunKws(const std::string& args, bool with_stderr = false) {
  const std::string cmd = std::string(KWS_BINARY) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* p = popen(cmd.c_str(), "r");
  CmdResult r;
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Well-formed enough: starts with <svg, ends with </svg>, and every element is closed in order.
::testing::AssertionResult WellFormedSvg(const std::string& s) {
  if (s.rfind("<svg", 0) != 0) return ::testing::AssertionFailure() << "does not start with <svg";
  if (s.size() < 7 || s.substr(s.find_last_not_of("\n") - 5, 6) != "</svg>")
    return ::testing::AssertionFailure() << "does not end with </svg>";
  std::vector<std::string> stack;
  size_t i = 0;
  while ((i = s.find('<', i)) != std::string::npos) {
    const size_t e = s.find('>', i);
    if (e == std::string::npos) return ::testing::AssertionFailure() << "unterminated tag at " << i;
    const std::string tag = s.substr(i + 1, e - i - 1);
    if (tag.empty()) return ::testing::AssertionFailure() << "empty tag";
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1))
        return ::testing::AssertionFailure() << "mismatched </" << tag.substr(1) << ">";
      stack.pop_back();
    } else if (tag.back() != '/' && tag[0] != '?' && tag[0] != '!') {
      stack.push_back(tag.substr(0, tag.find_first_of(" \n\t")));
    }
    i = e + 1;
  }
  if (!stack.empty()) return ::testing::AssertionFailure() << "unclosed <" << stack.back() << ">";
  return ::testing::AssertionSuccess();
}

bool IsPng(const std::string& path) {
  const std::string b = kws::ReadFile(path);
  return b.size() > 8 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

}  // namespace

TEST(Plots, NiceTicksCoverTheRangeWithRoundSteps) {
  auto t = kws::NiceTicks(0.13, 0.87, 5);
  ASSERT_GE(t.size(), 3u);
  EXPECT_LE(t.front(), 0.13);
  EXPECT_GE(t.back(), 0.87);
  EXPECT_NEAR(t[1] - t[0], 0.2, 1e-12);
  t = kws::NiceTicks(0, 100, 5);
  EXPECT_EQ(t, (std::vector<double>{0, 20, 40, 60, 80, 100}));
  t = kws::NiceTicks(3, 3, 5);  // degenerate range still gives an axis
  EXPECT_GE(t.size(), 2u);
}

TEST(Plots, ChartsAreWellFormedAndEscapeText) {
  kws::LineChart c;
  c.title = "loss <&> \"x\"";
  c.series = {{"train", {1, 2, 3}, {0.9, 0.5, 0.2}}, {"val", {1, 2, 3}, {1.2, 0.7, 0.4}}};
  const std::string line = kws::LineChartSvg(c);
  EXPECT_TRUE(WellFormedSvg(line));
  EXPECT_NE(line.find("loss &lt;&amp;&gt; &quot;x&quot;"), std::string::npos);
  EXPECT_NE(line.find("<polyline"), std::string::npos);
  EXPECT_EQ(line.find("1.5"), std::string::npos) << "integer epochs get integer ticks";

  kws::LineChart longc;  // 200 points: no fixed-size buffers truncating the polyline
  longc.series.push_back({"s", {}, {}});
  for (int i = 1; i <= 200; ++i) longc.series[0].x.push_back(i), longc.series[0].y.push_back(1.0 / i);
  const std::string longsvg = kws::LineChartSvg(longc);
  EXPECT_TRUE(WellFormedSvg(longsvg));
  const size_t pl = longsvg.find("<polyline points=\"");
  ASSERT_NE(pl, std::string::npos);
  const std::string pts = longsvg.substr(pl, longsvg.find('"', pl + 18) - pl);
  EXPECT_EQ(std::count(pts.begin(), pts.end(), ','), 200);

  kws::BarChart b;
  b.categories = {"a", "b"};
  b.series = {{"size", {}, {12000, 0}}, {"zip", {}, {4300, 1.2e6}}};
  b.log_scale = true;
  const std::string bar = kws::BarChartSvg(b);
  EXPECT_TRUE(WellFormedSvg(bar));
  EXPECT_NE(bar.find(">12000<"), std::string::npos);
  EXPECT_NE(bar.find(">1200000<"), std::string::npos);
  EXPECT_NE(bar.find(">1M<"), std::string::npos);  // log axis labels decades
  b.value_format = ",";
  EXPECT_NE(kws::BarChartSvg(b).find(">1,200,000<"), std::string::npos);

  kws::HeatMap h;
  h.row_labels = h.col_labels = {"yes", "no"};
  h.values = {{41, 3}, {0, 37}};
  const std::string heat = kws::HeatMapSvg(h);
  EXPECT_TRUE(WellFormedSvg(heat));
  for (const char* v : {">41<", ">3<", ">0<", ">37<"}) EXPECT_NE(heat.find(v), std::string::npos) << v;
  EXPECT_EQ(kws::GroupThousands(1189040), "1,189,040");
  EXPECT_EQ(kws::GroupThousands(999), "999");
}

TEST(Quickstart, BadInputsExitTwo) {
  const fs::path tmp = fs::temp_directory_path() / ("kws_qs_bad_" + std::to_string(getpid()));
  fs::create_directories(tmp);
  EXPECT_EQ(RunKws("quickstart --data " + (tmp / "missing").string() + " --out " + (tmp / "o").string()).code, 2);
  kws::AtomicWriteFile(tmp / "file", "x");
  EXPECT_EQ(RunKws("quickstart --data " + tmp.string() + " --out " + (tmp / "file" / "sub").string()).code, 2);
  EXPECT_EQ(RunKws("quickstart --out " + (tmp / "o").string() + " --per-word 1").code, 1);
  EXPECT_FALSE(fs::exists(tmp / "o" / "report.md"));
  // A truncated clip in the data: exit 2 naming it, and the output folder this run made is gone again.
  fs::create_directories(tmp / "d" / "yes");
  fs::create_directories(tmp / "d" / "no");
  const std::vector<float> tone(16000, 0.25f);
  kws::WriteWav16((tmp / "d" / "no" / "a_nohash_0.wav").string(), tone, 16000);
  kws::AtomicWriteFile(tmp / "d" / "yes" / "a_nohash_0.wav",
                       kws::ReadFile((tmp / "d" / "no" / "a_nohash_0.wav").string()).substr(0, 500));
  const CmdResult t = RunKws("quickstart --data " + (tmp / "d").string() + " --out " + (tmp / "q").string(), true);
  EXPECT_EQ(t.code, 2) << t.out;
  EXPECT_NE(t.out.find("yes/a_nohash_0.wav: not audio: truncated"), std::string::npos) << t.out;
  EXPECT_FALSE(fs::exists(tmp / "q"));
  fs::remove_all(tmp);
}

// End to end on a tiny synthetic set; the numbers must be those of `kws eval` / `kws bench`.
TEST(Quickstart, TinyRunWritesEverythingAndAgreesWithEvalAndBench) {
  if (std::system("command -v espeak-ng >/dev/null 2>&1") != 0) GTEST_SKIP() << "espeak-ng not installed";
  const fs::path tmp = fs::temp_directory_path() / ("kws_qs_" + std::to_string(getpid()));
  fs::remove_all(tmp);
  const fs::path out = tmp / "out";
  const std::string cmd = "quickstart --out " + out.string() +
                          " --per-word 12 --set train.epochs=2 --baseline-epochs 1 --bench-runs 3 --bench-warmup 1 "
                          "--json";
  setenv("KWS_CACHE_DIR", (tmp / "cache").c_str(), 1);
  CmdResult r = RunKws(cmd);
  ASSERT_EQ(r.code, 0) << r.out;
  const json printed = json::parse(r.out);
  const json report = json::parse(kws::ReadFile(out / "report.json"));
  EXPECT_EQ(printed, report) << "--json prints report.json";

  for (const char* f : {"report.md", "seed_float.tflite", "seed_dynamic.tflite", "seed_int8.tflite", "seed_int8.c",
                        "baseline_float.tflite", "runs/seed/model.ckpt", "runs/baseline/model.ckpt"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  EXPECT_NE(kws::ReadFile(out / "seed_int8.c").find("kws_model"), std::string::npos);
  int svgs = 0, pngs = 0;
  for (auto& [key, v] : report["pictures"].items()) {
    if (key == "spectrograms") {
      for (auto& [label, s] : v.items()) {
        EXPECT_TRUE(IsPng((out / s["file"].get<std::string>()).string())) << label;
        ++pngs;
      }
      continue;
    }
    const std::string svg = kws::ReadFile(out / v.get<std::string>());
    EXPECT_TRUE(WellFormedSvg(svg)) << v;
    ++svgs;
  }
  EXPECT_EQ(pngs, 2);  // yes, no
  EXPECT_EQ(svgs, 4 + 4 + 2);  // curves (seed, baseline: loss+accuracy), 4 confusions, size, latency

  const std::string md = kws::ReadFile(out / "report.md");
  const json& models = report["models"];
  ASSERT_EQ(models.size(), 4u);
  const std::string test_dir = report["data"]["test_dir"];
  const std::string base_file = (out / "baseline_float.tflite").string();
  const json& seed_hist = report["seed"]["history"];
  EXPECT_EQ(seed_hist.size(), 2u);
  for (const auto& m : models) {
    const std::string file = (out / m["file"].get<std::string>()).string();
    // Accuracy: exactly what `kws eval` computes on the test folder.
    CmdResult e = RunKws("eval --model " + file + " --data " + test_dir + " --json");
    ASSERT_EQ(e.code, 0) << file;
    const json ej = json::parse(e.out);
    EXPECT_EQ(ej["accuracy"].get<double>(), m["accuracy"].get<double>()) << file;
    EXPECT_EQ(ej["n"], report["data"]["test_items"]);
    EXPECT_EQ(ej["confusion"], m["eval"]["confusion"]) << file;
    EXPECT_EQ(ej["errors"], m["eval"]["errors"]) << file;  // the same misclassified clips
    // Sizes: exactly what `kws bench` computes; latency only present.
    const bool is_base = m["name"] == "baseline";
    CmdResult b = RunKws("bench --model " + file + (is_base ? "" : " --baseline " + base_file) +
                      " --runs 2 --warmup 0 --json");
    ASSERT_EQ(b.code, 0) << file;
    const json bj = json::parse(b.out);
    for (const char* k : {"size_bytes", "zip_bytes", "params", "nonzero_params", "macs", "arena_bytes", "kind"})
      EXPECT_EQ(bj[k], m["bench"][k]) << file << " " << k;
    if (!is_base) {
      EXPECT_EQ(bj["size_savings_pct"], m["bench"]["size_savings_pct"]) << file;
      EXPECT_EQ(bj["zip_savings_pct"], m["bench"]["zip_savings_pct"]) << file;
      EXPECT_TRUE(m["bench"]["latency_savings_pct"].is_number());
    }
    for (const char* k : {"preprocess_us", "inference_us", "total_us"}) {
      EXPECT_TRUE(m["bench"][k].is_number()) << k;
      EXPECT_GT(m["bench"][k].get<double>(), 0) << k;
    }
    EXPECT_EQ(fs::file_size(file), bj["size_bytes"].get<uint64_t>());
    // The Markdown row carries the same numbers.
    char acc[64];
    std::snprintf(acc, sizeof acc, "%.2f%% (%d/%d)", 100 * ej["accuracy"].get<double>(),
                  int(std::lround(ej["accuracy"].get<double>() * ej["n"].get<double>())), ej["n"].get<int>());
    const std::string row = "| " + m["name"].get<std::string>() + " | `" + m["file"].get<std::string>() + "` | " +
                            acc + " | " + kws::GroupThousands(bj["size_bytes"].get<long long>()) + " | " +
                            kws::GroupThousands(bj["zip_bytes"].get<long long>()) + " | ";
    EXPECT_NE(md.find(row), std::string::npos) << "report.md lacks the row " << row;
  }
  // Float scores do not depend on thread settings. The Eigen GEMM fallback (taken on CPUs without
  // AVX-512, and everywhere with KWS_FORCE_PORTABLE=1) used to thread itself with OpenMP; its row
  // split changed the last bits, so `kws eval` disagreed with this report on such CPUs (seen on
  // an AVX2-only machine: 0.61795557 vs 0.61795551 for one baseline clip).
  {
    std::string clips;
    for (const auto& e : fs::recursive_directory_iterator(test_dir))
      if (e.path().extension() == ".wav") clips += " " + e.path().string();
    ASSERT_FALSE(clips.empty());
    setenv("KWS_FORCE_PORTABLE", "1", 1);
    std::string scores[2];
    for (int t = 1; t <= 2; ++t) {
      setenv("OMP_NUM_THREADS", std::to_string(t).c_str(), 1);
      const CmdResult r = RunKws("-j " + std::to_string(t) + " infer --json --model " + base_file + clips);
      ASSERT_EQ(r.code, 0);
      scores[t - 1] = r.out;
    }
    unsetenv("KWS_FORCE_PORTABLE");
    unsetenv("OMP_NUM_THREADS");
    EXPECT_NE(scores[0].find("\"scores\""), std::string::npos) << scores[0];
    EXPECT_EQ(scores[0], scores[1]) << "baseline float scores differ between 1 and 2 threads";
  }
  EXPECT_NE(md.find("![seed loss](plots/seed_loss.svg)"), std::string::npos);
  // The first model's misclassified clips are listed (or the section is absent when there are none).
  const json& errs = models[0]["eval"]["errors"];
  EXPECT_EQ(long(errs.size()), models[0]["eval"]["n"].get<long>() - models[0]["eval"]["correct"].get<long>());
  if (errs.empty()) {
    EXPECT_EQ(md.find("## Misclassified test clips"), std::string::npos);
  } else {
    EXPECT_NE(md.find("## Misclassified test clips (" + models[0]["name"].get<std::string>() + ")"), std::string::npos);
    EXPECT_NE(md.find("`" + errs[0]["item"].get<std::string>() + "`"), std::string::npos) << md;
  }
  EXPECT_NE(md.find("trained for 1 of its 80 epochs"), std::string::npos) << "the shortened baseline is disclosed";

  // A second run into the same folder works (cached synthesis, fresh split folders).
  r = RunKws(cmd + " --no-baseline");
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(json::parse(r.out)["models"].size(), 3u);
  unsetenv("KWS_CACHE_DIR");
  fs::remove_all(tmp);
}
