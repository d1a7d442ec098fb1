// Background noise and training-time augmentation, as TF's speech_commands
// train.py does it (Warden 2018, arXiv:1804.03209; tensorflow/examples/speech_commands/):
//   1. time shift: uniform integer shift in [-shift, +shift] samples, zero padded;
//   2. with probability background_prob, add a random 1 s slice of a
//      _background_noise_ file at gain U(0, background_volume);
//      _silence_ items get the slice at gain U(0, silence_volume) always;
//   3. clip to [-1, 1].
// Every random number comes from the caller's kws::Rng, drawn in a fixed order,
// so the same seed gives the same augmented audio on every platform.
//
// Stronger augmentation (all off by default, so the defaults reproduce TF exactly):
//   0. speed s ~ U(speed_min, speed_max) and pitch p ~ U(pitch_min, pitch_max): the audio is
//      resampled (soxr) to play s*p times faster around the window's centre (pitch and tempo x s*p);
//      AugmentFeatures later stretches the feature frames by p back, so p changes pitch only;
//      then a speech gain U(-gain_db, +gain_db) dB;
//   2'. background_mode = "snr": the noise slice is scaled to an SNR ~ U(snr_min_db, snr_max_db)
//      against the clip's RMS (silence items and silent clips keep the volume rule);
//   3'. with probability quiet_prob, the whole mix (speech and noise) is attenuated by
//      U(0, quiet_max_db) dB after clipping: a quiet recording (far or weak microphone). Real data has
//      them (Speech Commands clips peak anywhere from -45 to 0 dBFS) and log-mel features are not
//      level-invariant, so models trained at one level call quiet "yes" clips "no".
//   4. AugmentFeatures (on the log-mel/MFCC matrix): the pitch tempo fix, then SpecAugment
//      masks — time_masks bands of U{0..time_mask_frames} frames and freq_masks bands of
//      U{0..freq_mask_bins} bins, set to the matrix mean.
#pragma once
#include <string>
#include <vector>

#include "data/dataset.h"
#include "util/rng.h"
#include "util/settings.h"

namespace kws {

// All _background_noise_ recordings, decoded once at the model rate.
class BackgroundNoise {
 public:
  // Empty; samples added with Add() are taken to be at `sample_rate`.
  explicit BackgroundNoise(int sample_rate = 16000) : rate_(sample_rate) {}
  // Loads every Dataset::noise file through ReadAudio at `sample_rate`.
  BackgroundNoise(const Dataset& ds, int sample_rate);
  // Loads every audio file of a folder (e.g. root/_background_noise_).
  static BackgroundNoise FromFolder(const std::string& dir, int sample_rate);
  // From samples already in memory (tests, synthetic noise).
  void Add(std::string name, std::vector<float> samples);

  bool empty() const { return files_.empty(); }
  int size() const { return int(files_.size()); }
  int sample_rate() const { return rate_; }
  const std::string& name(int i) const { return files_[size_t(i)].name; }
  const std::vector<float>& samples(int i) const { return files_[size_t(i)].samples; }

  // A random slice of n samples: a file chosen uniformly, then a uniform
  // offset. Files shorter than n are zero padded. Throws if empty().
  void Slice(Rng& rng, float* out, int n) const;
  // A fixed slice (offset in samples); zero padded past the end.
  void SliceAt(int file, int64_t offset, float* out, int n) const;

 private:
  struct File {
    std::string name;
    std::vector<float> samples;
  };
  std::vector<File> files_;
  int rate_ = 16000;
};

struct AugmentOptions {
  double shift_ms = 100.0;          // max |time shift|, milliseconds (0 = off)
  double background_prob = 0.8;     // probability of mixing in background noise
  double background_volume = 0.1;   // noise gain ~ U(0, background_volume)
  double silence_volume = 1.0;      // gain ~ U(0, silence_volume) for _silence_ items (TF: 1)
  double speed_min = 1.0, speed_max = 1.0;  // speed factor range (1 = off); in [0.5, 2]
  double pitch_min = 1.0, pitch_max = 1.0;  // pitch factor range (1 = off); in [0.5, 2]
  double gain_db = 0.0;             // speech gain ~ U(-gain_db, gain_db) dB (0 = off)
  std::string background_mode = "volume";   // "volume" (TF) | "snr"
  double snr_min_db = 5.0, snr_max_db = 20.0;  // background_mode = "snr"
  int time_masks = 0;               // SpecAugment time masks per clip
  int time_mask_frames = 10;        // max width of one time mask (frames)
  int freq_masks = 0;               // SpecAugment frequency masks per clip
  int freq_mask_bins = 3;           // max width of one frequency mask (bins)
  double quiet_prob = 0.0;          // probability of a quiet recording (0 = off)
  double quiet_max_db = 30.0;       // its attenuation ~ U(0, quiet_max_db) dB

  bool Resamples() const { return speed_min != 1.0 || speed_max != 1.0 || pitch_min != 1.0 || pitch_max != 1.0; }
  bool TouchesFeatures() const { return Resamples() || time_masks > 0 || freq_masks > 0; }
  void Validate() const;            // throws UsageError naming the bad setting
  std::string ToString() const;
};

// [train.augment]'s settings of AugmentOptions (util/settings.h): key, default, check, help. Messages
// name the setting as the recipe config does ("train.augment.speed_max: must be in [1.2, 2] (got 1)").
const std::vector<settings::Setting<AugmentOptions>>& AugmentSettings();

// What one call did (for tests and logs).
struct AugmentInfo {
  int shift = 0;        // samples; > 0 moves the audio later
  bool mixed = false;   // background added
  float gain = 0.0f;
  int clipped = 0;      // samples clipped to [-1, 1]
  double speed = 1.0, pitch = 1.0;  // factors drawn (1 when off)
  double gain_db = 0.0;             // speech gain drawn
  double snr_db = 0.0;              // background_mode "snr": the SNR drawn (when mixed by SNR)
  double quiet_db = 0.0;            // attenuation of a quiet recording (0 when not drawn)
};

// Augments one window in place. `noise` may be null or empty (no mixing). `is_silence`
// selects TF's silence treatment (always mixed, gain U(0, silence_volume)).
// Draw order: [speed, pitch when Resamples()], [gain_db when > 0], shift, mix coin, gain (or SNR
// in "snr" mode), then (only when mixing) the noise slice, then [quiet coin, attenuation when
// quiet_prob > 0].
AugmentInfo Augment(const AugmentOptions& opt, const BackgroundNoise* noise, int sample_rate, Rng& rng,
                    std::vector<float>& samples, bool is_silence = false);

// Plays `x` `factor` times faster around its centre (soxr resampling: tempo and pitch x factor),
// keeping the length: centre-cropped when longer, zero padded when shorter.
void ChangeSpeed(std::vector<float>& x, double factor);

// Feature-domain part of one clip's augmentation (after Augment on its audio and featurisation):
// frames stretched around the centre by info.pitch (undoing the tempo change of the pitch
// resampling; linear interpolation, edge frames repeated), then the SpecAugment masks.
// `feat` is [frames, bins] row-major. Draws: time masks (width, start) then freq masks.
void AugmentFeatures(const AugmentOptions& opt, const AugmentInfo& info, Rng& rng, float* feat, int frames,
                     int bins);

}  // namespace kws
