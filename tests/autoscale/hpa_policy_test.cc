#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hearth/scaling_policies.h"
#include "tests/autoscale/load_series.h"

namespace hearth {
namespace {

using ::hearth::testing::Load;
using ::hearth::testing::T;
using ::testing::HasSubstr;

std::unique_ptr<ScalingPolicy> Hpa(const HpaConfig& config = HpaConfig()) {
  absl::StatusOr<std::unique_ptr<ScalingPolicy>> policy = MakeHpaPolicy(config);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return *std::move(policy);
}

// Feeds one sample per second over [from, to) and returns the recommendation at `to`.
int Feed(ScalingPolicy& policy, double from, double to, int ready, double per_replica,
         int starting = 0) {
  for (double t = from; t < to; t += 1) {
    EXPECT_TRUE(policy.Observe(Load(t, ready, per_replica * ready, starting)).ok());
  }
  EXPECT_TRUE(policy.Observe(Load(to, ready, per_replica * ready, starting)).ok());
  return policy.Recommend(T(to)).desired_replicas;
}

TEST(HpaPolicyTest, DesiredIsCeilOfCurrentTimesRatio) {
  auto hpa = Hpa();                        // concurrency target 70 per replica
  EXPECT_EQ(Feed(*hpa, 0, 0, 2, 140), 4);  // ratio 2
  auto hpa2 = Hpa();
  EXPECT_EQ(Feed(*hpa2, 0, 0, 3, 100), 5);  // ceil(3 x 100 / 70) = ceil(4.29)
  HpaConfig no_window;
  no_window.scale_down.stabilization_window = absl::ZeroDuration();
  auto hpa3 = Hpa(no_window);
  EXPECT_EQ(Feed(*hpa3, 0, 0, 4, 35), 2);  // ratio 0.5
}

TEST(HpaPolicyTest, NewPolicyHoldsTheCurrentCountForAScaleDownWindow) {
  // As Kubernetes does, the window starts with the current count.
  auto hpa = Hpa();
  EXPECT_EQ(Feed(*hpa, 0, 0, 4, 35), 4);
  EXPECT_EQ(Feed(*hpa, 1, 299, 4, 35), 4);
  EXPECT_EQ(Feed(*hpa, 300, 314, 4, 35), 2);  // the 0 s count has left the window
}

TEST(HpaPolicyTest, NoChangeWithinTolerance) {
  auto inside = Hpa();
  EXPECT_EQ(Feed(*inside, 0, 0, 4, 70 * 1.09), 4);
  auto below = Hpa();
  EXPECT_EQ(Feed(*below, 0, 0, 4, 70 * 0.91), 4);
  auto outside = Hpa();
  EXPECT_EQ(Feed(*outside, 0, 0, 4, 70 * 1.15), 5);  // ceil(4.6)
}

TEST(HpaPolicyTest, SeveralMetricsTakeTheLargest) {
  HpaConfig config;
  config.metrics = {{HpaMetric::kConcurrency, 70}, {HpaMetric::kUtilization, 0.5}};
  auto hpa = Hpa(config);
  LoadSample s = Load(0, 2, 70);  // concurrency ratio 0.5
  s.utilization = 1.0;            // utilization ratio 2
  ASSERT_TRUE(hpa->Observe(s).ok());
  ScalingDecision d = hpa->Recommend(T(0));
  EXPECT_EQ(d.desired_replicas, 4);
  EXPECT_THAT(d.reason, HasSubstr("utilization"));
}

TEST(HpaPolicyTest, MetricIsAveragedOverTheSyncPeriod) {
  auto hpa = Hpa();
  ASSERT_EQ(Feed(*hpa, 0, 0, 2, 70), 2);
  // 7 samples at 70 per replica, 8 at 201.25: the mean, 140 per replica, is ratio 2 (the
  // last sample alone would be ratio 2.875).
  for (int t = 1; t <= 15; ++t) {
    ASSERT_TRUE(hpa->Observe(Load(t, 2, t <= 7 ? 140 : 402.5)).ok());
  }
  EXPECT_EQ(hpa->Recommend(T(15)).desired_replicas, 4);
}

TEST(HpaPolicyTest, DecidesOncePerSyncPeriod) {
  auto hpa = Hpa();
  EXPECT_EQ(Feed(*hpa, 0, 0, 2, 70), 2);
  EXPECT_EQ(Feed(*hpa, 1, 14, 2, 280), 2);   // within the period: the last decision
  EXPECT_EQ(Feed(*hpa, 15, 15, 2, 280), 6);  // ratio 4 -> 8, limited to max(2+4, 2x2)
}

TEST(HpaPolicyTest, StartingReplicasCountAsIdleOnScaleUp) {
  auto hpa = Hpa();
  // 2 ready at 105 each (ratio 1.5) but 2 more starting: 210 over 4 is 0.75 of the
  // target, so the scale-up no longer holds and the count stays.
  EXPECT_EQ(Feed(*hpa, 0, 0, 2, 105, /*starting=*/2), 4);
  auto busier = Hpa();
  // 2 x 280 over 4 replicas: ratio 2 -> 8.
  EXPECT_EQ(Feed(*busier, 0, 0, 2, 280, /*starting=*/2), 8);
}

TEST(HpaPolicyTest, ShortDipDoesNotScaleDown) {
  auto hpa = Hpa();
  EXPECT_EQ(Feed(*hpa, 0, 45, 4, 70), 4);
  for (double t = 46; t <= 245; t += 15) {
    EXPECT_EQ(Feed(*hpa, t, t + 14, 4, 20), 4) << t;  // 200 s at under a third
  }
  EXPECT_EQ(Feed(*hpa, 260, 600, 4, 70), 4);
}

TEST(HpaPolicyTest, DipLongerThanTheWindowScalesDown) {
  auto hpa = Hpa();
  EXPECT_EQ(Feed(*hpa, 0, 45, 4, 70), 4);  // syncs at 0, 15, 30, 45
  for (int t = 60; t <= 330; t += 15) {
    EXPECT_EQ(Feed(*hpa, t - 14, t, 4, 35), 4) << t;  // the 45 s sync still in the window
  }
  EXPECT_EQ(Feed(*hpa, 331, 345, 4, 35), 2);  // 300 s after the last high recommendation
}

TEST(HpaPolicyTest, ScaleUpIsNotStabilisedByDefault) {
  auto hpa = Hpa();
  EXPECT_EQ(Feed(*hpa, 0, 0, 1, 70), 1);
  EXPECT_EQ(Feed(*hpa, 1, 15, 1, 280), 4);
}

TEST(HpaPolicyTest, PodsRateLimitCountsChangesInThePeriod) {
  HpaConfig config;
  config.scale_up.policies = {{HpaRateType::kPods, 2, absl::Seconds(60)}};
  auto hpa = Hpa(config);
  EXPECT_EQ(Feed(*hpa, 0, 0, 2, 700), 4);
  // 2 added in this period already: no more until it has passed.
  EXPECT_EQ(Feed(*hpa, 1, 15, 2, 700, 2), 4);
  EXPECT_EQ(Feed(*hpa, 16, 45, 4, 700), 4);
  EXPECT_EQ(Feed(*hpa, 46, 60, 4, 700), 6);
}

TEST(HpaPolicyTest, PercentRateLimit) {
  HpaConfig config;
  config.scale_up.policies = {{HpaRateType::kPercent, 50, absl::Seconds(60)}};
  auto hpa = Hpa(config);
  EXPECT_EQ(Feed(*hpa, 0, 0, 4, 700), 6);
  HpaConfig down;
  down.scale_down.stabilization_window = absl::ZeroDuration();
  down.scale_down.policies = {{HpaRateType::kPercent, 50, absl::Seconds(60)}};
  auto hpa_down = Hpa(down);
  EXPECT_EQ(Feed(*hpa_down, 0, 0, 8, 0), 4);
  EXPECT_EQ(Feed(*hpa_down, 1, 15, 4, 0), 4);  // 4 removed from 8 this period already
  EXPECT_EQ(Feed(*hpa_down, 16, 60, 4, 0), 2);
}

TEST(HpaPolicyTest, SelectPolicyMaxMinDisabled) {
  HpaConfig config;                                  // up: max(Percent 100, Pods 4) per 15 s
  EXPECT_EQ(Feed(*Hpa(config), 0, 0, 2, 700), 6);    // Pods 4 allows more than +100 %
  EXPECT_EQ(Feed(*Hpa(config), 0, 0, 10, 700), 20);  // +100 % allows more than Pods 4
  config.scale_up.select = HpaSelectPolicy::kMin;
  EXPECT_EQ(Feed(*Hpa(config), 0, 0, 2, 700), 4);
  EXPECT_EQ(Feed(*Hpa(config), 0, 0, 10, 700), 14);
  config.scale_up.select = HpaSelectPolicy::kDisabled;
  EXPECT_EQ(Feed(*Hpa(config), 0, 0, 2, 700), 2);
}

TEST(HpaPolicyTest, ScaleDownPodsPolicy) {
  HpaConfig config;
  config.scale_down.stabilization_window = absl::ZeroDuration();
  config.scale_down.policies = {{HpaRateType::kPods, 1, absl::Seconds(15)}};
  auto hpa = Hpa(config);
  EXPECT_EQ(Feed(*hpa, 0, 0, 4, 0), 3);
  EXPECT_EQ(Feed(*hpa, 1, 15, 3, 0), 2);
  EXPECT_EQ(Feed(*hpa, 16, 30, 2, 0), 1);
  EXPECT_EQ(Feed(*hpa, 31, 45, 1, 0), 1);  // minReplicas 1
}

TEST(HpaPolicyTest, MinReplicasLiftsFromZeroAndZeroIsAllowedWhenSet) {
  auto hpa = Hpa();
  EXPECT_EQ(Feed(*hpa, 0, 0, 0, 0), 1);
  HpaConfig config;
  config.min_replicas = 0;
  config.scale_down.stabilization_window = absl::ZeroDuration();
  auto to_zero = Hpa(config);
  EXPECT_EQ(Feed(*to_zero, 0, 0, 1, 0), 0);
}

TEST(HpaPolicyTest, NoReadyReplicaKeepsTheCount) {
  auto hpa = Hpa();
  EXPECT_EQ(Feed(*hpa, 0, 0, 0, 0, /*starting=*/3), 3);
}

TEST(HpaPolicyTest, RejectsBadConfig) {
  const auto code = [](const HpaConfig& c) { return MakeHpaPolicy(c).status().code(); };
  HpaConfig c;
  c.tolerance = 1;
  EXPECT_EQ(code(c), absl::StatusCode::kInvalidArgument);
  c = HpaConfig();
  c.metrics[0].target_per_replica = 0;
  EXPECT_EQ(code(c), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MakeHpaPolicy(c).status().message(), HasSubstr("target_per_replica"));
  c = HpaConfig();
  c.metrics.clear();
  EXPECT_EQ(code(c), absl::StatusCode::kInvalidArgument);
  c = HpaConfig();
  c.sync_period = absl::ZeroDuration();
  EXPECT_EQ(code(c), absl::StatusCode::kInvalidArgument);
  c = HpaConfig();
  c.scale_up.policies[1].value = 0;
  EXPECT_THAT(MakeHpaPolicy(c).status().message(), HasSubstr("scale_up.policies[1].value"));
  c = HpaConfig();
  c.scale_down.stabilization_window = absl::Seconds(-1);
  EXPECT_EQ(code(c), absl::StatusCode::kInvalidArgument);
  c = HpaConfig();
  c.scale_down.policies.clear();
  EXPECT_EQ(code(c), absl::StatusCode::kInvalidArgument);
  c = HpaConfig();
  c.min_replicas = -1;
  EXPECT_EQ(code(c), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hearth
