// ParallelFor on a small persistent thread pool.
//
// Why not an OpenMP parallel-for: libgomp's idle threads busy-wait (its
// OMP_WAIT_POLICY is read when the library loads, before main can change it),
// so on a machine whose other core is busy a 2-thread training step became up
// to 20x slower. Here workers spin briefly (a training step issues many short
// loops back to back) and then sleep on a condition variable.
//
// Determinism: chunk c always covers [n*c/chunks, n*(c+1)/chunks), whichever
// thread runs it, so per-chunk partial results reduced in chunk order are
// bit-identical from run to run for the same thread count.
#include "util/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KWS_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define KWS_CPU_RELAX() asm volatile("yield")
#else
#define KWS_CPU_RELAX() ((void)0)
#endif

namespace kws {
namespace {

int g_threads = 0;
constexpr int kSpinIterations = 2000;  // ~50 microseconds of pause before sleeping

class Pool {
 public:
  static Pool& Get() {
    static Pool pool;
    return pool;
  }

  // Runs fn(begin, end, c) for c in [0, chunks); the caller runs chunk 0.
  void Run(long n, int chunks, const std::function<void(long, long, int)>& fn) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);  // one parallel loop at a time
    EnsureWorkers(chunks - 1);
    errors_.assign(chunks, nullptr);
    job_ = &fn;
    n_ = n;
    chunks_ = chunks;
    // Every worker acknowledges every generation (idle ones at once), so no
    // worker can still be reading this job's fields when the next is published.
    pending_.store(int(workers_.size()), std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lk(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();

    RunChunk(0);

    for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
      if (spin < kSpinIterations) {
        KWS_CPU_RELAX();
      } else {
        std::unique_lock<std::mutex> lk(mutex_);
        done_cv_.wait(lk, [&] { return pending_.load(std::memory_order_acquire) == 0; });
      }
    }
    job_ = nullptr;
    for (auto& e : errors_)
      if (e) std::rethrow_exception(e);
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mutex_);
      stop_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  void EnsureWorkers(int count) {
    while (int(workers_.size()) < count) {
      int index = int(workers_.size()) + 1;  // worker i runs chunk i
      // The worker must wait for the generation after this one, even if it
      // starts running only after Run() has already published it.
      uint64_t seen = generation_.load(std::memory_order_acquire);
      workers_.emplace_back([this, index, seen] { WorkerLoop(index, seen); });
    }
  }

  void RunChunk(int c) {
    long begin = n_ * c / chunks_, end = n_ * (c + 1) / chunks_;
    try {
      (*job_)(begin, end, c);
    } catch (...) {
      errors_[c] = std::current_exception();
    }
  }

  void WorkerLoop(int index, uint64_t seen) {
    for (;;) {
      // Wait for a new generation: spin a little, then sleep.
      uint64_t g;
      int spin = 0;
      while ((g = generation_.load(std::memory_order_acquire)) == seen) {
        if (++spin < kSpinIterations) {
          KWS_CPU_RELAX();
        } else {
          std::unique_lock<std::mutex> lk(mutex_);
          cv_.wait(lk, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        }
      }
      seen = g;
      if (stop_) return;
      if (index < chunks_) RunChunk(index);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(mutex_);
        done_cv_.notify_one();
      }
    }
  }

  std::mutex run_mutex_, mutex_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  const std::function<void(long, long, int)>* job_ = nullptr;
  long n_ = 0;
  int chunks_ = 0;
  bool stop_ = false;
  std::vector<std::exception_ptr> errors_;
};

thread_local bool t_inside_parallel = false;
thread_local int t_threads = 0;  // ThisThreadThreads: 0 = the global count

}  // namespace

int NumThreads() {
  if (t_threads > 0) return t_threads;
  if (g_threads > 0) return g_threads;
  unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? int(hc) : 1;
}

void SetNumThreads(int n) { g_threads = n > 0 ? n : 0; }

ThisThreadThreads::ThisThreadThreads(int n) : saved_(t_threads) { t_threads = n > 0 ? n : 0; }
ThisThreadThreads::~ThisThreadThreads() { t_threads = saved_; }

void ParallelFor(long n, const std::function<void(long, long, int)>& fn) {
  if (n <= 0) return;
  const int chunks = int(std::min<long>(NumThreads(), n));
  // Nested loops (a ParallelFor inside a chunk) run serially in the caller.
  if (chunks == 1 || t_inside_parallel) {
    if (chunks == 1) {
      fn(0, n, 0);
    } else {
      for (int c = 0; c < chunks; ++c) fn(n * c / chunks, n * (c + 1) / chunks, c);
    }
    return;
  }
  t_inside_parallel = true;
  struct Reset { ~Reset() { t_inside_parallel = false; } } reset;
  Pool::Get().Run(n, chunks, [&](long b, long e, int c) {
    bool was = t_inside_parallel;
    t_inside_parallel = true;
    fn(b, e, c);
    t_inside_parallel = was;
  });
}

}  // namespace kws
