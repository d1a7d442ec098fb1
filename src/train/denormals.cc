#include "train/denormals.h"

#include "util/parallel.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace kws {

bool SetFlushDenormals(bool on) {
#if defined(__x86_64__) || defined(__i386__)
  constexpr unsigned kFtzDaz = 0x8040;  // FTZ (bit 15) | DAZ (bit 6)
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(on ? (csr | kFtzDaz) : (csr & ~kFtzDaz));
  return (csr & kFtzDaz) == kFtzDaz;
#elif defined(__aarch64__)
  constexpr unsigned long kFz = 1ul << 24;
  unsigned long fpcr;
  asm volatile("mrs %0, fpcr" : "=r"(fpcr));
  const unsigned long next = on ? (fpcr | kFz) : (fpcr & ~kFz);
  asm volatile("msr fpcr, %0" : : "r"(next));
  return (fpcr & kFz) != 0;
#else
  (void)on;
  return false;
#endif
}

namespace {
// Per thread: how many live scopes cover it and the state before the first one,
// so nested scopes (or a scope's chunks run serially on one thread) restore correctly.
thread_local int t_depth = 0;
thread_local bool t_prev = false;

void Enter() {
  if (t_depth++ == 0) t_prev = SetFlushDenormals(true);
}
void Leave() {
  if (--t_depth == 0) SetFlushDenormals(t_prev);
}
}  // namespace

// ParallelFor(NumThreads()) runs chunk c on pool thread c (chunk 0 on the caller).
FlushDenormalsScope::FlushDenormalsScope() : threads_(NumThreads()) {
  ParallelFor(threads_, [](long, long, int) { Enter(); });
}

FlushDenormalsScope::~FlushDenormalsScope() {
  ParallelFor(threads_, [](long, long, int) { Leave(); });
}

}  // namespace kws
