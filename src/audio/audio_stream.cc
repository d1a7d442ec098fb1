// AudioFileReader: libsndfile reading the file block by block, the shared
// down-mix, and a soxr resampler fed as the blocks arrive.
#include "audio/audio_stream.h"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <cstring>

#include "audio/audio_internal.h"
#include "util/error.h"

namespace kws {
namespace {

using namespace audio_internal;

constexpr size_t kBlockFrames = 4096;  // frames decoded per libsndfile call

}  // namespace

AudioFileReader::AudioFileReader(const std::string& path, int target_rate) : path_(path) {
  SF_INFO sf{};
  file_ = OpenChecked(path, &sf, &source_);
  info_ = ToInfo(sf);
  rate_ = target_rate > 0 ? target_rate : info_.sample_rate;
  interleaved_.resize(kBlockFrames * size_t(info_.channels));
  if (rate_ == info_.sample_rate) {
    total_ = info_.frames;
    return;
  }
  total_ = ResampledLength(info_.frames, info_.sample_rate, rate_);
  const soxr_io_spec_t io = ResampleIoSpec();
  const soxr_quality_spec_t q = ResampleQualitySpec();
  soxr_error_t err = nullptr;
  soxr_ = soxr_create(double(info_.sample_rate), double(rate_), 1, &err, &io, &q, nullptr);
  if (err || !soxr_) {
    sf_close(file_);
    throw InternalError(path + ": resample " + std::to_string(info_.sample_rate) + " -> " + std::to_string(rate_) +
                        " Hz: soxr failed: " + (err ? err : "no resampler"));
  }
  mono_.resize(kBlockFrames);
}

AudioFileReader::~AudioFileReader() {
  if (soxr_) soxr_delete(soxr_);
  if (file_) sf_close(file_);
}

void AudioFileReader::EndOfFile() {
  input_done_ = true;
  CheckReadEnd(path_, file_, frames_read_, info_.frames);
  // A file holding more frames than its header claimed keeps them all, as ReadAudio does.
  total_ = soxr_ ? ResampledLength(frames_read_, info_.sample_rate, rate_) : frames_read_;
}

size_t AudioFileReader::ReadFrames(float* out, size_t max_frames) {
  if (input_done_) return 0;
  const size_t want = std::min(max_frames, kBlockFrames);
  const int ch = info_.channels;
  float* dst = ch == 1 ? out : interleaved_.data();  // mono decodes straight into out
  const sf_count_t got = sf_readf_float(file_, dst, sf_count_t(want));
  if (got <= 0) {
    EndOfFile();
    return 0;
  }
  frames_read_ += got;
  if (ch != 1) DownMix(dst, size_t(got), ch, out);
  CheckFinite(path_, out, size_t(got));
  return size_t(got);
}

size_t AudioFileReader::ReadResampled(float* out, size_t max_samples) {
  size_t n = 0;
  while (n < max_samples && !flushed_) {
    if (!input_done_ && in_pos_ == in_len_) {
      in_len_ = ReadFrames(mono_.data(), mono_.size());
      in_pos_ = 0;
    }
    const bool flush = input_done_ && in_pos_ == in_len_;
    // Never let soxr write past the final length (Resample's output buffer has exactly that size).
    size_t room = max_samples - n;
    if (flush) {
      const int64_t left = total_ - emitted_ - int64_t(n);
      if (left <= 0) {
        flushed_ = true;
        break;
      }
      room = std::min(room, size_t(left));
    }
    size_t idone = 0, odone = 0;
    const soxr_error_t err = soxr_process(soxr_, flush ? nullptr : mono_.data() + in_pos_, flush ? 0 : in_len_ - in_pos_,
                                          &idone, out + n, room, &odone);
    if (err) throw InternalError(path_ + ": resample: soxr failed: " + err);
    in_pos_ += idone;
    n += odone;
    if (flush && odone == 0) flushed_ = true;  // soxr has nothing more
  }
  return n;
}

size_t AudioFileReader::Read(float* out, size_t max_samples) {
  if (done_ || max_samples == 0) return 0;
  size_t n = 0;
  if (soxr_) {
    n = ReadResampled(out, max_samples);
  } else {
    while (n < max_samples) {
      const size_t got = ReadFrames(out + n, max_samples - n);
      if (got == 0) break;
      n += got;
    }
  }
  // soxr may stop a sample or two short of the exact length: pad with zeros, as Resample does.
  if (soxr_ && flushed_)
    while (n < max_samples && emitted_ + int64_t(n) < total_) out[n++] = 0.0f;
  emitted_ += int64_t(n);
  if (input_done_ && (!soxr_ || flushed_) && emitted_ >= total_) done_ = true;
  return n;
}

}  // namespace kws
