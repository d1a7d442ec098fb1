// Sample-rate conversion with soxr (high quality, linear phase).
#include <soxr.h>

#include <cmath>

#include "audio/audio.h"
#include "util/error.h"

namespace kws {

std::vector<float> Resample(const std::vector<float>& in, int from_rate, int to_rate) {
  if (from_rate <= 0 || to_rate <= 0)
    throw UsageError("resample: sample rates must be positive (got " + std::to_string(from_rate) + " -> " +
                     std::to_string(to_rate) + ")");
  if (from_rate == to_rate || in.empty()) return in;
  // Output length: round(n * to / from), the length of the same duration.
  const size_t out_len = size_t(std::llround(double(in.size()) * double(to_rate) / double(from_rate)));
  std::vector<float> out(out_len);
  if (out_len == 0) return out;
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
  size_t idone = 0, odone = 0;
  soxr_error_t err = soxr_oneshot(double(from_rate), double(to_rate), 1, in.data(), in.size(), &idone, out.data(),
                                  out_len, &odone, &io, &q, nullptr);
  if (err) throw InternalError(std::string("resample: soxr failed: ") + err);
  out.resize(odone);
  out.resize(out_len, 0.0f);  // soxr may stop a sample short at the very end
  return out;
}

}  // namespace kws
