#include "hearth/keep_alive.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <string_view>

namespace hearth {
namespace {

std::unique_ptr<KeepAlivePolicy> Policy(std::string_view name) {
  absl::StatusOr<std::unique_ptr<KeepAlivePolicy>> p = MakeKeepAlivePolicy(name);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : nullptr;
}

std::unique_ptr<KeepAlivePolicy> Hybrid(HybridKeepAliveConfig config = {}) {
  absl::StatusOr<std::unique_ptr<KeepAlivePolicy>> p = MakeHybridKeepAlive(config);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : nullptr;
}

// Durations scaled by a double round to the nanosecond.
void ExpectNear(absl::Duration actual, absl::Duration expected) {
  EXPECT_LE(absl::AbsDuration(actual - expected), absl::Microseconds(1))
      << actual << " vs " << expected;
}

void Record(KeepAlivePolicy& p, absl::Duration idle, int times) {
  for (int i = 0; i < times; ++i) ASSERT_TRUE(p.RecordIdleTime("m", idle).ok());
}

TEST(KeepAliveTest, FixedDefaultsToTenMinutes) {
  std::unique_ptr<KeepAlivePolicy> p = Policy("fixed");
  EXPECT_EQ(p->name(), "fixed:600");
  KeepAliveWindow w = p->WindowFor("any");
  EXPECT_EQ(w.prewarm, absl::ZeroDuration());
  EXPECT_EQ(w.keep_alive, absl::Minutes(10));
  // What it has seen does not matter.
  Record(*p, absl::Seconds(5), 100);
  EXPECT_EQ(p->WindowFor("m").keep_alive, absl::Minutes(10));
}

TEST(KeepAliveTest, FixedWithSecondsAndImmediate) {
  EXPECT_EQ(Policy("fixed:30")->WindowFor("m").keep_alive, absl::Seconds(30));
  EXPECT_EQ(Policy("fixed:0.5")->WindowFor("m").keep_alive, absl::Milliseconds(500));
  std::unique_ptr<KeepAlivePolicy> immediate = Policy("immediate");
  EXPECT_EQ(immediate->name(), "immediate");
  EXPECT_EQ(immediate->WindowFor("m").keep_alive, absl::ZeroDuration());
}

TEST(KeepAliveTest, BadNamesAreRejected) {
  for (std::string_view name :
       {"", "fixed:", "fixed:-1", "fixed:abc", "fixed:inf", "lru", "hybrid:3"}) {
    EXPECT_EQ(MakeKeepAlivePolicy(name).status().code(), absl::StatusCode::kInvalidArgument)
        << name;
  }
  EXPECT_EQ(MakeFixedKeepAlive(absl::Seconds(-1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeFixedKeepAlive(absl::InfiniteDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KeepAliveTest, NegativeIdleTimeIsRejected) {
  for (std::string_view name : {"fixed", "hybrid"}) {
    std::unique_ptr<KeepAlivePolicy> p = Policy(name);
    EXPECT_EQ(p->RecordIdleTime("m", absl::Seconds(-1)).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(p->RecordIdleTime("m", absl::InfiniteDuration()).code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(KeepAliveTest, HybridConfigErrorsNameTheField) {
  auto code_of = [](HybridKeepAliveConfig c) { return MakeHybridKeepAlive(c).status(); };
  HybridKeepAliveConfig c;
  c.bin = absl::ZeroDuration();
  EXPECT_EQ(code_of(c).code(), absl::StatusCode::kInvalidArgument);
  c = {};
  c.range = absl::Seconds(90);  // not a multiple of 1 minute
  EXPECT_EQ(code_of(c).code(), absl::StatusCode::kInvalidArgument);
  c = {};
  c.head_percentile = 50;
  c.tail_percentile = 40;
  EXPECT_EQ(code_of(c).code(), absl::StatusCode::kInvalidArgument);
  c = {};
  c.tail_percentile = 101;
  EXPECT_NE(code_of(c).message().find("tail_percentile"), std::string_view::npos);
  c = {};
  c.margin = 1;
  EXPECT_NE(code_of(c).message().find("margin"), std::string_view::npos);
  c = {};
  c.min_samples = 0;
  EXPECT_NE(code_of(c).message().find("min_samples"), std::string_view::npos);
  c = {};
  c.min_cv = std::nan("");
  EXPECT_NE(code_of(c).message().find("min_cv"), std::string_view::npos);
  c = {};
  c.forecast_alpha = 0;
  EXPECT_NE(code_of(c).message().find("forecast_alpha"), std::string_view::npos);
  c = {};
  c.max_out_of_bounds_share = 1.5;
  EXPECT_NE(code_of(c).message().find("max_out_of_bounds_share"), std::string_view::npos);
}

TEST(KeepAliveTest, HybridWithoutHistoryKeepsTheWholeRange) {
  std::unique_ptr<KeepAlivePolicy> p = Hybrid();
  KeepAliveWindow w = p->WindowFor("never-seen");
  EXPECT_EQ(w.prewarm, absl::ZeroDuration());
  EXPECT_EQ(w.keep_alive, absl::Hours(4));
}

TEST(KeepAliveTest, HybridTooFewSamplesIsNotRepresentative) {
  std::unique_ptr<KeepAlivePolicy> p = Hybrid();
  Record(*p, absl::Minutes(10) + absl::Seconds(30), 9);  // min_samples is 10
  EXPECT_EQ(p->WindowFor("m").prewarm, absl::ZeroDuration());
  EXPECT_EQ(p->WindowFor("m").keep_alive, absl::Hours(4));
  Record(*p, absl::Minutes(10) + absl::Seconds(30), 1);
  EXPECT_GT(p->WindowFor("m").prewarm, absl::ZeroDuration());
}

TEST(KeepAliveTest, HybridPercentilesOfAHandBuiltSeries) {
  std::unique_ptr<KeepAlivePolicy> p = Hybrid();
  // 20 idle times: one in bin 2 (2-3 min), 18 in bin 10, one in bin 30.
  Record(*p, absl::Seconds(150), 1);
  Record(*p, absl::Seconds(630), 18);
  Record(*p, absl::Seconds(1810), 1);
  // 5th percentile: rank ceil(1) = 1 -> bin 2, lower edge 2 min; pre-warm 2 min - 10 %.
  // 99th percentile: rank ceil(19.8) = 20 -> bin 30, upper edge 31 min; the instance lives
  // to 31 min + 10 % = 34.1 min after idle start.
  KeepAliveWindow w = p->WindowFor("m");
  ExpectNear(w.prewarm, absl::Seconds(108));
  ExpectNear(w.prewarm + w.keep_alive, absl::Seconds(2046));
  // Other models have their own histograms.
  EXPECT_EQ(p->WindowFor("other").keep_alive, absl::Hours(4));
}

TEST(KeepAliveTest, HybridHeadInFirstBinMeansNoPrewarm) {
  std::unique_ptr<KeepAlivePolicy> p = Hybrid();
  Record(*p, absl::Seconds(20), 5);
  Record(*p, absl::Seconds(200), 15);
  KeepAliveWindow w = p->WindowFor("m");
  EXPECT_EQ(w.prewarm, absl::ZeroDuration());
  ExpectNear(w.keep_alive, absl::Seconds(264));
}

TEST(KeepAliveTest, HybridSpreadOutHistogramIsNotRepresentative) {
  std::unique_ptr<KeepAlivePolicy> p = Hybrid();
  // One idle time in each of 60 bins: CV = sqrt(240 / 60 - 1) = 1.73 < 2.
  for (int minute = 0; minute < 60; ++minute) {
    Record(*p, absl::Minutes(minute) + absl::Seconds(30), 1);
  }
  KeepAliveWindow w = p->WindowFor("m");
  EXPECT_EQ(w.prewarm, absl::ZeroDuration());
  EXPECT_EQ(w.keep_alive, absl::Hours(4));
  // One in each of 40 bins: CV = sqrt(240 / 40 - 1) = 2.24, representative again.
  std::unique_ptr<KeepAlivePolicy> q = Hybrid();
  for (int minute = 100; minute < 140; ++minute) {
    Record(*q, absl::Minutes(minute) + absl::Seconds(30), 1);
  }
  // 5th percentile: rank ceil(2) = 2 -> bin 101.
  ExpectNear(q->WindowFor("m").prewarm, absl::Minutes(101) * 0.9);
}

TEST(KeepAliveTest, HybridOutOfBoundsUsesTheForecast) {
  std::unique_ptr<KeepAlivePolicy> p = Hybrid();
  Record(*p, absl::Hours(6), 8);
  Record(*p, absl::Hours(5), 4);  // smoothed: 6 h then halfway to 5 h four times
  const absl::Duration forecast = absl::Hours(5) + absl::Hours(1) / 16;
  KeepAliveWindow w = p->WindowFor("m");
  ExpectNear(w.prewarm, forecast * 0.85);
  ExpectNear(w.keep_alive, forecast * 0.30);
}

TEST(KeepAliveTest, HybridWindowsStayInBoundsOnRandomSeries) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    std::unique_ptr<KeepAlivePolicy> p = Hybrid();
    std::exponential_distribution<double> minutes(1.0 / (5.0 * seed));
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(p->RecordIdleTime("m", absl::Seconds(60 * minutes(rng))).ok());
      KeepAliveWindow w = p->WindowFor("m");
      ASSERT_GE(w.prewarm, absl::ZeroDuration());
      ASSERT_GT(w.keep_alive, absl::ZeroDuration());
      // Means of at most 100 minutes: few idle times pass 4 hours, so the histogram
      // decides, and the instance never outlives the range plus the margin.
      ASSERT_LE(w.prewarm + w.keep_alive, absl::Hours(4) * 1.1) << seed;
    }
  }
}

}  // namespace
}  // namespace hearth
