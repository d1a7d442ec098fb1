#include "features/mel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "util/cpu.h"
#include "util/error.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace kws {

double HertzToMel(double hz) { return 1127.0 * std::log1p(hz / 700.0); }

std::vector<double> MelWeightMatrix(int num_mel_bins, int num_spectrogram_bins, double sample_rate, double lower_hz,
                                    double upper_hz) {
  const int M = num_mel_bins, K = num_spectrogram_bins;
  std::vector<double> w(size_t(K) * size_t(M), 0.0);
  std::vector<double> edges(size_t(M) + 2);
  const double lo = HertzToMel(lower_hz), hi = HertzToMel(upper_hz);
  for (int i = 0; i < M + 2; ++i) edges[size_t(i)] = lo + (hi - lo) * i / double(M + 1);
  const double nyquist = sample_rate / 2.0;
  for (int k = 1; k < K; ++k) {  // k = 0 (DC) stays zero
    const double hz = K > 1 ? nyquist * k / double(K - 1) : 0.0;
    const double m = HertzToMel(hz);
    for (int b = 0; b < M; ++b) {
      const double l = edges[size_t(b)], c = edges[size_t(b) + 1], r = edges[size_t(b) + 2];
      const double up = (m - l) / (c - l), down = (r - m) / (r - c);
      w[size_t(k) * size_t(M) + size_t(b)] = std::max(0.0, std::min(up, down));
    }
  }
  return w;
}

SparseMel SparseMel::Build(int num_mel_bins, int num_spectrogram_bins, double sample_rate, double lower_hz,
                           double upper_hz) {
  const int M = num_mel_bins, K = num_spectrogram_bins;
  const std::vector<double> dense = MelWeightMatrix(M, K, sample_rate, lower_hz, upper_hz);
  SparseMel s;
  s.num_spectrogram_bins = K;
  s.bands.resize(size_t(M));
  s.min_bin = K;
  for (int b = 0; b < M; ++b) {
    int first = -1, last = -1;
    for (int k = 0; k < K; ++k)
      if (dense[size_t(k) * size_t(M) + size_t(b)] != 0.0) {
        if (first < 0) first = k;
        last = k;
      }
    Band& band = s.bands[size_t(b)];
    band.offset = int(s.weights.size());
    if (first < 0) continue;  // an empty band (very narrow filters): always 0
    band.first = first;
    band.count = last - first + 1;
    for (int k = first; k <= last; ++k) s.weights.push_back(dense[size_t(k) * size_t(M) + size_t(b)]);
    s.min_bin = std::min(s.min_bin, first);
    s.max_bin = std::max(s.max_bin, last);
  }
  if (s.max_bin < 0) s.min_bin = 0;

  // Segments (see mel.h): the weights are the dense matrix's, checked to be the
  // only non-zero ones of their row.
  const double lo = HertzToMel(lower_hz), hi = HertzToMel(upper_hz);
  std::vector<double> edges(size_t(M) + 2);
  for (int i = 0; i < M + 2; ++i) edges[size_t(i)] = lo + (hi - lo) * i / double(M + 1);
  s.segments.assign(size_t(M) + 1, Segment{});
  const int used = s.max_bin - s.min_bin + 1;
  s.rise.assign(size_t(std::max(used, 0)), 0.0);
  s.fall.assign(s.rise.size(), 0.0);
  const double nyquist = sample_rate / 2.0;
  int prev = 0;
  for (int k = s.min_bin; k <= s.max_bin; ++k) {
    const double m = HertzToMel(K > 1 ? nyquist * k / double(K - 1) : 0.0);
    int seg = 0;  // e_seg < m <= e_{seg+1}, clamped to 0..M
    while (seg < M && m > edges[size_t(seg) + 1]) ++seg;
    seg = std::max(seg, prev);  // bins are in increasing mel order; keep runs contiguous
    const size_t i = size_t(k - s.min_bin);
    for (int b = 0; b < M; ++b) {
      const double w = dense[size_t(k) * size_t(M) + size_t(b)];
      if (b == seg)
        s.rise[i] = w;
      else if (b == seg - 1)
        s.fall[i] = w;
      else if (w != 0.0)
        throw InternalError("mel: bin " + std::to_string(k) + " has a weight outside its segment");
    }
    Segment& g = s.segments[size_t(seg)];
    if (g.count == 0) g.first = int(i);
    ++g.count;
    prev = seg;
  }
  s.chunk_first.assign(size_t(M) + 2, 0);
  for (int g = 0; g <= M; ++g) s.chunk_first[size_t(g) + 1] = s.chunk_first[size_t(g)] + (s.segments[size_t(g)].count + 3) / 4;
  s.rise_f.assign(size_t(s.chunk_first[size_t(M) + 1]) * 4, 0.0f);
  s.fall_f.assign(s.rise_f.size(), 0.0f);
  for (int g = 0; g <= M; ++g) {
    const Segment& seg = s.segments[size_t(g)];
    for (int i = 0; i < seg.count; ++i) {
      s.rise_f[size_t(s.chunk_first[size_t(g)]) * 4 + size_t(i)] = float(s.rise[size_t(seg.first + i)]);
      s.fall_f[size_t(s.chunk_first[size_t(g)]) * 4 + size_t(i)] = float(s.fall[size_t(seg.first + i)]);
    }
  }
  return s;
}

