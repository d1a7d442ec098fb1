#include "util/parallel.h"

#include <omp.h>

#include <algorithm>
#include <exception>
#include <vector>
#include <thread>

namespace kws {
namespace {
int g_threads = 0;
}

int NumThreads() {
  if (g_threads > 0) return g_threads;
  unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? int(hc) : 1;
}

void SetNumThreads(int n) { g_threads = n > 0 ? n : 0; }

void ParallelFor(long n, const std::function<void(long, long, int)>& fn) {
  if (n <= 0) return;
  const int chunks = int(std::min<long>(NumThreads(), n));
  if (chunks == 1) { fn(0, n, 0); return; }
  // Exceptions must not escape an OpenMP region: keep the first one, rethrow after.
  std::vector<std::exception_ptr> errors(chunks);
#pragma omp parallel for num_threads(chunks) schedule(static, 1)
  for (int c = 0; c < chunks; ++c) {
    long begin = n * c / chunks, end = n * (c + 1) / chunks;
    try {
      fn(begin, end, c);
    } catch (...) {
      errors[c] = std::current_exception();
    }
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace kws
