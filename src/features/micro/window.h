// Stage 1 of the micro front end: a Hann window in Q12 fixed point, applied to
// int16 samples as they arrive (TFLite Micro's microfrontend/lib/window.c and
// window_util.c).
//
//   size = size_ms * sample_rate / 1000 samples (integer division), step likewise
//   coefficient[i] = floor(4096 * (0.5 - 0.5 cos(2 pi (i + 0.5) / size)) + 0.5)
//                    (cos in double, the value rounded to float32: TensorFlow's window_util.c)
//   output[i]      = (input[i] * coefficient[i]) >> 12                           (int32, then int16)
//
// The window keeps the last `size` samples: a frame is produced each time the
// buffer is full, then the buffer moves on by `step` samples. It also reports
// the largest |output| (int16 arithmetic: |-32768| stays -32768 and is ignored),
// which the FFT stage uses to scale its input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kws::micro {

inline constexpr int kWindowBits = 12;  // coefficients are Q12

struct WindowOptions {
  int size_ms = 25;  // frame length, milliseconds (TFLite Micro's default)
  int step_ms = 10;  // hop, milliseconds

  int size(int sample_rate) const { return int(int64_t(size_ms) * sample_rate / 1000); }  // samples
  int step(int sample_rate) const { return int(int64_t(step_ms) * sample_rate / 1000); }  // samples
  void Validate(int sample_rate) const;  // throws UsageError naming the setting
};

// The Q12 Hann coefficients for a window of `size` samples.
std::vector<int16_t> WindowCoefficients(int size);

// out[i] = (in[i] * coefficients[i]) >> 12; returns max |out[i]| in int16 arithmetic.
int16_t ApplyWindow(const int16_t* in, const int16_t* coefficients, int size, int16_t* out);

class Window {
 public:
  Window(const WindowOptions& options, int sample_rate);

  // Copies samples into the buffer until it holds `size` samples (at most
  // `n`; *used says how many were taken). When it is full, writes the windowed
  // frame to output(), sets max_abs_output(), moves the buffer on by `step` and
  // returns true.
  bool ProcessSamples(const int16_t* samples, size_t n, size_t* used);
  void Reset();

  int size() const { return size_; }
  int step() const { return step_; }
  const int16_t* output() const { return output_.data(); }
  int16_t max_abs_output() const { return max_abs_; }

 private:
  int size_, step_;
  std::vector<int16_t> coefficients_, input_, output_;
  int used_ = 0;
  int16_t max_abs_ = 0;
};

}  // namespace kws::micro
