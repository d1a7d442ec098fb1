// A tiny SVG line-plot writer (no dependencies): axes with ticks, one polyline
// with markers per series, optional per-point labels, a legend.
//
//   kws::SvgPlot p;
//   p.title = "recall vs false alarms"; p.x_label = "false alarms / hour"; p.y_label = "recall";
//   p.series.push_back({"yes,no", {0.5, 1, 3}, {0.90, 0.95, 0.97}, {"0.99", "0.9", "0.5"}});
//   kws::AtomicWriteFile("curve.svg", kws::RenderSvgLinePlot(p));
#pragma once
#include <string>
#include <vector>

namespace kws {

struct SvgSeries {
  std::string name;
  std::vector<double> x, y;
  std::vector<std::string> point_labels;  // optional, one per point
};

struct SvgPlot {
  std::string title, x_label, y_label;
  std::vector<SvgSeries> series;
  int width = 640, height = 440;
  // Axis ranges; when min >= max the range is taken from the data (with a margin).
  double x_min = 0, x_max = 0, y_min = 0, y_max = 0;
};

// UsageError if a series has x and y of different lengths or non-finite values.
std::string RenderSvgLinePlot(const SvgPlot& p);

// "1", "2.5", "0.001" — short tick labels.
std::string SvgNumber(double v);

}  // namespace kws
