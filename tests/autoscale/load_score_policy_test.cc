#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hearth/scaling_policies.h"
#include "tests/autoscale/load_series.h"

namespace hearth {
namespace {

using ::hearth::testing::T;
using ::testing::HasSubstr;

std::unique_ptr<ScalingPolicy> Score(const LoadScoreConfig& config = {}) {
  absl::StatusOr<std::unique_ptr<ScalingPolicy>> policy = MakeLoadScorePolicy(config);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return *std::move(policy);
}

// A sample at t with every signal at `level` of its full scale (rps capacity 10/replica).
LoadSample Level(double t, int ready, double level) {
  LoadSample s;
  s.time = T(t);
  s.ready_replicas = ready;
  s.utilization = level;
  s.memory_utilization = level;
  s.arrival_rate = level * 10 * ready;
  return s;
}

int At(ScalingPolicy& policy, double t, int ready, double level) {
  EXPECT_TRUE(policy.Observe(Level(t, ready, level)).ok());
  return policy.Recommend(T(t)).desired_replicas;
}

TEST(LoadScorePolicyTest, ExponentialScaleUp) {
  // Score 1.0: 2 x 2^((1.0 - 0.8) x 10) = 8.
  EXPECT_EQ(At(*Score(), 0, 2, 1.0), 8);
  // Score 0.85: ceil(3 x 2^0.5) = ceil(4.24) = 5.
  EXPECT_EQ(At(*Score(), 0, 3, 0.85), 5);
}

TEST(LoadScorePolicyTest, SquareRootScaleDownAndHoldBetween) {
  EXPECT_EQ(At(*Score(), 0, 10, 0.1), 3);  // floor(sqrt(10))
  EXPECT_EQ(At(*Score(), 0, 10, 0.5), 10);
}

TEST(LoadScorePolicyTest, WeightsAreCpuMemoryAndRequestRate) {
  LoadSample s;
  s.time = T(0);
  s.ready_replicas = 4;
  s.utilization = 1.0;         // 0.4
  s.memory_utilization = 1.0;  // 0.3
  s.arrival_rate = 20;         // 20 / (4 x 10) = 0.5 -> 0.15; score 0.85
  auto policy = Score();
  ASSERT_TRUE(policy->Observe(s).ok());
  ScalingDecision d = policy->Recommend(T(0));
  EXPECT_EQ(d.desired_replicas, 6);  // ceil(4 x 2^0.5) = ceil(5.66)
  EXPECT_THAT(d.reason, HasSubstr("score 0.850"));
}

TEST(LoadScorePolicyTest, AlphaWeightsTheNewScore) {
  auto policy = Score();
  EXPECT_EQ(At(*policy, 0, 2, 1.0), 8);
  // 0.7 x 0 + 0.3 x 1.0 = 0.3 (not below 0.3): hold; then 0.09: floor(sqrt(8)) = 2.
  EXPECT_EQ(At(*policy, 15, 8, 0.0), 8);
  EXPECT_EQ(At(*policy, 30, 8, 0.0), 2);

  // Alpha 0.1 weights the old score more: 0.1 x 0 + 0.9 x 1.0 = 0.9 still scales up.
  LoadScoreConfig slow;
  slow.alpha = 0.1;
  auto sluggish = Score(slow);
  EXPECT_EQ(At(*sluggish, 0, 2, 1.0), 8);
  EXPECT_EQ(At(*sluggish, 15, 8, 0.0), 16);  // ceil(8 x 2^1)
}

TEST(LoadScorePolicyTest, EvaluatesOncePerIntervalOverTheMeanOfItsSamples) {
  auto policy = Score();
  EXPECT_EQ(At(*policy, 0, 4, 0.5), 4);
  EXPECT_EQ(At(*policy, 5, 4, 1.0), 4);  // within the interval: the last decision
  // The interval's samples at 1.0 and 0.0 average to 0.5: score 0.5, hold.
  EXPECT_EQ(At(*policy, 15, 4, 0.0), 4);
}

TEST(LoadScorePolicyTest, RejectsBadConfig) {
  LoadScoreConfig c;
  c.alpha = 0;
  EXPECT_THAT(MakeLoadScorePolicy(c).status().message(), HasSubstr("alpha"));
  c = LoadScoreConfig();
  c.rps_capacity_per_replica = 0;
  EXPECT_EQ(MakeLoadScorePolicy(c).status().code(), absl::StatusCode::kInvalidArgument);
  c = LoadScoreConfig();
  c.scale_up_score = 0.2;
  EXPECT_EQ(MakeLoadScorePolicy(c).status().code(), absl::StatusCode::kInvalidArgument);
  c = LoadScoreConfig();
  c.cpu_weight = -1;
  EXPECT_THAT(MakeLoadScorePolicy(c).status().message(), HasSubstr("cpu_weight"));
  c = LoadScoreConfig();
  c.interval = absl::ZeroDuration();
  EXPECT_EQ(MakeLoadScorePolicy(c).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hearth
