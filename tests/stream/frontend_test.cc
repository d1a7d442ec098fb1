// StreamingFeatures: incremental frames equal offline FeatureExtractor::Compute on the same
// samples (bit for bit), for any chunking, after the ring has wrapped many times; memory is fixed.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "features/features.h"
#include "stream/frontend.h"
#include "util/error.h"
#include "util/rng.h"

namespace {

std::vector<float> Noise(size_t n, uint64_t seed) {
  kws::Rng r(seed);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = float(0.2 * r.Normal() + 0.3 * std::sin(0.05 * double(i)));
  return x;
}

// The frames [t0, t0 + n) of the stream as the offline extractor computes them.
kws::FeatureMatrix Offline(const kws::FeatureOptions& o, const std::vector<float>& x, int64_t t0, int n) {
  kws::FeatureExtractor fx(o);
  const int64_t s0 = t0 * o.frame_step();
  const int len = (n - 1) * o.frame_step() + o.frame_length();
  return fx.Compute(x.data() + s0, len);
}

void ExpectLastWindowExact(const kws::FeatureOptions& o, const std::vector<float>& x, const std::vector<size_t>& chunks,
                           int window) {
  kws::StreamingFeatures sf(o, window);
  size_t pos = 0, k = 0;
  int checks = 0;
  while (pos < x.size()) {
    const size_t n = std::min(chunks[k++ % chunks.size()], x.size() - pos);
    sf.AcceptWaveform(x.data() + pos, n);
    pos += n;
    ASSERT_EQ(sf.samples_accepted(), int64_t(pos));
    ASSERT_EQ(sf.NumFramesReady(), pos < size_t(o.frame_length()) ? 0 : o.num_frames(int(pos)));
    if (sf.NumFramesReady() >= window && (k % 7 == 0 || pos == x.size())) {
      std::vector<float> got(size_t(window) * sf.num_features());
      sf.CopyLastFrames(window, got.data());
      const kws::FeatureMatrix want = Offline(o, x, sf.NumFramesReady() - window, window);
      ASSERT_EQ(want.frames, window);
      ASSERT_EQ(want.data.size(), got.size());
      ASSERT_EQ(0, std::memcmp(want.data.data(), got.data(), got.size() * sizeof(float)))
          << "frames differ at stream sample " << pos;
      ++checks;
    }
  }
  EXPECT_GE(checks, chunks[0] >= x.size() ? 1 : 3);
}

TEST(StreamingFeatures, LogMelEqualsOfflineForAnyChunking) {
  kws::FeatureOptions o;  // seed recipe: 512/160, 20 mel
  const std::vector<float> x = Noise(16000 * 5 + 123, 1);
  ExpectLastWindowExact(o, x, {1600}, 97);                   // 100 ms hops
  ExpectLastWindowExact(o, x, {1, 7, 160, 333, 4096, 2}, 97);  // ragged
  ExpectLastWindowExact(o, x, {100000}, 97);                  // everything at once
}

TEST(StreamingFeatures, MfccAndMlperfShapesEqualOffline) {
  kws::FeatureOptions o;
  o.frame_length_s = 0.030;
  o.frame_step_s = 0.020;
  o.num_mel_bins = 40;
  o.upper_hz = 4000;
  o.mfcc = 10;
  const std::vector<float> x = Noise(16000 * 3 + 77, 2);
  ExpectLastWindowExact(o, x, {320, 17, 1000}, 49);
}

TEST(StreamingFeatures, RingIsBoundedAndOldFramesAreGone) {
  kws::FeatureOptions o;
  kws::StreamingFeatures sf(o, 97);
  const size_t mem0 = sf.memory_bytes();
  const std::vector<float> chunk = Noise(16000, 4);
  for (int s = 0; s < 600; ++s) sf.AcceptWaveform(chunk.data(), chunk.size());  // 10 minutes
  EXPECT_EQ(sf.memory_bytes(), mem0);
  EXPECT_EQ(sf.NumFramesReady(), o.num_frames(16000 * 600));
  EXPECT_EQ(sf.FirstAvailableFrame(), sf.NumFramesReady() - 97);
  EXPECT_NO_THROW(sf.Frame(sf.NumFramesReady() - 1));
  EXPECT_THROW(sf.Frame(sf.FirstAvailableFrame() - 1), kws::Error);
  EXPECT_THROW(sf.Frame(sf.NumFramesReady()), kws::Error);
  std::vector<float> out(98 * 20);
  EXPECT_THROW(sf.CopyLastFrames(98, out.data()), kws::Error);  // more than the ring holds
  sf.Reset();
  EXPECT_EQ(sf.NumFramesReady(), 0);
  EXPECT_THROW(sf.CopyLastFrames(1, out.data()), kws::Error);
}

}  // namespace
