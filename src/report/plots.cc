#include "report/plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "report/png.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/text.h"

namespace kws {
namespace {

// matplotlib's tab10: distinct, print-friendly.
const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
const char* Color(size_t i) { return kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))]; }

// A tick label with as many decimals as the tick step needs.
std::string TickLabel(double v, double step) {
  int decimals = step > 0 ? std::max(0, int(-std::floor(std::log10(step) + 1e-9))) : 0;
  if (std::fabs(v) < step * 1e-6) v = 0;  // no "-0"
  return StrFormat("%.*f", std::min(decimals, 6), v);
}

// A bar's value: printf with value_format, or "12,345" for value_format ",".
std::string ValueLabel(const std::string& format, double v) {
  if (format != ",") return StrFormat(format.c_str(), v);
  const long long n = std::llround(v);
  std::string d = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i && (d.size() - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return (n < 0 ? "-" : "") + out;
}

// 1, 10, 100, 1k, 10k, 100k, 1M ...
std::string PowerLabel(int e) {
  static const char* units[] = {"", "k", "M", "G"};
  if (e < 0) return StrFormat("%g", std::pow(10.0, e));
  const int u = std::min(3, e / 3);
  return StrFormat("%.0f%s", std::pow(10.0, e - 3 * u), units[u]);
}

std::string Header(int w, int h) {
  return StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
      "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
      w, h, w, h);
}

std::string Text(double x, double y, const std::string& s, const char* anchor = "middle", int size = 12,
                 const char* extra = "") {
  return StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\"%s>", x, y, anchor, size, extra) +
         XmlEscape(s) + "</text>\n";
}

struct Frame {  // plot area inside the margins
  double left, top, right, bottom;
  double w() const { return right - left; }
  double h() const { return bottom - top; }
};

// Title, axis lines and axis titles shared by the line and bar charts.
std::string Axes(const Frame& f, int width, int height, const std::string& title, const std::string& x_label,
                 const std::string& y_label) {
  std::string s;
  if (!title.empty()) s += Text(width / 2.0, 22, title, "middle", 15, " font-weight=\"bold\"");
  s += StrFormat("<path d=\"M%.1f %.1f V%.1f H%.1f\" fill=\"none\" stroke=\"#333\"/>\n", f.left, f.top, f.bottom,
                 f.right);
  if (!x_label.empty()) s += Text((f.left + f.right) / 2, height - 8, x_label);
  if (!y_label.empty())
    s += Text(16, (f.top + f.bottom) / 2, y_label, "middle", 12,
              StrFormat(" transform=\"rotate(-90 16 %.1f)\"", (f.top + f.bottom) / 2).c_str());
  return s;
}

// One-line legend between the title and the plot area; `bar` draws squares instead of lines.
std::string Legend(const Frame& f, const std::vector<Series>& series, bool bar) {
  if (series.size() < 2 && (series.empty() || series[0].name.empty())) return "";
  std::string s;
  double x = f.left;
  const double cy = f.top - 14;
  for (size_t i = 0; i < series.size(); ++i) {
    if (bar)
      s += StrFormat("<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%s\"/>\n", x, cy - 5, Color(i));
    else
      s += StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.5\"/>\n", x,
                     cy, x + 16, cy, Color(i));
    s += Text(x + 20, cy + 4, series[i].name, "start");
    x += 20 + 7.2 * double(series[i].name.size()) + 18;
  }
  return s;
}

}  // namespace

std::string XmlEscape(const std::string& in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double d = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw * 0.999) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  // From the last step at or below lo to the first at or above hi: the ticks cover the data.
  const long first = long(std::floor(lo / step + 1e-9)), last = long(std::ceil(hi / step - 1e-9));
  for (long k = first; k <= last; ++k) t.push_back(double(k) * step);
  return t;
}

