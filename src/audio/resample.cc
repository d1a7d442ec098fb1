// Sample-rate conversion with soxr (high quality, linear phase).
#include <soxr.h>

#include <cmath>

#include "audio/audio.h"
#include "audio/audio_internal.h"
#include "util/error.h"

namespace kws {

soxr_io_spec_t audio_internal::ResampleIoSpec() { return soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I); }
soxr_quality_spec_t audio_internal::ResampleQualitySpec() { return soxr_quality_spec(SOXR_HQ, 0); }
int64_t audio_internal::ResampledLength(int64_t n, int from_rate, int to_rate) {
  return int64_t(std::llround(double(n) * double(to_rate) / double(from_rate)));
}

std::vector<float> Resample(const std::vector<float>& in, int from_rate, int to_rate) {
  if (from_rate <= 0 || to_rate <= 0)
    throw UsageError("resample: sample rates must be positive (got " + std::to_string(from_rate) + " -> " +
                     std::to_string(to_rate) + ")");
  if (from_rate == to_rate || in.empty()) return in;
  // Output length: round(n * to / from), the length of the same duration.
  const size_t out_len = size_t(audio_internal::ResampledLength(int64_t(in.size()), from_rate, to_rate));
  std::vector<float> out(out_len);
  if (out_len == 0) return out;
  soxr_io_spec_t io = audio_internal::ResampleIoSpec();
  soxr_quality_spec_t q = audio_internal::ResampleQualitySpec();
  // No idone: with it, soxr takes only ceil(out_len * from / to) input samples
  // into account for the "last input" flag, so when downsampling it never
  // flushed and the last ~20 ms came out as zeros.
  size_t odone = 0;
  soxr_error_t err = soxr_oneshot(double(from_rate), double(to_rate), 1, in.data(), in.size(), nullptr, out.data(),
                                  out_len, &odone, &io, &q, nullptr);
  if (err) throw InternalError(std::string("resample: soxr failed: ") + err);
  out.resize(odone);
  out.resize(out_len, 0.0f);  // soxr may stop a sample short at the very end
  return out;
}

}  // namespace kws
