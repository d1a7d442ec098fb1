#include "search/results.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "report/plots.h"
#include "search/budget.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/text.h"

namespace kws::search {

using json = nlohmann::json;

namespace {

double Num(const json& r, const std::string& k) { return r.contains(k) && r[k].is_number() ? r[k].get<double>() : -1; }

// "model.layers.0.filters=16" reads as "layers.0.filters=16".
std::string Settings(const json& config) {
  std::string s;
  for (auto& [k, v] : config.items()) {
    const size_t dot = k.find('.');
    const std::string key = dot == std::string::npos || k == "family" ? k : k.substr(dot + 1);
    s += (s.empty() ? "" : " ") + key + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return s;
}

}  // namespace

void AppendJsonl(const std::string& path, const json& line) {
  const std::string text = line.dump() + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw BadInput(path + ": cannot open for appending");
  // One write() of the whole line: a line is either there or (after a kill mid-write) torn at the end.
  const ssize_t n = ::write(fd, text.data(), text.size());
  const bool ok = n == ssize_t(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw InternalError(path + ": cannot append a line (disk full?)");
}

std::vector<json> ReadJsonl(const std::string& path, bool* torn_tail) {
  std::vector<json> out;
  if (torn_tail) *torn_tail = false;
  std::ifstream in(path);
  if (!in) return out;
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  int line_no = 0;
  while (pos < all.size()) {
    const size_t nl = all.find('\n', pos);
    const bool last = nl == std::string::npos;
    const std::string line = all.substr(pos, last ? std::string::npos : nl - pos);
    ++line_no;
    pos = last ? all.size() : nl + 1;
    if (line.empty()) continue;
    if (last) {  // every line is written whole with its newline: this one was cut short
      if (torn_tail) *torn_tail = true;
      break;
    }
    try {
      out.push_back(json::parse(line));
    } catch (const json::exception&) {
      throw BadInput(path + ":" + std::to_string(line_no) + ": not a JSON line");
    }
  }
  return out;
}

bool IsTrained(const json& r) {
  const std::string s = r.value("status", "");
  return s == "ok" || s == "over_budget" || s == "failed";
}

std::vector<json> FinalRecords(const std::vector<json>& records) {
  std::map<int, json> best;
  for (const json& r : records) {
    if (!IsTrained(r)) continue;
    const int t = r["trial"].get<int>();
    auto it = best.find(t);
    if (it == best.end() || r["epochs"].get<int>() > it->second["epochs"].get<int>()) best[t] = r;
  }
  std::vector<json> out;
  for (auto& [_, r] : best) out.push_back(r);
  return out;
}

std::vector<size_t> ParetoFront(const std::vector<std::pair<double, double>>& p) {
  std::vector<size_t> idx(p.size());
  for (size_t i = 0; i < p.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    if (p[a].first != p[b].first) return p[a].first < p[b].first;
    return p[a].second > p[b].second;
  });
  std::vector<size_t> front;
  double best_acc = -1e300;
  for (size_t i : idx)
    if (p[i].second > best_acc) {
      front.push_back(i);
      best_acc = p[i].second;
    }
  return front;
}

json BestWithin(const std::vector<json>& records, const std::string& budget) {
  json best;
  for (const json& r : records) {
    if (r.value("status", "") != "ok") continue;
    const json& b = r.value("budgets", json::array());
    if (std::find(b.begin(), b.end(), budget) == b.end()) continue;
    if (best.is_null()) {
      best = r;
      continue;
    }
    const int e = r["epochs"].get<int>(), be = best["epochs"].get<int>();
    const double a = r["accuracy"].get<double>(), ba = best["accuracy"].get<double>();
    if (e > be || (e == be && (a > ba || (a == ba && r["trial"].get<int>() < best["trial"].get<int>())))) best = r;
  }
  return best;
}

std::string SizeFigure(const SearchSpace& s) {
  for (const Budget& b : s.budgets)
    if (b.limits.count("zip_bytes")) return "zip_bytes";
  return "tflite_bytes";
}

namespace {

struct Panel {
  double left, top, w, h;
};

std::string Axis(const Panel& p, double lo, double hi, bool x, const std::string& title) {
  std::string o;
  for (double t : NiceTicks(lo, hi, 5)) {
    if (t < lo - 1e-9 * std::fabs(hi - lo) || t > hi + 1e-9 * std::fabs(hi - lo)) continue;
    const double f = (t - lo) / (hi - lo);
    const std::string label = std::fabs(t) >= 1000 ? Thousands(t) : StrFormat("%g", t);
    if (x) {
      const double px = p.left + f * p.w;
      o += StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", px, p.top, px,
                     p.top + p.h);
      o += StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", px, p.top + p.h + 16,
                     label.c_str());
    } else {
      const double py = p.top + p.h - f * p.h;
      o += StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", p.left, py,
                     p.left + p.w, py);
      o += StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", p.left - 6, py + 4, label.c_str());
    }
  }
  if (x)
    o += StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", p.left + p.w / 2, p.top + p.h + 36) +
         XmlEscape(title) + "</text>\n";
  else
    o += StrFormat("<text transform=\"translate(%.1f,%.1f) rotate(-90)\" text-anchor=\"middle\">", p.left - 48,
                   p.top + p.h / 2) +
         XmlEscape(title) + "</text>\n";
  return o;
}

