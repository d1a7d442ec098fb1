// Flush-to-zero for subnormal floats while training, on the calling thread and
// every ParallelFor worker (TensorFlow does the same in its training threads).
//
// Why: once the seed model fits its training batches, the softmax gradients
// (p - y) shrink to ~1e-30 and the backward pass through four convolutions
// produces subnormal floats; on x86 every FMA touching one then takes a
// microcode assist, which made an 80-epoch run 3x slower from epoch 3 on.
// With FTZ/DAZ those values become 0 (they are below 1.2e-38, far below
// anything Adam can act on). Results stay bit-identical run to run.
//
//   { FlushDenormalsScope ftz;  ... forward/backward/optimizer ... }  // restored after
#pragma once
namespace kws {

// Sets (on = true) or clears FTZ+DAZ (x86 MXCSR) / FZ (AArch64 FPCR) on the
// calling thread; returns the previous state. No-op (returns false) elsewhere.
bool SetFlushDenormals(bool on);

class FlushDenormalsScope {
 public:
  FlushDenormalsScope();   // on this thread and every pool worker
  ~FlushDenormalsScope();  // restores each thread's previous state
  FlushDenormalsScope(const FlushDenormalsScope&) = delete;
  FlushDenormalsScope& operator=(const FlushDenormalsScope&) = delete;

 private:
  long threads_;
};

}  // namespace kws
