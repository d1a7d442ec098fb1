#include "report/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "util/error.h"

namespace kws {

std::string SvgNumber(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

namespace {

std::string Esc(const std::string& s) {
  std::string r;
  for (char c : s) {
    switch (c) {
      case '<': r += "&lt;"; break;
      case '>': r += "&gt;"; break;
      case '&': r += "&amp;"; break;
      case '"': r += "&quot;"; break;
      default: r += c;
    }
  }
  return r;
}

// "Nice" tick step for a range: 1, 2 or 5 times a power of ten, about 5 ticks.
double TickStep(double span) {
  if (!(span > 0)) return 1;
  const double raw = span / 5;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

void Range(const SvgPlot& p, bool x, double* lo, double* hi) {
  double a = x ? p.x_min : p.y_min, b = x ? p.x_max : p.y_max;
  if (a < b) {
    *lo = a;
    *hi = b;
    return;
  }
  a = INFINITY;
  b = -INFINITY;
  for (const auto& s : p.series)
    for (double v : x ? s.x : s.y) a = std::min(a, v), b = std::max(b, v);
  if (!(a <= b)) a = 0, b = 1;
  if (a == b) a -= 0.5, b += 0.5;
  const double step = TickStep(b - a);
  *lo = std::floor(a / step) * step;
  *hi = std::ceil(b / step) * step;
}

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

}  // namespace

std::string RenderSvgLinePlot(const SvgPlot& p) {
  for (const auto& s : p.series) {
    if (s.x.size() != s.y.size()) throw UsageError("svg: series '" + s.name + "' has x and y of different lengths");
    if (!s.point_labels.empty() && s.point_labels.size() != s.x.size())
      throw UsageError("svg: series '" + s.name + "' has a label count different from its point count");
    for (size_t i = 0; i < s.x.size(); ++i)
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) throw UsageError("svg: series '" + s.name + "' has a non-finite value");
  }
  double x0, x1, y0, y1;
  Range(p, true, &x0, &x1);
  Range(p, false, &y0, &y1);
  const double W = p.width, H = p.height, L = 70, R = 20, T = 40, B = 55;
  const double pw = W - L - R, ph = H - T - B;
  auto X = [&](double v) { return L + (v - x0) / (x1 - x0) * pw; };
  auto Y = [&](double v) { return T + ph - (v - y0) / (y1 - y0) * ph; };
  std::string o;
  char buf[512];
  auto add = [&](const char* fmt, auto... a) {
    std::snprintf(buf, sizeof buf, fmt, a...);
    o += buf;
  };
  add("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n", p.width, p.height, p.width, p.height);
  add("<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
  o += "<text x=\"" + SvgNumber(W / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" + Esc(p.title) + "</text>\n";
  // Grid and ticks.
  const double xs = TickStep(x1 - x0), ys = TickStep(y1 - y0);
  for (double v = std::ceil(x0 / xs - 1e-9) * xs; v <= x1 + 1e-9 * xs; v += xs) {
    add("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", X(v), T, X(v), T + ph);
    o += "<text x=\"" + SvgNumber(X(v)) + "\" y=\"" + SvgNumber(T + ph + 16) + "\" text-anchor=\"middle\">" +
         SvgNumber(std::abs(v) < 1e-12 ? 0 : v) + "</text>\n";
  }
  for (double v = std::ceil(y0 / ys - 1e-9) * ys; v <= y1 + 1e-9 * ys; v += ys) {
    add("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, Y(v), L + pw, Y(v));
    o += "<text x=\"" + SvgNumber(L - 6) + "\" y=\"" + SvgNumber(Y(v) + 4) + "\" text-anchor=\"end\">" +
         SvgNumber(std::abs(v) < 1e-12 ? 0 : v) + "</text>\n";
  }
  add("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n", L, T, pw, ph);
  o += "<text x=\"" + SvgNumber(L + pw / 2) + "\" y=\"" + SvgNumber(H - 12) + "\" text-anchor=\"middle\">" + Esc(p.x_label) + "</text>\n";
  o += "<text transform=\"translate(18," + SvgNumber(T + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\">" + Esc(p.y_label) + "</text>\n";
  // Series.
  for (size_t k = 0; k < p.series.size(); ++k) {
    const auto& s = p.series[k];
    const char* c = kColors[k % 6];
    o += "<polyline fill=\"none\" stroke=\"" + std::string(c) + "\" stroke-width=\"2\" points=\"";
    for (size_t i = 0; i < s.x.size(); ++i) add("%s%.1f,%.1f", i ? " " : "", X(s.x[i]), Y(s.y[i]));
    o += "\"/>\n";
    for (size_t i = 0; i < s.x.size(); ++i) {
      add("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", X(s.x[i]), Y(s.y[i]), c);
      if (!s.point_labels.empty())
        o += "<text x=\"" + SvgNumber(X(s.x[i]) + 5) + "\" y=\"" + SvgNumber(Y(s.y[i]) - 5) + "\" font-size=\"10\" fill=\"" + c +
             "\">" + Esc(s.point_labels[i]) + "</text>\n";
    }
    add("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>\n", L + pw - 130,
        T + 16 + 16.0 * double(k), L + pw - 110, T + 16 + 16.0 * double(k), c);
    o += "<text x=\"" + SvgNumber(L + pw - 105) + "\" y=\"" + SvgNumber(T + 20 + 16.0 * double(k)) + "\">" + Esc(s.name) + "</text>\n";
  }
  o += "</svg>\n";
  return o;
}

}  // namespace kws
