// ThreadPool: a fixed set of worker threads for data-parallel loops in the forward pass.
//
// A decode step runs a few hundred short parallel loops (one per matrix product), so the
// cost of waking workers matters as much as the work: workers spin briefly on an atomic
// generation counter before sleeping on it (std::atomic::wait, a futex on Linux).
//
// Usage:
//   ThreadPool pool(4);
//   pool.ParallelFor(rows, 16, [&](int64_t begin, int64_t end) { ... });
//
// Thread-safety: ParallelFor may be called by one thread at a time (the owner of the
// pool); the calling thread takes part in the work.
#ifndef HEARTH_LIB_RUNTIME_THREAD_POOL_H_
#define HEARTH_LIB_RUNTIME_THREAD_POOL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace hearth {

class ThreadPool {
 public:
  // n_threads counts the calling thread; 0 means one per hardware thread.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Splits [0, n) into n_threads contiguous ranges whose boundaries are multiples of
  // `grain` (except the last end) and runs fn(begin, end) on each; returns when all are
  // done. Ranges may be empty and are then skipped.
  void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void WorkerLoop(int index);
  void RunShare(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_n_ = 0;
  int64_t job_grain_ = 1;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace hearth

#endif  // HEARTH_LIB_RUNTIME_THREAD_POOL_H_
