// Small signal-processing helpers for synthetic data: an FFT (for noise
// shaping; the library FFT of features/fft.h), FFT convolution, room
// reverberation, silence trimming and level measurement. Plain functions on mono float vectors.
#pragma once
#include <complex>
#include <cstddef>
#include <vector>

#include "util/rng.h"

namespace kws::synth {

// Approximately standard-normal value: sum of four uniforms, centred and
// scaled (Irwin-Hall). Much cheaper than Box-Muller and plenty Gaussian for
// noise; the tails stop at +-3.46.
inline double FastGauss(Rng& rng) {
  return (rng.Uniform() + rng.Uniform() + rng.Uniform() + rng.Uniform() - 2.0) * 1.7320508075688772;
}

// In-place complex FFT; a.size() must be a power of two (the sizes synthesis
// uses). kws::ComplexFft underneath: FFTW or KissFFT, double precision;
// plans are cached per thread and size.
// inverse=true computes the unnormalised inverse (divide by N yourself).
void Fft(std::vector<std::complex<double>>& a, bool inverse);
size_t NextPow2(size_t n);

// Linear convolution y = x * h (length x.size() + h.size() - 1).
// Direct for short kernels, FFT otherwise; both give the same result to ~1e-6.
std::vector<float> Convolve(const std::vector<float>& x, const std::vector<float>& h);
std::vector<float> ConvolveDirect(const std::vector<float>& x, const std::vector<float>& h);

// A synthetic room impulse response: a direct path (h[0] = 1) followed, after
// a short pre-delay, by exponentially decaying Gaussian noise whose amplitude
// falls 60 dB in rt60_s seconds. drr_db is the direct-to-reverberant energy
// ratio. Length: rt60_s seconds (the tail is 60 dB down at the end).
std::vector<float> RoomImpulse(double rt60_s, double drr_db, int sample_rate, Rng& rng);

// Trims leading/trailing low-energy audio: frames of frame_len samples whose
// energy is more than threshold_db below the loudest frame are dropped from
// both ends; `margin` frames are kept on each side. Returns [begin, end).
std::pair<size_t, size_t> ActiveRange(const std::vector<float>& x, size_t frame_len = 160,
                                      double threshold_db = 40.0, size_t margin = 1);
std::vector<float> TrimSilence(const std::vector<float>& x, size_t frame_len = 160,
                               double threshold_db = 40.0, size_t margin = 1);

double Rms(const float* x, size_t n);
inline double Rms(const std::vector<float>& x) { return Rms(x.data(), x.size()); }
double Peak(const std::vector<float>& x);

// Changes speed and pitch together by `factor` (>1: faster and higher) by
// resampling (soxr): the output has about x.size() / factor samples.
std::vector<float> SpeedPerturb(const std::vector<float>& x, double factor, int sample_rate);

// Second-order (biquad) high-pass / low-pass filters, Butterworth Q = 1/sqrt(2)
// (bilinear transform with pre-warping), applied in place. A crude model of a
// microphone's or a small loudspeaker's band limits.
void HighPass(std::vector<float>& x, double cutoff_hz, int sample_rate);
void LowPass(std::vector<float>& x, double cutoff_hz, int sample_rate);

// Energy-decay-based RT60 estimate (Schroeder backward integration, fit of the
// -5..-25 dB range extrapolated to 60 dB) of an impulse response or of a
// signal's tail starting at `start`. Returns seconds (0 if undefined).
double EstimateRt60(const std::vector<float>& x, size_t start, int sample_rate);

}  // namespace kws::synth
