#include <cmath>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hearth/scaling_policies.h"
#include "tests/autoscale/load_series.h"

namespace hearth {
namespace {

using ::hearth::testing::Load;
using ::hearth::testing::T;
using ::testing::HasSubstr;

std::unique_ptr<ScalingPolicy> Kpa(const KpaConfig& config = KpaConfig()) {
  absl::StatusOr<std::unique_ptr<ScalingPolicy>> policy = MakeKpaPolicy(config);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return *std::move(policy);
}

// One sample per second over [from, to] with `concurrency` in total; the
// recommendation at `to`.
ScalingDecision Feed(ScalingPolicy& policy, int from, int to, int ready, double concurrency) {
  for (int t = from; t <= to; ++t) {
    EXPECT_TRUE(policy.Observe(Load(t, ready, concurrency)).ok());
  }
  return policy.Recommend(T(to));
}

TEST(KpaPolicyTest, StableDesiredIsCeilOfMeanOverTarget) {
  auto kpa = Kpa();  // target 100 x 0.7 = 70
  EXPECT_EQ(Feed(*kpa, 0, 59, 2, 140).desired_replicas, 2);
  EXPECT_EQ(Feed(*kpa, 60, 119, 2, 150).desired_replicas, 3);  // ceil(150 / 70)
}

TEST(KpaPolicyTest, StableWindowAveragesTheSamples) {
  auto kpa = Kpa();
  Feed(*kpa, 0, 29, 3, 70);
  // Half the minute at 70, half at 210: the mean 140 asks for 2 (the last sample: 3).
  ScalingDecision d = Feed(*kpa, 30, 59, 3, 210);
  EXPECT_EQ(d.desired_replicas, 2);
  EXPECT_THAT(d.reason, HasSubstr("stable"));
}

TEST(KpaPolicyTest, ShortBurstPanicsAndScalesUpAtOnce) {
  auto kpa = Kpa();
  EXPECT_EQ(Feed(*kpa, 0, 59, 1, 50).desired_replicas, 1);
  // A 6-s burst: the panic window sees 500 (8 replicas, 8x the one ready); the stable
  // window's mean is only (54 x 50 + 6 x 500) / 60 = 95 (2 replicas).
  ScalingDecision d = Feed(*kpa, 60, 65, 1, 500);
  EXPECT_EQ(d.desired_replicas, 8);
  EXPECT_THAT(d.reason, HasSubstr("panic"));
}

TEST(KpaPolicyTest, NoScaleDownInPanicAndPanicEndsAfterAStableWindow) {
  auto kpa = Kpa();
  Feed(*kpa, 0, 59, 1, 50);
  ASSERT_EQ(Feed(*kpa, 60, 65, 1, 500).desired_replicas, 8);  // panic from t = 65
  // Calm again with 8 ready: the stable count falls, but panic holds 8 for a minute.
  for (int t = 67; t <= 125; t += 2) {
    EXPECT_EQ(Feed(*kpa, t - 1, t, 8, 50).desired_replicas, 8) << t;
  }
  // More than a stable window after the threshold was last crossed: stable mode, and
  // down by at most half of the ready replicas per decision.
  ScalingDecision d = Feed(*kpa, 126, 127, 8, 50);
  EXPECT_EQ(d.desired_replicas, 4);
  EXPECT_THAT(d.reason, HasSubstr("stable"));
  EXPECT_EQ(Feed(*kpa, 128, 129, 4, 50).desired_replicas, 2);
  EXPECT_EQ(Feed(*kpa, 130, 131, 2, 50).desired_replicas, 1);
}

TEST(KpaPolicyTest, ScaleUpRateIsBounded) {
  KpaConfig config;
  config.max_scale_up_rate = 2;
  auto kpa = Kpa(config);
  EXPECT_EQ(Feed(*kpa, 0, 59, 2, 7000).desired_replicas, 4);
}

TEST(KpaPolicyTest, ScalesToZeroOnlyAfterQuietWindowAndGrace) {
  auto kpa = Kpa();
  ASSERT_EQ(Feed(*kpa, 0, 10, 1, 10).desired_replicas, 1);
  // The last request is at t = 10: the stable window sees it until t = 70.
  for (int t = 12; t < 70; t += 2) {
    EXPECT_EQ(Feed(*kpa, t - 1, t, 1, 0).desired_replicas, 1) << t;
  }
  // From t = 70 the window is empty, but the grace runs 30 s from the last non-zero
  // recommendation (t = 68).
  for (int t = 70; t < 98; t += 2) {
    ScalingDecision d = Feed(*kpa, t - 1, t, 1, 0);
    EXPECT_EQ(d.desired_replicas, 1) << t;
    EXPECT_THAT(d.reason, HasSubstr("grace"));
  }
  EXPECT_EQ(Feed(*kpa, 97, 98, 1, 0).desired_replicas, 0);
}

TEST(KpaPolicyTest, DecidesOncePerTick) {
  auto kpa = Kpa();
  EXPECT_EQ(Feed(*kpa, 0, 0, 1, 70).desired_replicas, 1);
  EXPECT_EQ(Feed(*kpa, 1, 1, 1, 7000).desired_replicas, 1);  // 1 s later: same decision
  EXPECT_GT(Feed(*kpa, 2, 2, 1, 7000).desired_replicas, 1);
}

TEST(KpaPolicyTest, ContainerConcurrencyIsConfigurable) {
  KpaConfig config;
  config.container_concurrency = 64;  // one Engine; target 44.8
  EXPECT_EQ(Feed(*Kpa(config), 0, 59, 2, 100).desired_replicas, 3);
}

TEST(KpaPolicyTest, RejectsBadConfig) {
  const auto message = [](const KpaConfig& c) {
    absl::Status s = MakeKpaPolicy(c).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  KpaConfig c;
  c.container_concurrency = 0;
  EXPECT_THAT(message(c), HasSubstr("container_concurrency"));
  c = KpaConfig();
  c.target_utilization = 1.5;
  EXPECT_THAT(message(c), HasSubstr("target_utilization"));
  c = KpaConfig();
  c.stable_window = absl::ZeroDuration();
  EXPECT_THAT(message(c), HasSubstr("stable_window"));
  c = KpaConfig();
  c.panic_threshold = 1;
  EXPECT_THAT(message(c), HasSubstr("panic_threshold"));
  c = KpaConfig();
  c.panic_window_percentage = 0;
  EXPECT_THAT(message(c), HasSubstr("panic_window_percentage"));
  c = KpaConfig();
  c.scale_to_zero_grace = absl::Seconds(-1);
  EXPECT_THAT(message(c), HasSubstr("scale_to_zero_grace"));
  c = KpaConfig();
  c.max_scale_down_rate = std::nan("");
  EXPECT_THAT(message(c), HasSubstr("max_scale_down_rate"));
}

}  // namespace
}  // namespace hearth
