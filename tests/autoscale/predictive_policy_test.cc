#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hearth/scaling_policies.h"
#include "tests/autoscale/load_series.h"

namespace hearth {
namespace {

using ::hearth::testing::T;
using ::testing::HasSubstr;

std::unique_ptr<ScalingPolicy> Predictive(const PredictiveConfig& config) {
  absl::StatusOr<std::unique_ptr<ScalingPolicy>> policy = MakePredictivePolicy(config);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return *std::move(policy);
}

// Requests arriving at `rate` per second, each served for `service_s` seconds.
LoadSample Arrivals(double t, double rate, double service_s, int ready = 1) {
  LoadSample s;
  s.time = T(t);
  s.ready_replicas = ready;
  s.arrival_rate = rate;
  s.in_flight = rate * service_s;
  return s;
}

PredictiveConfig TestConfig() {
  PredictiveConfig c;
  c.target_concurrency = 10;
  c.headroom = 1;
  c.scale_down_delay = absl::ZeroDuration();
  return c;
}

TEST(PredictivePolicyTest, NeverBelowTheCurrentNeed) {
  auto policy = Predictive(TestConfig());
  LoadSample s = Arrivals(0, 0, 0);
  s.in_flight = 25;
  s.queue_depth = 10;
  ASSERT_TRUE(policy->Observe(s).ok());
  EXPECT_EQ(policy->Recommend(T(0)).desired_replicas, 4);  // ceil(35 / 10)
}

TEST(PredictivePolicyTest, LearnsTheServiceTimeByLittlesLaw) {
  auto policy = Predictive(TestConfig());
  for (int t = 0; t < 600; ++t) ASSERT_TRUE(policy->Observe(Arrivals(t, 4, 5)).ok());
  ScalingDecision d = policy->Recommend(T(599));
  EXPECT_EQ(d.desired_replicas, 2);  // 4 req/s x 5 s = 20 in flight
  EXPECT_THAT(d.reason, HasSubstr("service 5s"));
}

TEST(PredictivePolicyTest, HeadroomAddsReplicas) {
  PredictiveConfig c = TestConfig();
  c.headroom = 1.5;
  auto policy = Predictive(c);
  for (int t = 0; t < 120; ++t) ASSERT_TRUE(policy->Observe(Arrivals(t, 4, 5)).ok());
  EXPECT_EQ(policy->Recommend(T(119)).desired_replicas, 3);  // ceil(20 x 1.5 / 10)
}

TEST(PredictivePolicyTest, ProvisionsAheadOfARisingTrendByTheColdStart) {
  // The rate climbs 1 req/s every minute, 2 s of service: need grows 0.2 replica/min.
  const auto feed = [](ScalingPolicy& p) {
    for (int t = 0; t < 1800; ++t) ASSERT_TRUE(p.Observe(Arrivals(t, 1 + t / 60.0, 2)).ok());
  };
  auto now_only = Predictive(TestConfig());
  feed(*now_only);
  now_only->SetColdStart(absl::ZeroDuration());
  const int at_zero_lead = now_only->Recommend(T(1799)).desired_replicas;
  EXPECT_EQ(at_zero_lead, 7);  // 31 req/s x 2 s / 10 = 6.2

  auto ahead = Predictive(TestConfig());
  feed(*ahead);
  ahead->SetColdStart(absl::Minutes(10));                    // 10 req/s more by then
  EXPECT_EQ(ahead->Recommend(T(1799)).desired_replicas, 9);  // ~41 x 2 / 10 = 8.2
}

TEST(PredictivePolicyTest, SeasonalForecastScalesBeforeTheDailyPeak) {
  // A 10-minute "day": 5 quiet minutes at 1 req/s, 5 busy ones at 20 req/s, 2 s each.
  PredictiveConfig c = TestConfig();
  c.season_period = absl::Minutes(10);
  c.cold_start = absl::Minutes(1);
  const auto rate = [](int t) { return (t / 60) % 10 < 5 ? 1.0 : 20.0; };
  auto policy = Predictive(c);
  for (int t = 0; t < 1470; ++t) ASSERT_TRUE(policy->Observe(Arrivals(t, rate(t), 2)).ok());
  // At 1470 s it is still quiet (need 1), but the peak starts at 1500 s, within a cold
  // start: 20 x 2 / 10 = 4 replicas now.
  ScalingDecision d = policy->Recommend(T(1469));
  EXPECT_GE(d.desired_replicas, 4);
  EXPECT_LE(d.desired_replicas, 5);
  EXPECT_THAT(d.reason, HasSubstr("seasonal"));

  // Without seasonality (a day longer than the history) the forecast sees only the lull.
  PredictiveConfig flat = c;
  flat.season_period = absl::Hours(24);
  auto holt = Predictive(flat);
  for (int t = 0; t < 1470; ++t) ASSERT_TRUE(holt->Observe(Arrivals(t, rate(t), 2)).ok());
  EXPECT_EQ(holt->Recommend(T(1469)).desired_replicas, 1);
}

TEST(PredictivePolicyTest, ScaleDownDelayHoldsThePeak) {
  PredictiveConfig c = TestConfig();
  c.scale_down_delay = absl::Seconds(60);
  auto policy = Predictive(c);
  ASSERT_TRUE(policy->Observe(Arrivals(0, 20, 2)).ok());
  EXPECT_EQ(policy->Recommend(T(0)).desired_replicas, 4);
  ASSERT_TRUE(policy->Observe(Arrivals(30, 0, 0)).ok());
  EXPECT_EQ(policy->Recommend(T(30)).desired_replicas, 4);
  ASSERT_TRUE(policy->Observe(Arrivals(61, 0, 0)).ok());
  EXPECT_LT(policy->Recommend(T(61)).desired_replicas, 4);
}

TEST(PredictivePolicyTest, LongGapIsBridgedWithoutOneStepPerBin) {
  // After five 10-minute seasons, nothing is observed for about 190 years of 1-minute
  // bins (1e8 of them): the next sample is taken at once, and the forecast still knows
  // the busy half of the season (4 replicas), not more.
  PredictiveConfig c = TestConfig();
  c.season_period = absl::Minutes(10);
  const auto rate = [](int t) { return (t / 60) % 10 < 5 ? 1.0 : 20.0; };
  auto policy = Predictive(c);
  for (int t = 0; t < 3000; ++t) ASSERT_TRUE(policy->Observe(Arrivals(t, rate(t), 2)).ok());
  const double later = 3000 + 600.0 * 10'000'000 + 5 * 60;
  ASSERT_TRUE(policy->Observe(Arrivals(later, 1, 2)).ok());
  const int desired = policy->Recommend(T(later + 60)).desired_replicas;
  EXPECT_EQ(desired, 4);
}

TEST(PredictivePolicyTest, RejectsBadConfig) {
  PredictiveConfig c;
  c.season_period = absl::Seconds(90);  // not a whole number of 60-s bins
  EXPECT_THAT(MakePredictivePolicy(c).status().message(), HasSubstr("season_period"));
  c = PredictiveConfig();
  c.headroom = 0.5;
  EXPECT_THAT(MakePredictivePolicy(c).status().message(), HasSubstr("headroom"));
  c = PredictiveConfig();
  c.target_concurrency = 0;
  EXPECT_EQ(MakePredictivePolicy(c).status().code(), absl::StatusCode::kInvalidArgument);
  c = PredictiveConfig();
  c.bin = absl::ZeroDuration();
  EXPECT_THAT(MakePredictivePolicy(c).status().message(), HasSubstr("bin"));
  c = PredictiveConfig();
  c.level_smoothing = 0;
  EXPECT_EQ(MakePredictivePolicy(c).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hearth
