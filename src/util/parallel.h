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

// fn(begin, end, chunk_index) for chunk_index in [0, chunks); chunks <= NumThreads().
void ParallelFor(long n, const std::function<void(long begin, long end, int chunk)>& fn);

}  // namespace kws
