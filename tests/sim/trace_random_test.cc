#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "lib/sim/trace_random.h"

namespace hearth::trace_internal {
namespace {

struct Moments {
  double mean = 0;
  double variance = 0;
};

template <typename Draw>
Moments MomentsOf(int n, Draw draw) {
  double sum = 0;
  double sum_sq = 0;
  for (int i = 0; i < n; ++i) {
    const double x = draw();
    sum += x;
    sum_sq += x * x;
  }
  const double mean = sum / n;
  return {mean, sum_sq / n - mean * mean};
}

TEST(TraceRngTest, GammaHasMeanAndVarianceShape) {
  for (double shape : {0.3, 1.0, 2.5, 9.0}) {
    TraceRng rng(11);
    const Moments m = MomentsOf(200000, [&] { return std::exp(rng.LogGamma(shape)); });
    EXPECT_NEAR(m.mean, shape, 0.02 * shape + 0.01) << shape;
    EXPECT_NEAR(m.variance, shape, 0.06 * shape + 0.01) << shape;
  }
}

TEST(TraceRngTest, WeibullHasItsMean) {
  for (double shape : {0.5, 1.0, 3.0}) {
    TraceRng rng(12);
    const Moments m = MomentsOf(200000, [&] { return std::exp(rng.LogWeibull(shape)); });
    const double mean = std::tgamma(1 + 1 / shape);
    EXPECT_NEAR(m.mean, mean, 0.03 * mean) << shape;
  }
}

TEST(TraceRngTest, TinyGammaShapesStayFinite) {
  TraceRng rng(13);
  for (int i = 0; i < 10000; ++i) {
    const double x = rng.LogGamma(0.006);
    ASSERT_TRUE(std::isfinite(x));
  }
}

TEST(TraceRngTest, NormalIsStandard) {
  TraceRng rng(14);
  const Moments m = MomentsOf(200000, [&] { return rng.Normal(); });
  EXPECT_NEAR(m.mean, 0, 0.01);
  EXPECT_NEAR(m.variance, 1, 0.02);
}

TEST(TraceRngTest, BelowIsUniformAndInRange) {
  TraceRng rng(15);
  std::vector<int> hits(7);
  for (int i = 0; i < 70000; ++i) {
    const uint64_t k = rng.Below(7);
    ASSERT_LT(k, 7u);
    ++hits[k];
  }
  for (int h : hits) EXPECT_NEAR(h, 10000, 500);
}

TEST(TraceRngTest, SameSeedSameStream) {
  TraceRng a(MixSeed(1, 2));
  TraceRng b(MixSeed(1, 2));
  TraceRng c(MixSeed(1, 3));
  const double first = a.Uniform();
  EXPECT_EQ(first, b.Uniform());
  EXPECT_NE(first, c.Uniform());
  EXPECT_NE(HashName("m-large"), HashName("m-mid"));
  EXPECT_EQ(HashName("abc"), 0xe71fa2190541574bULL);  // FNV-1a 64 of "abc"
}

}  // namespace
}  // namespace hearth::trace_internal