namespace {

typedef double v4d __attribute__((vector_size(32)));

// out[b] = sum over segment b of rise*x + sum over segment b+1 of fall*x. Each
// segment's two sums use 4-lane partial sums, then a fixed reduction order.
KWS_VARIANT_BODY void SegmentSumsBody(const SparseMel::Segment* seg, int M, const double* rise, const double* fall, const double* x, double* out) {
  double prev_rise = 0.0;
  for (int s = 0; s <= M; ++s) {
    const int f = seg[s].first, n = seg[s].count;
    const double* r = rise + f;
    const double* d = fall + f;
    const double* m = x + f;
    v4d ar = {0, 0, 0, 0}, ad = {0, 0, 0, 0};
    int i = 0;
    for (; i + 4 <= n; i += 4) {
      v4d rv, dv, mv;
      std::memcpy(&rv, r + i, 32);
      std::memcpy(&dv, d + i, 32);
      std::memcpy(&mv, m + i, 32);
      ar += rv * mv;
      ad += dv * mv;
    }
    double sr = (ar[0] + ar[1]) + (ar[2] + ar[3]), sd = (ad[0] + ad[1]) + (ad[2] + ad[3]);
    for (; i < n; ++i) {
      sr += r[i] * m[i];
      sd += d[i] * m[i];
    }
    if (s > 0) out[s - 1] = prev_rise + sd;
    prev_rise = sr;
  }
}
KWS_AVX2_VARIANTS(void, SegmentSums, (const SparseMel::Segment* seg, int M, const double* rise, const double* fall, const double* x, double* out), (seg, M, rise, fall, x, out))

typedef float v4f __attribute__((vector_size(16)));

// Float version: every segment is whole 4-bin chunks (zero-padded weights), so
// there is no scalar tail; each segment's two 4-lane sums are reduced in a
// fixed order.
KWS_VARIANT_BODY void SegmentSumsFBody(const SparseMel::Segment* seg, const int* chunk_first, int M, const float* rise, const float* fall, const float* x, float* out) {
  float prev_rise = 0.0f;
  for (int s = 0; s <= M; ++s) {
    const float* m = x + seg[s].first;
    v4f ar = {}, ad = {};
    for (int c = chunk_first[s], i = 0; c < chunk_first[s + 1]; ++c, i += 4) {
      v4f rv, dv, mv;
      std::memcpy(&rv, rise + 4 * c, 16);
      std::memcpy(&dv, fall + 4 * c, 16);
      std::memcpy(&mv, m + i, 16);
      ar += rv * mv;
      ad += dv * mv;
    }
    const v4f h = __builtin_shufflevector(ar, ad, 0, 1, 4, 5) + __builtin_shufflevector(ar, ad, 2, 3, 6, 7);
    const float sr = h[0] + h[1], sd = h[2] + h[3];
    if (s > 0) out[s - 1] = prev_rise + sd;
    prev_rise = sr;
  }
}
KWS_AVX2_VARIANTS(void, SegmentSumsF, (const SparseMel::Segment* seg, const int* chunk_first, int M, const float* rise, const float* fall, const float* x, float* out), (seg, chunk_first, M, rise, fall, x, out))

}  // namespace

void SparseMel::Apply(const float* spectrum, float* out) const {
  const int M = int(bands.size());
  if (max_bin < min_bin) {
    std::fill(out, out + M, 0.0f);
    return;
  }
  SegmentSumsF(segments.data(), chunk_first.data(), M, rise_f.data(), fall_f.data(), spectrum + min_bin, out);
}

void SparseMel::Apply(const double* spectrum, double* out) const {
  const int M = int(bands.size());
  if (max_bin < min_bin) {
    std::fill(out, out + M, 0.0);
    return;
  }
  SegmentSums(segments.data(), M, rise.data(), fall.data(), spectrum + min_bin, out);
}

}  // namespace kws
