#include "layers/add.h"

#include <algorithm>
#include <cstring>

#include "layers/layer_util.h"
#include "util/parallel.h"

namespace kws {

namespace {

std::string Dims(const Shape& s) {
  return std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c);
}

// Offsets of input s inside one example for output row (h, w): 0 along broadcast axes.
struct Strides {
  size_t h = 0, w = 0;
  bool scalar_c = false;
};
Strides StridesOf(const Shape& s) {
  Strides t;
  t.h = s.h == 1 ? 0 : size_t(s.w) * s.c;
  t.w = s.w == 1 ? 0 : size_t(s.c);
  t.scalar_c = s.c == 1;
  return t;
}

// y (o-shaped, one example) = x broadcast (k == 0) or y + x broadcast, element by element.
void AddOne(float* __restrict y, const float* __restrict x, const Shape& s, const Shape& o, bool first) {
  const size_t osz = o.size();
  if (s == o) {  // same shape: one contiguous pass
    if (first) std::memcpy(y, x, osz * sizeof(float));
    else
      for (size_t i = 0; i < osz; ++i) y[i] += x[i];
    return;
  }
  const Strides t = StridesOf(s);
  for (int h = 0; h < o.h; ++h)
    for (int w = 0; w < o.w; ++w, y += o.c) {
      const float* __restrict xr = x + h * t.h + w * t.w;
      if (t.scalar_c) {
        const float v = xr[0];
        if (first) std::fill(y, y + o.c, v);
        else
          for (int c = 0; c < o.c; ++c) y[c] += v;
      } else if (first) {
        std::memcpy(y, xr, size_t(o.c) * sizeof(float));
      } else {
        for (int c = 0; c < o.c; ++c) y[c] += xr[c];
      }
    }
}

// g (s-shaped, one example) = d (o-shaped) summed over the axes s broadcasts.
void ReduceOne(float* __restrict g, const float* __restrict d, const Shape& s, const Shape& o) {
  if (s == o) {
    std::memcpy(g, d, o.size() * sizeof(float));
    return;
  }
  std::fill(g, g + s.size(), 0.0f);
  const Strides t = StridesOf(s);
  for (int h = 0; h < o.h; ++h)
    for (int w = 0; w < o.w; ++w, d += o.c) {
      float* __restrict gr = g + h * t.h + w * t.w;
      if (t.scalar_c)
        for (int c = 0; c < o.c; ++c) gr[0] += d[c];
      else
        for (int c = 0; c < o.c; ++c) gr[c] += d[c];
    }
}

}  // namespace

Shape BroadcastShape(const std::vector<Shape>& in, const std::string& where) {
  Shape o{1, 1, 1};
  for (const Shape& s : in) {
    o.h = std::max(o.h, s.h), o.w = std::max(o.w, s.w), o.c = std::max(o.c, s.c);
  }
  for (const Shape& s : in)
    if ((s.h != 1 && s.h != o.h) || (s.w != 1 && s.w != o.w) || (s.c != 1 && s.c != o.c)) {
      std::string list;
      for (const Shape& t : in) list += (list.empty() ? "" : " and ") + Dims(t);
      throw UsageError(where + ": cannot add shapes " + list +
                       " (each axis must be equal or 1 to broadcast; shapes are height x width x channels)");
    }
  return o;
}

void add_forward(float* out, const std::vector<const float*>& in, const std::vector<Shape>& s, const Shape& o,
                 int N) {
  ParallelForWork(N, long(N) * long(o.size()) * long(in.size()), [&](long b, long e, int) {
    for (long n = b; n < e; ++n)
      for (size_t k = 0; k < in.size(); ++k) AddOne(out + size_t(n) * o.size(), in[k] + size_t(n) * s[k].size(), s[k], o, k == 0);
  });
}

void add_backward(const std::vector<float*>& din, const float* dout, const std::vector<Shape>& s, const Shape& o,
                  int N) {
  ParallelForWork(N, long(N) * long(o.size()) * long(din.size()), [&](long b, long e, int) {
    for (long n = b; n < e; ++n)
      for (size_t k = 0; k < din.size(); ++k)
        if (din[k]) ReduceOne(din[k] + size_t(n) * s[k].size(), dout + size_t(n) * o.size(), s[k], o);
  });
}

Shape AddLayer::OutputShape(const Shape& in) const { return OutputShapeN({in}); }

Shape AddLayer::OutputShapeN(const std::vector<Shape>& in) const {
  CheckInputCount(*this, in.size());
  return BroadcastShape(in, "layer '" + (name.empty() ? type() : name) + "'");
}

void AddLayer::Build(const Shape& in, Rng& rng) { BuildN({in}, rng); }

void AddLayer::BuildN(const std::vector<Shape>& in, Rng&) {
  OutputShapeN(in);  // validates
  input_shapes = in;
  input_shape = in[0];
}

void AddLayer::Forward(const float*, float*, int, bool) { CheckInputCount(*this, 1); }
void AddLayer::Backward(const float*, const float*, const float*, float*, int) { CheckInputCount(*this, 1); }

void AddLayer::ForwardN(const std::vector<const float*>& in, float* out, int batch, bool) {
  add_forward(out, in, input_shapes, OutputShapeN(input_shapes), batch);
}

void AddLayer::BackwardN(const std::vector<const float*>&, const float*, const float* dout,
                         const std::vector<float*>& din, int batch) {
  add_backward(din, dout, input_shapes, OutputShapeN(input_shapes), batch);
}

nlohmann::json AddLayer::Config() const {
  nlohmann::json j = {{"type", type()}};
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeAddLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<AddLayer>();
  l->name = c.name();
  c.Finish();
  return l;
}

}  // namespace kws
