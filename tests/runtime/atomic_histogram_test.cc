#include "lib/runtime/atomic_histogram.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hearth {
namespace {

using ::testing::ElementsAre;

TEST(AtomicHistogramTest, RecordsIntoBucketsClosedAbove) {
  AtomicHistogram histogram({1, 2, 4});
  for (double v : {0.5, 1.0, 1.5, 4.0, 5.0, -3.0}) histogram.Record(v);
  histogram.Record(std::nan(""));  // ignored
  Histogram h = histogram.Snapshot();
  EXPECT_THAT(h.upper_bounds, ElementsAre(1, 2, 4));
  EXPECT_THAT(h.counts, ElementsAre(3, 1, 1, 1));
  EXPECT_EQ(h.count, 6u);
  EXPECT_DOUBLE_EQ(h.sum, 9.0);
  EXPECT_DOUBLE_EQ(h.Mean(), 1.5);
}

TEST(AtomicHistogramTest, SortsItsBounds) {
  AtomicHistogram histogram({4, 1, 2, 2});
  histogram.Record(3);
  Histogram h = histogram.Snapshot();
  EXPECT_THAT(h.upper_bounds, ElementsAre(1, 2, 4));
  EXPECT_THAT(h.counts, ElementsAre(0, 0, 1, 0));
}

TEST(AtomicHistogramTest, DefaultsToLatencyBounds) {
  AtomicHistogram histogram;
  Histogram h = histogram.Snapshot();
  EXPECT_EQ(h.upper_bounds, DefaultLatencyBoundsMs());
  EXPECT_EQ(h.counts.size(), h.upper_bounds.size() + 1);
  EXPECT_EQ(h.count, 0u);
  EXPECT_EQ(h.Quantile(0.99), 0);
}

TEST(AtomicHistogramTest, QuantilesOfSkewedLatenciesAreWithinABucket) {
  // Log-normal "latencies" around 20 ms: each estimate must land within the 25% width
  // of the default buckets of the exact order statistic.
  std::mt19937 rng(7);
  std::lognormal_distribution<double> latency(std::log(20.0), 1.0);
  AtomicHistogram histogram;
  std::vector<double> samples(20'000);
  double sum = 0;
  for (double& s : samples) {
    s = latency(rng);
    sum += s;
    histogram.Record(s);
  }
  std::sort(samples.begin(), samples.end());
  Histogram h = histogram.Snapshot();
  EXPECT_EQ(h.count, samples.size());
  EXPECT_NEAR(h.sum, sum, 1e-6 * sum);
  for (double q : {0.5, 0.9, 0.95, 0.99, 0.999}) {
    // numpy.percentile's linear interpolation between order statistics.
    const double pos = q * static_cast<double>(samples.size() - 1);
    const size_t lo = static_cast<size_t>(pos);
    const double exact = samples[lo] + (samples[lo + 1] - samples[lo]) * (pos - lo);
    EXPECT_NEAR(h.Quantile(q), exact, 0.25 * exact) << q;
  }
}

TEST(AtomicHistogramTest, ConcurrentRecordsAllCountAndSnapshotsStayConsistent) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100'000;
  AtomicHistogram histogram({1, 2, 4, 8, 16, 32, 64});
  std::atomic<int> done{0};
  std::vector<std::thread> recorders;
  for (int t = 0; t < kThreads; ++t) {
    recorders.emplace_back([&histogram, &done, t] {
      // Multiples of 0.5 well below 2^52: every partial sum is exact in any order.
      for (int i = 0; i < kPerThread; ++i) histogram.Record(0.5 * ((i + t) % 160));
      done.fetch_add(1);
    });
  }
  // Snapshots while the recorders run: counts only grow, count is their sum.
  std::vector<uint64_t> last(8, 0);
  int snapshots = 0;
  while (done.load() < kThreads || snapshots == 0) {
    Histogram h = histogram.Snapshot();
    uint64_t total = 0;
    for (size_t i = 0; i < h.counts.size(); ++i) {
      ASSERT_GE(h.counts[i], last[i]);
      last[i] = h.counts[i];
      total += h.counts[i];
    }
    ASSERT_EQ(h.count, total);
    ASSERT_LE(h.count, uint64_t{kThreads} * kPerThread);
    ++snapshots;
  }
  for (std::thread& t : recorders) t.join();

  Histogram h = histogram.Snapshot();
  EXPECT_EQ(h.count, uint64_t{kThreads} * kPerThread);
  double want_sum = 0;
  std::vector<uint64_t> want(8, 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const double v = 0.5 * ((i + t) % 160);
      want_sum += v;
      const double bounds[] = {1, 2, 4, 8, 16, 32, 64};
      ++want[std::lower_bound(std::begin(bounds), std::end(bounds), v) - std::begin(bounds)];
    }
  }
  EXPECT_EQ(h.sum, want_sum);
  EXPECT_EQ(h.counts, want);
}

}  // namespace
}  // namespace hearth
