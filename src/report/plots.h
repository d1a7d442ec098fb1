// Tiny dependency-free SVG charts for reports: line chart (legend, axis ticks), grouped bar chart
// (linear or log scale, value labels) and a heat map with labels and counts (confusion matrices).
//
//   kws::LineChart c;
//   c.title = "Loss"; c.x_label = "epoch"; c.y_label = "loss";
//   c.series = {{"train", xs, train_loss}, {"validation", xs, val_loss}};
//   kws::WriteSvg("loss.svg", kws::LineChartSvg(c));     // atomic (temp file + rename)
//
// Every function returns a complete document: "<svg ...>...</svg>\n". Text is XML-escaped.
#pragma once
#include <string>
#include <vector>

namespace kws {

struct Series {
  std::string name;
  std::vector<double> x, y;  // line charts: x and y (same length); bar charts: y per category (x unused)
  std::vector<std::string> point_labels;  // line charts, optional: a label beside each point
};

struct RefLine {
  double value = 0;
  std::string label;  // drawn at the top end of the line
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  std::vector<RefLine> x_lines;  // dashed vertical lines (e.g. a false-alarm budget), inside the x range
  bool y_from_zero = false;     // include 0 in the y range
  double y_min = 0, y_max = 0;  // fixed y range when y_max > y_min (e.g. 0..100 for accuracy)
  bool markers = false;         // a dot on every point
  int width = 640, height = 360;
};

struct BarChart {
  std::string title, y_label;
  std::vector<std::string> categories;  // one group of bars per category (x axis)
  std::vector<Series> series;           // one bar per series in every group; y[i] = value for category i
  bool log_scale = false;               // log10 y axis (values <= 0 are drawn as empty)
  std::string value_format = "%.0f";    // printf format of the value above each bar; "," = 12,345
  int width = 640, height = 360;
};

struct HeatMap {
  std::string title, row_title, col_title;  // e.g. "true label" / "predicted label"
  std::vector<std::string> row_labels, col_labels;
  std::vector<std::vector<double>> values;  // [rows][cols]; printed in each cell (value_format)
  std::string value_format = "%.0f";
  bool normalize_rows = true;               // colour = value / row sum (else value / max)
  int cell = 64;                            // cell size in pixels
};

// Line chart. UsageError if a series' point labels are given but not one per point. A point label
// that would overlap the series' previous label is left out (the point keeps its marker); labels
// near the right edge go to the left of their point.
std::string LineChartSvg(const LineChart& c);
std::string BarChartSvg(const BarChart& c);
std::string HeatMapSvg(const HeatMap& h);

// Writes an SVG document atomically. Throws kws::Error naming the path.
void WriteSvg(const std::string& path, const std::string& svg);

// "Nice" axis ticks (steps of 1, 2 or 5 times a power of ten) covering [lo, hi], about `target` of them.
std::vector<double> NiceTicks(double lo, double hi, int target = 5);
// XML text escaping (& < > " ').
std::string XmlEscape(const std::string& s);

}  // namespace kws
