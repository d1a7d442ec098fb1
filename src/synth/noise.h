// Seeded noise generators for synthetic data (background for keyword clips
// and the `_silence_` class). Every generator returns `n` samples with unit
// RMS; scale them to the level you want.
//
//   white  flat spectrum (Gaussian)
//   pink   power falls 3 dB per octave (1/f)
//   brown  power falls 6 dB per octave (1/f^2)
//   hum    mains hum: 50 or 60 Hz and harmonics with random amplitudes and
//          phases, slightly detuned, over a little pink noise
//   babble speech-shaped noise (pink, band-limited to ~150-4000 Hz) from a few
//          "talkers", each amplitude-modulated at a syllable rate (2-7 Hz)
//
// Coloured noise is shaped in the frequency domain (one FFT over the next
// power of two >= n), so the slopes are exact rather than approximated.
#pragma once
#include <string>
#include <vector>

#include "util/rng.h"

namespace kws::synth {

enum class NoiseType { kWhite, kPink, kBrown, kHum, kBabble };

const std::vector<NoiseType>& AllNoiseTypes();
std::string NoiseTypeName(NoiseType t);
// Throws UsageError for an unknown name.
NoiseType ParseNoiseType(const std::string& name);

std::vector<float> GenerateNoise(NoiseType type, size_t n, int sample_rate, Rng& rng);

// Gaussian noise shaped so that power ~ 1/f^alpha (alpha 0 white, 1 pink, 2
// brown) between lo_hz and hi_hz (zero outside; hi_hz <= 0 means Nyquist).
// Unit RMS.
std::vector<float> ColoredNoise(size_t n, double alpha, int sample_rate, Rng& rng, double lo_hz = 0,
                                double hi_hz = 0);
// Two independent such noises from one inverse FFT (the real and imaginary
// parts of shaped complex white noise).
void ColoredNoisePair(size_t n, double alpha, int sample_rate, Rng& rng, double lo_hz, double hi_hz,
                      std::vector<float>* a, std::vector<float>* b);

}  // namespace kws::synth
