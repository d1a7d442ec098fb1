// Deterministic parallel loops.
//
// ParallelFor splits [0, n) into NumThreads() contiguous chunks, the same way
// for the same n and thread count, so any per-chunk reduction done in chunk
// order is bit-identical from run to run.
#pragma once
#include <functional>

namespace kws {

int NumThreads();            // defaults to the number of cores
void SetNumThreads(int n);   // n <= 0 restores the default

// For its lifetime, NumThreads() on the calling thread only is `n` (e.g. 1 for each of several models
// trained side by side on their own std::threads); the global count and other threads are unaffected.
class ThisThreadThreads {
 public:
  explicit ThisThreadThreads(int n);
  ~ThisThreadThreads();
  ThisThreadThreads(const ThisThreadThreads&) = delete;
  ThisThreadThreads& operator=(const ThisThreadThreads&) = delete;

 private:
  int saved_;
};

// fn(begin, end, chunk_index) for chunk_index in [0, chunks); chunks <= NumThreads().
void ParallelFor(long n, const std::function<void(long begin, long end, int chunk)>& fn);

}  // namespace kws
