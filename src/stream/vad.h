// Energy voice-activity gate for the streaming detector.
//
// Audio is cut into 10 ms blocks; each block's level is
//   dBFS = 10·log10(mean(x²))   (0 dBFS = a full-scale square wave, RMS 1.0;
//                                 a full-scale sine is −3 dBFS)
// A block is "loud" when its level is >= threshold_dbfs. The gate is open when
// a run of at least ceil(min_ms / 10) consecutive loud blocks ended (or is still
// going) within the last hold_ms of audio — the detector passes the model window
// length, so the model runs whenever its input window contains such a run.
// Memory: a few counters (no buffers).
#pragma once
#include <cstddef>
#include <cstdint>

namespace kws {

class EnergyVad {
 public:
  EnergyVad(int sample_rate, double threshold_dbfs, double min_ms, double hold_ms);
  void Accept(const float* x, size_t n);
  bool Active() const;
  double last_block_dbfs() const { return last_dbfs_; }
  int64_t blocks() const { return blocks_; }

 private:
  int block_ = 160;
  double threshold_ = -50;
  int min_blocks_ = 10;
  int64_t hold_blocks_ = 100;
  double acc_ = 0;   // sum of squares of the current partial block
  int fill_ = 0;
  int64_t blocks_ = 0;
  int64_t run_ = 0;
  int64_t last_qualified_ = -1;  // index of the newest block that completed a long enough run
  double last_dbfs_ = -200;
};

}  // namespace kws
