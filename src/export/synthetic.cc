#include "export/synthetic.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"
#include "util/rng.h"

namespace kws::ir {

namespace {

struct Maker {
  const SyntheticOptions& o;
  Rng rng;
  Graph g;
  int n = 0;

  std::vector<float> Weights(size_t count, int fan_in) {
    std::vector<float> w(count);
    const double sd = std::sqrt(2.0 / std::max(fan_in, 1));
    for (auto& v : w) v = float(rng.Normal() * sd);
    if (o.sparsity > 0) {
      std::vector<float> mags(count);
      for (size_t i = 0; i < count; ++i) mags[i] = std::fabs(w[i]);
      size_t k = size_t(std::floor(o.sparsity * double(count)));
      if (k > 0) {
        std::nth_element(mags.begin(), mags.begin() + (k - 1), mags.end());
        float thr = mags[k - 1];
        size_t zeroed = 0;
        for (auto& v : w)
          if (std::fabs(v) <= thr && zeroed < k) v = 0, ++zeroed;
      }
    }
    return w;
  }
  std::vector<float> Bias(int count) {
    std::vector<float> b(count);
    for (auto& v : b) v = float(rng.Uniform(-0.1, 0.1));
    return b;
  }
  std::string Name(const char* base) { return std::string(base) + "_" + std::to_string(++n); }

  int Conv(int x, int filters, int k, int stride, Padding p = Padding::kSame, Activation a = Activation::kRelu) {
    int c = g.shapes[x][3];
    return g.Conv2D(x, Weights(size_t(filters) * k * k * c, k * k * c), {filters, k, k, c}, Bias(filters), stride,
                    stride, p, a, Name("conv2d"));
  }
  int Depthwise(int x, int k, int stride, int mult = 1) {
    int c = g.shapes[x][3];
    return g.DepthwiseConv2D(x, Weights(size_t(k) * k * c * mult, k * k), {1, k, k, c * mult}, Bias(c * mult), mult,
                             stride, stride, Padding::kSame, Activation::kRelu, Name("depthwise_conv2d"));
  }
  int Dense(int x, int out, Activation a = Activation::kNone) {
    int in = int(g.NumElements(x));
    return g.FullyConnected(x, Weights(size_t(out) * in, in), {out, in}, Bias(out), a, Name("dense"));
  }
};

}  // namespace

Graph MakeSyntheticGraph(const SyntheticOptions& o) {
  if (o.sparsity < 0 || o.sparsity >= 1) throw UsageError("synthetic graph: sparsity must be in [0, 1)");
  if (o.height < 8 || o.width < 4 || o.filters < 1 || o.classes < 2)
    throw UsageError("synthetic graph: input must be at least 8x4, filters >= 1, classes >= 2");
  Maker m{o, Rng(o.seed)};
  Graph& g = m.g;
  int x = g.AddInput({1, o.height, o.width, 1}, "input");
  const int f = o.filters;
  if (o.kind == "seed") {
    x = m.Conv(x, f, 3, 2);
    x = m.Conv(x, f, 3, 1);
    x = m.Conv(x, f, 3, 1);
    x = m.Conv(x, f, 3, 1);
    x = g.Mean(x, "global_average_pooling2d");
    x = m.Dense(x, o.classes);
  } else if (o.kind == "depthwise") {
    x = m.Conv(x, f, 3, 2);
    x = m.Depthwise(x, 3, 1);
    x = m.Conv(x, f, 1, 1);
    x = m.Depthwise(x, 3, 2, 2);
    x = m.Conv(x, f, 1, 1, Padding::kValid, Activation::kRelu6);
    x = g.Mean(x, "global_average_pooling2d");
    x = m.Dense(x, o.classes);
  } else if (o.kind == "pools") {
    x = m.Conv(x, f, 3, 1);
    x = g.MaxPool2D(x, 2, 2, 2, 2, Padding::kValid, m.Name("max_pooling2d"));
    x = m.Conv(x, f, 3, 1, Padding::kValid);
    x = g.AveragePool2D(x, 3, 3, 2, 2, Padding::kSame, m.Name("average_pooling2d"));
    x = m.Conv(x, f, 3, 1);
    x = g.Mean(x, "global_average_pooling2d");
    x = m.Dense(x, o.classes);
  } else if (o.kind == "reshape") {
    x = m.Conv(x, f, 3, 2);
    x = m.Conv(x, f, 3, 2);
    x = g.AveragePool2D(x, 2, 2, 2, 2, Padding::kValid, m.Name("average_pooling2d"));
    x = g.Reshape(x, {1, int(g.NumElements(x))}, "flatten");
    x = m.Dense(x, 32, Activation::kRelu);
    x = m.Dense(x, o.classes);
  } else if (o.kind == "merged") {
    x = m.Conv(x, f, 3, 2);
    x = m.Conv(x, f, 3, 2);
    x = g.Mean(x, "global_average_pooling2d");
    x = m.Dense(x, o.classes);
    x = g.Softmax(x, 1.0f, "softmax");
    // data.unknown_subclasses' merge: classes 0..2 are outputs 0..2, every later class sums into output 3.
    std::vector<int> output_of(size_t(o.classes));
    for (int k = 0; k < o.classes; ++k) output_of[size_t(k)] = std::min(k, 3);
    x = g.SumClasses(x, output_of, "merge_classes");
  } else {
    throw UsageError("synthetic graph: unknown kind '" + o.kind + "' (seed, depthwise, pools, reshape, merged)");
  }
  if (o.softmax && o.kind != "merged") x = g.Softmax(x, 1.0f, "softmax");
  g.SetOutput(x);
  g.Validate();
  return std::move(g);
}

std::vector<std::vector<float>> SyntheticInputs(const Graph& g, int count, uint64_t seed) {
  Rng rng(seed);
  const auto& s = g.shapes[g.input];
  const int H = s[1], W = s[2];
  std::vector<std::vector<float>> r(size_t(count), std::vector<float>(g.NumElements(g.input)));
  for (auto& x : r) {
    // A smooth "spectrogram": per-bin level + a few bursts + noise.
    double level = rng.Uniform(-9, -5);
    int burst_start = int(rng.Below(uint64_t(H))), burst_len = 10 + int(rng.Below(uint64_t(H / 2 + 1)));
    for (int t = 0; t < H; ++t)
      for (int b = 0; b < W; ++b) {
        double v = level - 0.1 * b + 0.8 * rng.Normal();
        if (t >= burst_start && t < burst_start + burst_len) v += 6.0 * std::exp(-0.1 * b) + 2.0 * rng.Uniform();
        x[size_t(t) * W + b] = float(std::clamp(v, -13.8, 6.0));
      }
  }
  return r;
}

}  // namespace kws::ir
