#include "examples/server/token_bucket.h"

#include <random>

#include "gtest/gtest.h"
#include "hearth/clock.h"

namespace hearth_server {
namespace {

TEST(TokenBucketTest, AdmitsTheBurstThenRefusesWithTheWaitForOneToken) {
  hearth::ManualClock clock;
  auto bucket = TokenBucket::Create(/*rate_per_s=*/2, /*burst=*/3, &clock).value();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket->TryTake().admitted) << i;
  const RateDecision refused = bucket->TryTake();
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_after, absl::Milliseconds(500));
  clock.Advance(absl::Milliseconds(250));
  EXPECT_EQ(bucket->TryTake().retry_after, absl::Milliseconds(250));
  clock.Advance(absl::Milliseconds(250));
  EXPECT_TRUE(bucket->TryTake().admitted);
  EXPECT_FALSE(bucket->TryTake().admitted);
}

TEST(TokenBucketTest, RefillStopsAtTheBurst) {
  hearth::ManualClock clock;
  auto bucket = TokenBucket::Create(10, 4, &clock).value();
  clock.Advance(absl::Hours(1));
  int admitted = 0;
  while (bucket->TryTake().admitted) ++admitted;
  EXPECT_EQ(admitted, 4);
}

TEST(TokenBucketTest, LongRunAverageIsTheRate) {
  // Random arrivals, far more than the rate: what gets through over 100 s is
  // burst + rate x 100.
  hearth::ManualClock clock;
  auto bucket = TokenBucket::Create(7.5, 5, &clock).value();
  std::mt19937 rng(42);
  std::exponential_distribution<double> gap_s(50);
  int admitted = 0;
  const absl::Time end = clock.Now() + absl::Seconds(100);
  while (clock.Now() < end) {
    admitted += bucket->TryTake().admitted ? 1 : 0;
    clock.Advance(absl::Seconds(gap_s(rng)));
  }
  EXPECT_NEAR(admitted, 5 + 7.5 * 100, 2);
}

TEST(TokenBucketTest, ZeroRateIsUnlimitedAndZeroBurstIsOneSecondOfRate) {
  hearth::ManualClock clock;
  auto unlimited = TokenBucket::Create(0, 0, &clock).value();
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(unlimited->TryTake().admitted);
  auto bucket = TokenBucket::Create(3, 0, &clock).value();
  int admitted = 0;
  while (bucket->TryTake().admitted) ++admitted;
  EXPECT_EQ(admitted, 3);
}

TEST(TokenBucketTest, RejectsBadSettings) {
  hearth::ManualClock clock;
  EXPECT_EQ(TokenBucket::Create(-1, 1, &clock).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenBucket::Create(1, -1, &clock).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenBucket::Create(std::nan(""), 1, &clock).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenBucket::Create(1, 1, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hearth_server
