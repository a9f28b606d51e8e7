#include "hearth/histogram.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace hearth {
namespace {

Histogram Make(std::vector<double> bounds, std::vector<uint64_t> counts, double sum = 0) {
  Histogram h;
  h.upper_bounds = std::move(bounds);
  h.counts = std::move(counts);
  for (uint64_t c : h.counts) h.count += c;
  h.sum = sum;
  return h;
}

TEST(HistogramTest, EmptyIsZero) {
  Histogram h = Make({1, 2, 4}, {0, 0, 0, 0});
  EXPECT_EQ(h.Mean(), 0);
  for (double q : {0.0, 0.5, 0.99, 1.0}) EXPECT_EQ(h.Quantile(q), 0) << q;
  EXPECT_EQ(Histogram{}.Quantile(0.5), 0);
  EXPECT_EQ(Histogram{}.Mean(), 0);
}

TEST(HistogramTest, Mean) {
  EXPECT_DOUBLE_EQ(Make({1, 2, 4}, {1, 1, 1, 1}, 10).Mean(), 2.5);
}

TEST(HistogramTest, InterpolatesInsideTheBucket) {
  // One sample in (2, 4]: quantiles spread it evenly over the bucket.
  Histogram h = Make({1, 2, 4, 8}, {0, 0, 1, 0, 0});
  EXPECT_DOUBLE_EQ(h.Quantile(0.5), 3);
  EXPECT_DOUBLE_EQ(h.Quantile(0.25), 2.5);
  EXPECT_DOUBLE_EQ(h.Quantile(1), 4);
  // q = 0: the lower edge of the first non-empty bucket (Prometheus would give NaN).
  EXPECT_DOUBLE_EQ(h.Quantile(0), 2);
}

TEST(HistogramTest, FirstBucketStartsAtZero) {
  Histogram h = Make({1, 2}, {4, 0, 0});
  EXPECT_DOUBLE_EQ(h.Quantile(0.5), 0.5);
  EXPECT_DOUBLE_EQ(h.Quantile(0), 0);
  EXPECT_DOUBLE_EQ(h.Quantile(1), 1);
}

TEST(HistogramTest, OverflowReportsTheLastBound) {
  Histogram h = Make({1, 2, 4, 8}, {1, 0, 0, 0, 3});
  EXPECT_DOUBLE_EQ(h.Quantile(0.5), 8);
  EXPECT_DOUBLE_EQ(h.Quantile(0.99), 8);
  EXPECT_DOUBLE_EQ(h.Quantile(0.25), 1);
}

TEST(HistogramTest, MatchesPrometheusHistogramQuantile) {
  // Cumulative: le=1: 2, le=2: 2, le=4: 5, le=8: 10, +Inf: 10.
  Histogram h = Make({1, 2, 4, 8}, {2, 0, 3, 5, 0});
  EXPECT_DOUBLE_EQ(h.Quantile(0.1), 0.5);
  EXPECT_DOUBLE_EQ(h.Quantile(0.2), 1);  // rank 2 ends the first bucket
  EXPECT_DOUBLE_EQ(h.Quantile(0.25), 2 + 2 * (0.5 / 3));
  EXPECT_DOUBLE_EQ(h.Quantile(0.5), 4);
  EXPECT_DOUBLE_EQ(h.Quantile(0.9), 4 + 4 * (4.0 / 5));
  EXPECT_DOUBLE_EQ(h.Quantile(1), 8);
  EXPECT_DOUBLE_EQ(h.Quantile(0), 0);
}

TEST(HistogramTest, ClampsQ) {
  Histogram h = Make({1, 2, 4, 8}, {2, 0, 3, 5, 0});
  EXPECT_DOUBLE_EQ(h.Quantile(-1), h.Quantile(0));
  EXPECT_DOUBLE_EQ(h.Quantile(7), h.Quantile(1));
  EXPECT_DOUBLE_EQ(h.Quantile(std::nan("")), h.Quantile(0));
}

TEST(HistogramTest, MalformedCountsGiveZero) {
  EXPECT_EQ(Make({1, 2}, {1, 1}).Quantile(0.5), 0);
}

TEST(HistogramTest, NoBoundsGivesTheMean) {
  EXPECT_DOUBLE_EQ(Make({}, {4}, 10).Quantile(0.5), 2.5);
}

TEST(HistogramTest, UniformDataMatchesNumpyPercentile) {
  // 1,000 samples 0.05, 0.15, ..., 99.95 in buckets one wide: each holds ten.
  std::vector<double> bounds;
  for (int i = 1; i <= 100; ++i) bounds.push_back(i);
  std::vector<uint64_t> counts(101, 10);
  counts.back() = 0;
  Histogram h = Make(bounds, counts);
  // numpy.percentile(0.1 * (np.arange(1000) + 0.5), 100 * q) (linear method).
  const struct {
    double q, numpy;
  } cases[] = {{0.5, 50.0}, {0.9, 89.96}, {0.99, 98.951}, {0.999, 99.8501}, {0.1, 10.04}};
  for (const auto& c : cases) EXPECT_NEAR(h.Quantile(c.q), c.numpy, 0.11) << c.q;
}

TEST(HistogramTest, DefaultBoundsAreGeometricFromHalfAMillisecondToTenMinutes) {
  const std::vector<double> bounds = DefaultLatencyBoundsMs();
  ASSERT_GE(bounds.size(), 2u);
  EXPECT_DOUBLE_EQ(bounds.front(), 0.5);
  for (size_t i = 1; i < bounds.size(); ++i) {
    EXPECT_NEAR(bounds[i] / bounds[i - 1], 1.25, 1e-9) << i;
  }
  EXPECT_GE(bounds.back(), 600'000);
  EXPECT_LT(bounds[bounds.size() - 2], 600'000);
  EXPECT_LE(bounds.back(), 600'000 * 1.25);
}

}  // namespace
}  // namespace hearth
