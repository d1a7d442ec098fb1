#include "features/micro/window.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "features/micro/bits.h"
#include "util/error.h"

namespace kws::micro {

void WindowOptions::Validate(int sample_rate) const {
  auto bad = [](const std::string& what) { throw UsageError("features: micro." + what); };
  if (size_ms < 1 || size_ms > 1000) bad("window_ms must be 1..1000 (got " + std::to_string(size_ms) + ")");
  if (step_ms < 1) bad("step_ms must be >= 1 (got " + std::to_string(step_ms) + ")");
  if (step_ms > size_ms)
    bad("step_ms (" + std::to_string(step_ms) + ") must not exceed window_ms (" + std::to_string(size_ms) + ")");
  if (size(sample_rate) < 4)
    bad("window_ms (" + std::to_string(size_ms) + ") is shorter than 4 samples at " + std::to_string(sample_rate) +
        " Hz");
  if (size(sample_rate) > 16384)
    bad("window_ms (" + std::to_string(size_ms) + ") is longer than 16384 samples at " + std::to_string(sample_rate) +
        " Hz");
  if (step(sample_rate) < 1)
    bad("step_ms (" + std::to_string(step_ms) + ") is shorter than one sample at " + std::to_string(sample_rate) +
        " Hz");
}

std::vector<int16_t> WindowCoefficients(int size) {
  // As TensorFlow's window_util.c computes it (the code the micro_speech features were made
  // with): the argument in float32, the cosine in double, the value rounded to float32, then
  // scaled and rounded in double. (TFLite Micro's later copy does it all in float32 with cosf,
  // which moves some coefficients by one; the reference features need this one.)
  const float arg = float(M_PI * 2.0 / double(float(size)));
  std::vector<int16_t> c(static_cast<size_t>(size));
  for (int i = 0; i < size; ++i) {
    const float value = float(0.5 - 0.5 * std::cos(double(arg) * (i + 0.5)));
    c[size_t(i)] = int16_t(std::floor(double(value * float(1 << kWindowBits)) + 0.5));
  }
  return c;
}

int16_t ApplyWindow(const int16_t* in, const int16_t* coefficients, int size, int16_t* out) {
  int16_t max_abs = 0;
  for (int i = 0; i < size; ++i) {
    const int16_t v = Wrap16((int32_t(in[i]) * coefficients[i]) >> kWindowBits);
    out[i] = v;
    const int16_t a = v < 0 ? Wrap16(-int32_t(v)) : v;  // -32768 stays negative, as in int16 C code
    if (a > max_abs) max_abs = a;
  }
  return max_abs;
}

Window::Window(const WindowOptions& options, int sample_rate) {
  options.Validate(sample_rate);
  size_ = options.size(sample_rate);
  step_ = options.step(sample_rate);
  coefficients_ = WindowCoefficients(size_);
  input_.assign(size_t(size_), 0);
  output_.assign(size_t(size_), 0);
}

void Window::Reset() {
  std::fill(input_.begin(), input_.end(), 0);
  std::fill(output_.begin(), output_.end(), 0);
  used_ = 0;
  max_abs_ = 0;
}

bool Window::ProcessSamples(const int16_t* samples, size_t n, size_t* used) {
  const size_t take = std::min(n, size_t(size_ - used_));
  if (take > 0) std::memcpy(input_.data() + used_, samples, take * sizeof(int16_t));
  *used = take;
  used_ += int(take);
  if (used_ < size_) return false;
  max_abs_ = ApplyWindow(input_.data(), coefficients_.data(), size_, output_.data());
  std::memmove(input_.data(), input_.data() + step_, size_t(size_ - step_) * sizeof(int16_t));
  used_ -= step_;
  return true;
}

}  // namespace kws::micro