std::string LineChartSvg(const LineChart& c) {
  for (const auto& se : c.series)
    if (!se.point_labels.empty() && se.point_labels.size() != se.x.size())
      throw UsageError("line chart: series '" + se.name + "' has " + std::to_string(se.point_labels.size()) +
                       " point labels for " + std::to_string(se.x.size()) + " points");
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const auto& s : c.series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      xmin = std::min(xmin, s.x[i]);
      xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]);
      ymax = std::max(ymax, s.y[i]);
    }
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  for (const RefLine& l : c.x_lines)
    if (std::isfinite(l.value)) xmin = std::min(xmin, l.value), xmax = std::max(xmax, l.value);
  if (c.y_max > c.y_min) ymin = c.y_min, ymax = c.y_max;
  if (c.y_from_zero) ymin = std::min(ymin, 0.0), ymax = std::max(ymax, 0.0);
  std::vector<double> yt = NiceTicks(ymin, ymax, 5);
  if (!(c.y_max > c.y_min)) ymin = yt.front(), ymax = yt.back();  // axis ends on ticks
  if (ymax <= ymin) ymax = ymin + 1;
  if (xmax <= xmin) xmax = xmin + 1;
  bool integer_x = true;
  for (const auto& se : c.series)
    for (double v : se.x) integer_x = integer_x && v == std::floor(v);
  std::vector<double> xt = NiceTicks(xmin, xmax, 8);
  if (integer_x && xt.size() > 1 && xt[1] - xt[0] < 1) {
    xt.clear();
    for (double v = std::ceil(xmin); v <= xmax; v += 1) xt.push_back(v);
  }
  const double ystep = yt.size() > 1 ? yt[1] - yt[0] : 1, xstep = xt.size() > 1 ? xt[1] - xt[0] : 1;

  const Frame f{64, 58, double(c.width) - 16, double(c.height) - 44};
  auto X = [&](double v) { return f.left + (v - xmin) / (xmax - xmin) * f.w(); };
  auto Y = [&](double v) { return f.bottom - (v - ymin) / (ymax - ymin) * f.h(); };

  std::string s = Header(c.width, c.height);
  for (double v : yt) {
    if (v < ymin - ystep * 1e-6 || v > ymax + ystep * 1e-6) continue;
    s += StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", f.left, Y(v),
                   f.right, Y(v));
    s += Text(f.left - 6, Y(v) + 4, TickLabel(v, ystep), "end", 11);
  }
  for (double v : xt) {
    if (v < xmin - xstep * 1e-6 || v > xmax + xstep * 1e-6) continue;
    s += StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", X(v), f.bottom, X(v),
                   f.bottom + 4);
    s += Text(X(v), f.bottom + 17, TickLabel(v, xstep), "middle", 11);
  }
  s += Axes(f, c.width, c.height, c.title, c.x_label, c.y_label);
  for (const RefLine& l : c.x_lines) {
    if (!std::isfinite(l.value)) continue;
    s += StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n",
                   X(l.value), f.bottom, X(l.value), f.top);
    if (!l.label.empty()) s += Text(X(l.value) + 4, f.top + 12, l.label, "start", 10, " fill=\"#555\"");
  }
  for (size_t k = 0; k < c.series.size(); ++k) {
    const Series& se = c.series[k];
    double last_lx = -1e9, last_ly = -1e9;  // where the previous point label went
    std::string pts;
    for (size_t i = 0; i < std::min(se.x.size(), se.y.size()); ++i) {
      if (!std::isfinite(se.x[i]) || !std::isfinite(se.y[i])) continue;
      pts += StrFormat("%s%.1f,%.1f", pts.empty() ? "" : " ", X(se.x[i]), Y(std::clamp(se.y[i], ymin, ymax)));
      if (c.markers)
        s += StrFormat("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", X(se.x[i]),
                       Y(std::clamp(se.y[i], ymin, ymax)), Color(k));
      if (!se.point_labels.empty()) {
        const double px = X(se.x[i]), py = Y(std::clamp(se.y[i], ymin, ymax));
        if (std::abs(px - last_lx) < 24 && std::abs(py - last_ly) < 11) continue;  // would overlap
        last_lx = px, last_ly = py;
        if (px > f.right - 30)
          s += Text(px - 5, py - 5, se.point_labels[i], "end", 10);
        else
          s += Text(px + 5, py - 5, se.point_labels[i], "start", 10);
      }
    }
    s += StrFormat(
        "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
        "stroke-linejoin=\"round\"/>\n",
        pts.c_str(), Color(k));
  }
  s += Legend(f, c.series, false);
  return s + "</svg>\n";
}

