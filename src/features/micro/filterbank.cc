#include "features/micro/filterbank.h"

#include <cmath>
#include <string>

#include "features/micro/bits.h"
#include "util/error.h"

namespace kws::micro {
namespace {

// Every expression below mixes float32 and double exactly as TensorFlow's filterbank_util.c
// does (the code the micro_speech features were made with; TFLite Micro's later copy uses
// log1pf and float32 throughout, which moves a few weights by one): one operation at a time, no
// fused multiply-add (this file is compiled with -ffp-contract=off).
float FreqToMel(float freq) { return float(1127.0 * std::log1p(double(freq) / 700.0)); }

float HzPerBin(int sample_rate, int spectrum_size) {
  return float(0.5 * sample_rate / double(float(spectrum_size) - 1));
}

struct Layout {
  int start = 0, end = 0;
  std::vector<float> centers;  // num_channels + 1 mel centers
  std::vector<int> starts, widths;
};

Layout ComputeLayout(const FilterbankOptions& o, int sample_rate, int spectrum_size) {
  Layout l;
  const int n = o.num_channels + 1;
  const float mel_low = FreqToMel(o.lower_hz), mel_high = FreqToMel(o.upper_hz);
  const float spacing = (mel_high - mel_low) / float(n);
  l.centers.resize(size_t(n));
  for (int i = 0; i < n; ++i) l.centers[size_t(i)] = mel_low + spacing * float(i + 1);
  const float hz_per_bin = HzPerBin(sample_rate, spectrum_size);
  l.start = int(1.5 + double(o.lower_hz / hz_per_bin));
  int f = l.start;
  for (int c = 0; c < n; ++c) {
    const int first = f;
    // Bounded: a band edge past the spectrum is reported by the caller.
    while (f <= spectrum_size && FreqToMel(float(f) * hz_per_bin) <= l.centers[size_t(c)]) ++f;
    l.starts.push_back(first);
    l.widths.push_back(f - first);
    if (f > l.end) l.end = f;
  }
  return l;
}

}  // namespace

void FilterbankOptions::Validate(int sample_rate, int spectrum_size) const {
  auto bad = [](const std::string& what) { throw UsageError("features: micro." + what); };
  if (num_channels < 1 || num_channels > 512) bad("num_channels must be 1..512 (got " + std::to_string(num_channels) + ")");
  if (!std::isfinite(lower_hz) || lower_hz < 0) bad("lower_hz must be >= 0 (got " + FloatText(lower_hz) + ")");
  if (!std::isfinite(upper_hz) || upper_hz <= lower_hz)
    bad("upper_hz (" + FloatText(upper_hz) + ") must be above lower_hz (" + FloatText(lower_hz) + ")");
  if (upper_hz >= 0.5f * float(sample_rate))
    bad("upper_hz (" + FloatText(upper_hz) + ") must be below sample_rate/2 (" + std::to_string(sample_rate / 2) +
        ")");
  const Layout l = ComputeLayout(*this, sample_rate, spectrum_size);
  if (l.end >= spectrum_size)
    bad("upper_hz (" + FloatText(upper_hz) + ") reaches past the spectrum's last bin (" +
        std::to_string(spectrum_size - 1) + "); lower it");
}

uint32_t Sqrt32(uint32_t num) {
  if (num == 0) return 0;
  uint32_t res = 0;
  const int max_bit_number = (32 - MostSignificantBit32(num)) | 1;
  uint32_t bit = 1U << (31 - max_bit_number);
  for (int iterations = (31 - max_bit_number) / 2 + 1; iterations > 0; --iterations) {
    if (num >= res + bit) {
      num -= res + bit;
      res = (res >> 1U) + bit;
    } else {
      res >>= 1U;
    }
    bit >>= 2U;
  }
  if (num > res && res != 0xFFFF) ++res;  // round to nearest, saturating at 16 bits
  return res;
}

uint32_t Sqrt64(uint64_t num) {
  if ((num >> 32) == 0) return Sqrt32(uint32_t(num));  // the reference's 32-bit shortcut
  uint64_t res = 0;
  const int max_bit_number = (64 - MostSignificantBit64(num)) | 1;
  uint64_t bit = 1ULL << (63 - max_bit_number);
  for (int iterations = (63 - max_bit_number) / 2 + 1; iterations > 0; --iterations) {
    if (num >= res + bit) {
      num -= res + bit;
      res = (res >> 1U) + bit;
    } else {
      res >>= 1U;
    }
    bit >>= 2U;
  }
  if (num > res && res != 0xFFFFFFFFULL) ++res;
  return uint32_t(res);
}

Filterbank::Filterbank(const FilterbankOptions& o, int sample_rate, int spectrum_size) : num_channels_(o.num_channels) {
  o.Validate(sample_rate, spectrum_size);
  const Layout l = ComputeLayout(o, sample_rate, spectrum_size);
  start_ = l.start;
  end_ = l.end;
  starts_ = l.starts;
  const float mel_low = FreqToMel(o.lower_hz);
  const float hz_per_bin = HzPerBin(sample_rate, spectrum_size);
  weights_.resize(size_t(num_channels_ + 1));
  unweights_.resize(size_t(num_channels_ + 1));
  for (int c = 0; c <= num_channels_; ++c) {
    const float center = l.centers[size_t(c)];
    const float previous = c == 0 ? mel_low : l.centers[size_t(c - 1)];
    for (int j = 0; j < l.widths[size_t(c)]; ++j) {
      const int f = l.starts[size_t(c)] + j;
      const float w = (center - FreqToMel(float(f) * hz_per_bin)) / (center - previous);
      weights_[size_t(c)].push_back(int16_t(std::floor(double(w * float(1 << kFilterbankBits)) + 0.5)));
      unweights_[size_t(c)].push_back(int16_t(std::floor((1.0 - double(w)) * (1 << kFilterbankBits) + 0.5)));
    }
  }
  work_.assign(size_t(num_channels_ + 1), 0);
}

void Filterbank::Accumulate(const Complex16* spectrum, uint64_t* work) const {
  // Each channel's unweighted sum carries into the next channel (filterbank.c).
  uint64_t carried = 0;
  for (int c = 0; c <= num_channels_; ++c) {
    uint64_t weighted = carried, unweighted = 0;
    const std::vector<int16_t>& w = weights_[size_t(c)];
    const std::vector<int16_t>& u = unweights_[size_t(c)];
    const Complex16* s = spectrum + starts_[size_t(c)];
    for (size_t j = 0; j < w.size(); ++j) {
      const int32_t re = s[j].r, im = s[j].i;
      const int32_t energy = Wrap32(int64_t(uint32_t(re * re) + uint32_t(im * im)));
      const uint64_t e = uint64_t(int64_t(energy));  // int32 -> uint64: sign-extended, as in C
      weighted += uint64_t(int64_t(w[j])) * e;
      unweighted += uint64_t(int64_t(u[j])) * e;
    }
    work[c] = weighted;
    carried = unweighted;
  }
}

void Filterbank::Apply(const Complex16* spectrum, int scale_down_shift, uint32_t* out) const {
  Accumulate(spectrum, work_.data());
  for (int c = 0; c < num_channels_; ++c) out[c] = Sqrt64(work_[size_t(c + 1)]) >> scale_down_shift;
}

}  // namespace kws::micro
