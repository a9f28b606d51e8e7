#include "lib/runtime/thread_pool.h"

#include <atomic>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace hearth {
namespace {

TEST(ThreadPoolTest, StartsAndStopsWithoutWork) {
  for (int n : {1, 2, 4}) {
    ThreadPool pool(n);
    EXPECT_EQ(pool.size(), n);
  }
  ThreadPool automatic(0);
  EXPECT_GE(automatic.size(), 1);
}

TEST(ThreadPoolTest, CoversEveryIndexOnceInGrainAlignedRanges) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 5, 16, 17, 1000}) {
      for (int64_t grain : {1, 4, 16}) {
        // Plain (non-atomic) writes from the workers, read here after ParallelFor
        // returns: ParallelFor's return must order them before us.
        std::vector<int> hits(static_cast<size_t>(n), 0);
        pool.ParallelFor(n, grain, [&](int64_t begin, int64_t end) {
          EXPECT_LT(begin, end);
          EXPECT_EQ(begin % grain, 0);
          EXPECT_TRUE(end % grain == 0 || end == n);
          for (int64_t i = begin; i < end; ++i) ++hits[static_cast<size_t>(i)];
        });
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(hits[static_cast<size_t>(i)], 1)
              << "threads " << threads << " n " << n << " grain " << grain << " i " << i;
        }
      }
    }
  }
}

TEST(ThreadPoolTest, ManyShortLoopsInARow) {
  // The decode-step pattern: hundreds of tiny loops back to back, each reading what the
  // previous one wrote.
  ThreadPool pool(4);
  std::vector<int64_t> a(64, 1), b(64, 0);
  for (int round = 0; round < 500; ++round) {
    pool.ParallelFor(64, 8, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) b[i] = a[i] + (i == 0 ? 0 : a[i - 1] % 2);
    });
    std::swap(a, b);
  }
  std::atomic<int64_t> sum{0};
  pool.ParallelFor(64, 1, [&](int64_t begin, int64_t end) {
    int64_t local = 0;
    for (int64_t i = begin; i < end; ++i) local += a[i];
    sum.fetch_add(local);
  });
  int64_t want = 0;
  for (int64_t v : a) want += v;
  EXPECT_EQ(sum.load(), want);
}

}  // namespace
}  // namespace hearth