std::string BarChartSvg(const BarChart& c) {
  double vmax = 0, vmin_pos = std::numeric_limits<double>::infinity();
  for (const auto& se : c.series)
    for (double v : se.y)
      if (std::isfinite(v)) {
        vmax = std::max(vmax, v);
        if (v > 0) vmin_pos = std::min(vmin_pos, v);
      }
  // Value axis: linear from 0 to a nice top with headroom for the labels; or whole decades.
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  if (c.log_scale) {
    if (!std::isfinite(vmin_pos)) vmin_pos = 1, vmax = 10;
    const int e0 = int(std::floor(std::log10(vmin_pos))), e1 = int(std::ceil(std::log10(vmax * 1.5)));
    lo = e0;
    hi = std::max(e1, e0 + 1);
    for (int e = e0; e <= int(hi); ++e) ticks.push_back(e);
  } else {
    ticks = NiceTicks(0, vmax > 0 ? vmax * 1.12 : 1, 5);
    hi = ticks.back();
  }
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;

  const Frame f{72, 58, double(c.width) - 16, double(c.height) - 44};
  auto Y = [&](double v) {
    const double t = c.log_scale ? (v > 0 ? std::log10(v) : lo) : v;
    return f.bottom - (std::clamp(t, lo, hi) - lo) / (hi - lo) * f.h();
  };
  std::string s = Header(c.width, c.height);
  for (double t : ticks) {
    const double y = f.bottom - (t - lo) / (hi - lo) * f.h();
    s += StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", f.left, y, f.right,
                   y);
    s += Text(f.left - 6, y + 4, c.log_scale ? PowerLabel(int(t)) : TickLabel(t, step), "end", 11);
  }
  const size_t groups = c.categories.size(), ns = std::max<size_t>(1, c.series.size());
  const double gw = groups ? f.w() / double(groups) : f.w(), bw = gw * 0.78 / double(ns);
  for (size_t g = 0; g < groups; ++g) {
    const double gx = f.left + gw * double(g) + gw * 0.11;
    for (size_t k = 0; k < c.series.size(); ++k) {
      if (g >= c.series[k].y.size()) continue;
      const double v = c.series[k].y[g];
      if (!std::isfinite(v) || (c.log_scale && v <= 0)) continue;
      const double x = gx + bw * double(k), y = Y(v);
      s += StrFormat(
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s: %s</title></rect>\n",
          x + 1, y, bw - 2, f.bottom - y, Color(k), XmlEscape(c.series[k].name).c_str(),
          XmlEscape(ValueLabel(c.value_format, v)).c_str());
      s += Text(x + bw / 2, y - 4, ValueLabel(c.value_format, v), "middle", bw < 40 ? 9 : 10);
    }
    s += Text(f.left + gw * (double(g) + 0.5), f.bottom + 17, c.categories[g], "middle", 12);
  }
  s += Axes(f, c.width, c.height, c.title, "", c.y_label);
  s += Legend(f, c.series, true);
  return s + "</svg>\n";
}

std::string HeatMapSvg(const HeatMap& h) {
  const int rows = int(h.row_labels.size()), cols = int(h.col_labels.size()), cs = h.cell;
  size_t longest = 0;
  for (const auto& l : h.row_labels) longest = std::max(longest, l.size());
  const double left = 40 + 7.5 * double(longest) + 8, top = 70;
  const int width = std::max(int(left + cols * cs + 24), int(20 + 8.6 * double(h.title.size())));
  const int height = int(top + rows * cs + 16);
  double vmax = 0;
  for (const auto& r : h.values)
    for (double v : r) vmax = std::max(vmax, v);

  std::string s = Header(width, height);
  if (!h.title.empty()) s += Text(width / 2.0, 22, h.title, "middle", 14, " font-weight=\"bold\"");
  if (!h.col_title.empty()) s += Text(left + cols * cs / 2.0, 44, h.col_title, "middle", 12, " fill=\"#555\"");
  if (!h.row_title.empty())
    s += Text(16, top + rows * cs / 2.0, h.row_title, "middle", 12,
              StrFormat(" fill=\"#555\" transform=\"rotate(-90 16 %.1f)\"", top + rows * cs / 2.0).c_str());
  for (int c = 0; c < cols; ++c) s += Text(left + (c + 0.5) * cs, top - 8, h.col_labels[size_t(c)]);
  for (int r = 0; r < rows; ++r) {
    s += Text(left - 8, top + (r + 0.5) * cs + 4, h.row_labels[size_t(r)], "end");
    double sum = 0;
    if (size_t(r) < h.values.size())
      for (double v : h.values[size_t(r)]) sum += v;
    for (int c = 0; c < cols; ++c) {
      const double v =
          size_t(r) < h.values.size() && size_t(c) < h.values[size_t(r)].size() ? h.values[size_t(r)][size_t(c)] : 0;
      const double t = h.normalize_rows ? (sum > 0 ? v / sum : 0) : (vmax > 0 ? v / vmax : 0);
      const auto rgb = Colormap(t, ColormapKind::kViridis);
      const double lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
      const double x = left + c * cs, y = top + r * cs;
      s += StrFormat(
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"#%02x%02x%02x\" stroke=\"white\"/>\n", x, y,
          cs, cs, rgb[0], rgb[1], rgb[2]);
      s += Text(x + cs / 2.0, y + cs / 2.0 + 5, StrFormat(h.value_format.c_str(), v), "middle", cs >= 48 ? 14 : 11,
                lum > 140 ? " fill=\"#111\"" : " fill=\"white\"");
    }
  }
  return s + "</svg>\n";
}

void WriteSvg(const std::string& path, const std::string& svg) { AtomicWriteFile(path, svg); }

}  // namespace kws
