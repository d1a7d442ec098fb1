#include "synth/dsp.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <utility>

#include "audio/audio.h"
#include "features/fft.h"
#include "util/error.h"

namespace kws::synth {

size_t NextPow2(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

namespace {

// Per-thread plans, one per (size, kind), made on first use: synthesis calls
// these for every clip, and FFTW planning is serialized behind a mutex.
ComplexFft& ComplexPlan(size_t n, bool inverse) {
  thread_local std::map<std::pair<size_t, bool>, std::unique_ptr<ComplexFft>> plans;
  auto& p = plans[{n, inverse}];
  if (!p) p = std::make_unique<ComplexFft>(int(n), inverse);
  return *p;
}

RealFft& RealPlan(size_t n) {
  thread_local std::map<size_t, std::unique_ptr<RealFft>> plans;
  auto& p = plans[n];
  if (!p) p = std::make_unique<RealFft>(int(n));
  return *p;
}

}  // namespace

void Fft(std::vector<std::complex<double>>& a, bool inverse) {
  const size_t n = a.size();
  if (n == 0 || (n & (n - 1)) != 0 || n > size_t(1) << 30)
    throw InternalError("Fft: size " + std::to_string(n) + " is not a power of two");
  ComplexPlan(n, inverse).Transform(a.data(), a.data());
}

std::vector<float> ConvolveDirect(const std::vector<float>& x, const std::vector<float>& h) {
  if (x.empty() || h.empty()) return {};
  std::vector<float> y(x.size() + h.size() - 1, 0.0f);
  for (size_t i = 0; i < x.size(); ++i) {
    const float xi = x[i];
    if (xi == 0.0f) continue;
    float* yi = y.data() + i;
    for (size_t k = 0; k < h.size(); ++k) yi[k] += xi * h[k];
  }
  return y;
}

std::vector<float> Convolve(const std::vector<float>& x, const std::vector<float>& h) {
  if (x.empty() || h.empty()) return {};
  if (std::min(x.size(), h.size()) <= 64) return ConvolveDirect(x, h);
  const size_t out = x.size() + h.size() - 1;
  const size_t n = NextPow2(out);  // any even size works; powers of two are the fastest
  RealFft& fft = RealPlan(n);
  std::vector<double> buf(n, 0.0);
  std::vector<std::complex<double>> X(n / 2 + 1), H(n / 2 + 1);
  std::copy(x.begin(), x.end(), buf.begin());
  fft.Forward(buf.data(), X.data());
  std::fill(buf.begin(), buf.end(), 0.0);
  std::copy(h.begin(), h.end(), buf.begin());
  fft.Forward(buf.data(), H.data());
  for (size_t k = 0; k < X.size(); ++k) X[k] *= H[k];
  fft.Inverse(X.data(), buf.data());
  std::vector<float> r(out);
  for (size_t i = 0; i < out; ++i) r[i] = float(buf[i] / double(n));
  return r;
}

std::vector<float> RoomImpulse(double rt60_s, double drr_db, int sample_rate, Rng& rng) {
  if (!(rt60_s > 0) || sample_rate <= 0) throw InternalError("RoomImpulse: rt60 and sample rate must be > 0");
  const size_t len = std::max<size_t>(2, size_t(rt60_s * sample_rate));
  const size_t predelay = 1 + size_t(rng.Uniform(0.001, 0.008) * sample_rate);
  std::vector<float> h(len + predelay, 0.0f);
  h[0] = 1.0f;
  // Amplitude falls by 60 dB (factor 1000) over rt60: exp(-ln(1000) t / rt60).
  const double k = std::log(1000.0) / (rt60_s * sample_rate);
  double tail_energy = 0;
  for (size_t i = 0; i < len; ++i) {
    double v = FastGauss(rng) * std::exp(-k * double(i));
    h[predelay + i] = float(v);
    tail_energy += v * v;
  }
  const double want = std::pow(10.0, -drr_db / 10.0);  // tail energy relative to direct (1)
  const float g = float(std::sqrt(want / std::max(tail_energy, 1e-20)));
  for (size_t i = predelay; i < h.size(); ++i) h[i] *= g;
  return h;
}

std::pair<size_t, size_t> ActiveRange(const std::vector<float>& x, size_t frame_len, double threshold_db,
                                      size_t margin) {
  if (x.empty() || frame_len == 0) return {0, 0};
  const size_t frames = (x.size() + frame_len - 1) / frame_len;
  std::vector<double> e(frames, 0.0);
  double emax = 0;
  for (size_t f = 0; f < frames; ++f) {
    size_t b = f * frame_len, end = std::min(x.size(), b + frame_len);
    double s = 0;
    for (size_t i = b; i < end; ++i) s += double(x[i]) * x[i];
    e[f] = s / double(end - b);
    emax = std::max(emax, e[f]);
  }
  if (emax <= 1e-12) return {0, 0};  // digital silence
  const double thr = emax * std::pow(10.0, -threshold_db / 10.0);
  size_t first = 0, last = frames - 1;
  while (first < frames && e[first] < thr) ++first;
  while (last > first && e[last] < thr) --last;
  first = first > margin ? first - margin : 0;
  last = std::min(frames - 1, last + margin);
  return {first * frame_len, std::min(x.size(), (last + 1) * frame_len)};
}

std::vector<float> TrimSilence(const std::vector<float>& x, size_t frame_len, double threshold_db, size_t margin) {
  auto [b, e] = ActiveRange(x, frame_len, threshold_db, margin);
  return std::vector<float>(x.begin() + long(b), x.begin() + long(e));
}

double Rms(const float* x, size_t n) {
  if (n == 0) return 0;
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += double(x[i]) * x[i];
  return std::sqrt(s / double(n));
}

double Peak(const std::vector<float>& x) {
  double p = 0;
  for (float v : x) p = std::max(p, double(std::fabs(v)));
  return p;
}

std::vector<float> SpeedPerturb(const std::vector<float>& x, double factor, int sample_rate) {
  if (std::fabs(factor - 1.0) < 1e-4) return x;
  // Pretend the samples were taken at sample_rate * factor and convert back.
  int from = int(std::lround(sample_rate * factor));
  return Resample(x, from, sample_rate);
}

namespace {

// Direct form I biquad with coefficients normalised by a0.
void Biquad(std::vector<float>& x, double b0, double b1, double b2, double a0, double a1, double a2) {
  b0 /= a0; b1 /= a0; b2 /= a0; a1 /= a0; a2 /= a0;
  double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  for (auto& v : x) {
    double in = v;
    double y = b0 * in + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1; x1 = in; y2 = y1; y1 = y;
    v = float(y);
  }
}

}  // namespace

void HighPass(std::vector<float>& x, double fc, int fs) {
  const double w = 2 * M_PI * fc / fs, c = std::cos(w), alpha = std::sin(w) / (2 * M_SQRT1_2);
  Biquad(x, (1 + c) / 2, -(1 + c), (1 + c) / 2, 1 + alpha, -2 * c, 1 - alpha);
}

void LowPass(std::vector<float>& x, double fc, int fs) {
  const double w = 2 * M_PI * fc / fs, c = std::cos(w), alpha = std::sin(w) / (2 * M_SQRT1_2);
  Biquad(x, (1 - c) / 2, 1 - c, (1 - c) / 2, 1 + alpha, -2 * c, 1 - alpha);
}

double EstimateRt60(const std::vector<float>& x, size_t start, int sample_rate) {
  if (start >= x.size()) return 0;
  const size_t n = x.size() - start;
  std::vector<double> edc(n);
  double acc = 0;
  for (size_t i = n; i-- > 0;) {
    acc += double(x[start + i]) * x[start + i];
    edc[i] = acc;
  }
  if (acc <= 0) return 0;
  // Least-squares line through the EDC in dB between -5 and -25 dB.
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  long cnt = 0;
  for (size_t i = 0; i < n; ++i) {
    double db = 10.0 * std::log10(edc[i] / acc + 1e-300);
    if (db > -5.0) continue;
    if (db < -25.0) break;
    double t = double(i) / sample_rate;
    sx += t; sy += db; sxx += t * t; sxy += t * db; ++cnt;
  }
  if (cnt < 4) return 0;
  double slope = (cnt * sxy - sx * sy) / (cnt * sxx - sx * sx);  // dB per second (negative)
  return slope < 0 ? -60.0 / slope : 0;
}

}  // namespace kws::synth
