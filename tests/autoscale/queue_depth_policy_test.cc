#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hearth/scaling_policies.h"
#include "tests/autoscale/load_series.h"

namespace hearth {
namespace {

using ::hearth::testing::Load;
using ::hearth::testing::T;

std::unique_ptr<ScalingPolicy> QueuePolicy(const QueueDepthConfig& config = {}) {
  absl::StatusOr<std::unique_ptr<ScalingPolicy>> policy = MakeQueueDepthPolicy(config);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return *std::move(policy);
}

int At(ScalingPolicy& policy, double t, int ready, double queue) {
  LoadSample s = Load(t, ready, 10);
  s.queue_depth = queue;
  EXPECT_TRUE(policy.Observe(s).ok());
  return policy.Recommend(T(t)).desired_replicas;
}

TEST(QueueDepthPolicyTest, ThresholdsAndStepSizes) {
  // target 10: above 8 add max(1, depth / 10); below 2 remove 1; between, hold.
  EXPECT_EQ(At(*QueuePolicy(), 0, 2, 9), 3);
  EXPECT_EQ(At(*QueuePolicy(), 0, 2, 25), 4);
  EXPECT_EQ(At(*QueuePolicy(), 0, 2, 8), 2);
  EXPECT_EQ(At(*QueuePolicy(), 0, 2, 5), 2);
  EXPECT_EQ(At(*QueuePolicy(), 0, 2, 2), 2);
  EXPECT_EQ(At(*QueuePolicy(), 0, 2, 1.9), 1);
  EXPECT_EQ(At(*QueuePolicy(), 0, 0, 0), 0);
}

TEST(QueueDepthPolicyTest, CooldownBetweenChanges) {
  auto policy = QueuePolicy();  // cooldown 60 s
  EXPECT_EQ(At(*policy, 0, 2, 25), 4);
  EXPECT_EQ(At(*policy, 30, 4, 100), 4);  // cooling down
  EXPECT_EQ(At(*policy, 59, 4, 0), 4);
  EXPECT_EQ(At(*policy, 60, 4, 0), 3);
  EXPECT_EQ(At(*policy, 61, 3, 0), 3);
  EXPECT_EQ(At(*policy, 120, 3, 5), 3);  // no change: the cooldown does not restart
  EXPECT_EQ(At(*policy, 121, 3, 0), 2);
}

TEST(QueueDepthPolicyTest, RejectsBadConfig) {
  QueueDepthConfig c;
  c.target_queue_depth = 0;
  EXPECT_EQ(MakeQueueDepthPolicy(c).status().code(), absl::StatusCode::kInvalidArgument);
  c = QueueDepthConfig();
  c.scale_up_fraction = 0.1;  // below the scale-down fraction
  EXPECT_EQ(MakeQueueDepthPolicy(c).status().code(), absl::StatusCode::kInvalidArgument);
  c = QueueDepthConfig();
  c.cooldown = absl::Seconds(-1);
  EXPECT_THAT(MakeQueueDepthPolicy(c).status().message(), ::testing::HasSubstr("cooldown"));
}

}  // namespace
}  // namespace hearth