// One scatter panel: every trial (blue within a budget, grey over), the front as an orange step line
// with trial labels, each budget's limit on this figure dashed.
std::string ScatterPanel(const Panel& p, const std::vector<json>& finals, const std::string& fig,
                         const std::string& title, const SearchSpace& s) {
  std::vector<std::pair<double, double>> pts;
  std::vector<const json*> recs;
  for (const json& r : finals)
    if (r.value("status", "") != "failed" && Num(r, fig) >= 0 && Num(r, "accuracy") >= 0) {
      pts.push_back({Num(r, fig), 100 * Num(r, "accuracy")});
      recs.push_back(&r);
    }
  std::string o =
      StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\">", p.left + p.w / 2, p.top - 12) +
      XmlEscape(title) + "</text>\n";
  o += StrFormat("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n", p.left,
                 p.top, p.w, p.h);
  if (pts.empty())
    return o + StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no trials</text>\n", p.left + p.w / 2,
                         p.top + p.h / 2);
  double x0 = pts[0].first, x1 = x0, y0 = pts[0].second, y1 = y0;
  for (auto& [x, y] : pts) {
    x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  }
  std::vector<double> limits;
  for (const Budget& b : s.budgets)
    if (b.limits.count(fig)) limits.push_back(b.limits.at(fig)), x0 = std::min(x0, limits.back()), x1 = std::max(x1, limits.back());
  const double xpad = std::max((x1 - x0) * 0.08, std::fabs(x1) * 0.02 + 1e-9), ypad = std::max((y1 - y0) * 0.08, 0.5);
  x0 -= xpad, x1 += xpad, y0 -= ypad, y1 = std::min(100.0 + ypad, y1 + ypad);
  auto X = [&](double x) { return p.left + (x - x0) / (x1 - x0) * p.w; };
  auto Y = [&](double y) { return p.top + p.h - (y - y0) / (y1 - y0) * p.h; };
  o += Axis(p, x0, x1, true, fig + (s.Varies("export.quant") ? " (each trial's export)" : " (" + s.quant + ")"));
  o += Axis(p, y0, y1, false, "validation accuracy (%)");
  for (double l : limits)
    o += StrFormat(
             "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" stroke-dasharray=\"6,4\"/>\n",
             X(l), p.top, X(l), p.top + p.h) +
         StrFormat("<text x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\" font-size=\"10\">budget</text>\n", X(l) + 3,
                   p.top + 12);
  for (size_t i = 0; i < pts.size(); ++i) {
    const bool ok = recs[i]->value("status", "") == "ok";
    o += StrFormat("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" fill-opacity=\"0.7\"/>\n", X(pts[i].first),
                   Y(pts[i].second), ok ? "#1f77b4" : "#999999");
  }
  const std::vector<size_t> front = ParetoFront(pts);
  std::string path;
  for (size_t k = 0; k < front.size(); ++k) {
    const auto& [x, y] = pts[front[k]];
    path += k == 0 ? StrFormat("M%.1f,%.1f", X(x), Y(y)) : StrFormat(" H%.1f V%.1f", X(x), Y(y));
  }
  o += "<path d=\"" + path + "\" fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"1.5\"/>\n";
  for (size_t i : front) {
    o += StrFormat("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\"/>\n",
                   X(pts[i].first), Y(pts[i].second));
    o += StrFormat("<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">t%d</text>\n", X(pts[i].first) + 6,
                   Y(pts[i].second) - 6, (*recs[i])["trial"].get<int>());
  }
  return o;
}

}  // namespace

std::string ParetoSvg(const std::vector<json>& records, const SearchSpace& s) {
  const std::vector<json> finals = FinalRecords(records);
  const int W = 1040, H = 420;
  std::string o = StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
      "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"11\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
      W, H, W, H);
  const std::string size = SizeFigure(s);
  o += ScatterPanel({80, 40, 400, 300}, finals, size, "accuracy vs " + size, s);
  o += ScatterPanel({600, 40, 400, 300}, finals, "latency_us", "accuracy vs latency (µs, this machine)", s);
  o += StrFormat("<text x=\"80\" y=\"%d\" font-size=\"11\">", H - 12) +
       XmlEscape(
           "blue: within a budget; grey: over; orange: the Pareto front (trial numbers); each trial at its "
           "longest training") +
       "</text>\n</svg>\n";
  return o;
}

std::string TableHeader(const SearchSpace& s) {
  return StrFormat("%6s %6s %9s %10s %10s %11s %8s  %-12s %s\n", "trial", "epochs", "accuracy",
                   SizeFigure(s) == "zip_bytes" ? "zip B" : "tflite B", "arena B", "MACs", "lat µs", "status",
                   "settings");
}

std::string TableRow(const json& r, const SearchSpace& s) {
  const std::string status = r.value("status", "");
  const std::string settings = Settings(r.value("config", json::object()));
  const int trial = r.value("trial", -1);
  if (!IsTrained(r))
    return StrFormat("%6d %6s %9s %10s %10s %11s %8s  %-12s ", trial, "-", "-", "-", "-", "-", "-", status.c_str()) +
           settings + "  (" + r.value("reason", "") + ")\n";
  auto fig = [&](const char* k) { return Num(r, k) >= 0 ? Thousands(Num(r, k)) : std::string("-"); };
  const std::string acc = Num(r, "accuracy") >= 0 ? StrFormat("%.2f%%", 100 * Num(r, "accuracy")) : "-";
  const std::string lat = Num(r, "latency_us") >= 0 ? StrFormat("%.1f", Num(r, "latency_us")) : "-";
  std::string tail = settings;
  if (status != "ok") tail += "  (" + r.value("reason", r.value("error", "")) + ")";
  return StrFormat("%6d %6d %9s %10s %10s %11s %8s  %-12s ", trial, r.value("epochs", 0), acc.c_str(),
                   fig(SizeFigure(s).c_str()).c_str(), fig("arena_bytes").c_str(), fig("macs").c_str(), lat.c_str(),
                   status.c_str()) +
         tail + "\n";
}

}  // namespace kws::search
