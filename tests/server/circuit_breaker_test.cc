#include "examples/server/circuit_breaker.h"

#include "gtest/gtest.h"
#include "hearth/clock.h"

namespace hearth_server {
namespace {

class CircuitBreakerTest : public testing::Test {
 protected:
  hearth::ManualClock clock_;
  std::unique_ptr<CircuitBreaker> breaker_ = CircuitBreaker::Create(3, absl::Seconds(10), &clock_).value();

  void Open() {
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(breaker_->Allow().allowed);
      breaker_->RecordFailure();
    }
    ASSERT_EQ(breaker_->state(), CircuitState::kOpen);
  }
};

TEST_F(CircuitBreakerTest, OpensAfterConsecutiveFailuresOnly) {
  breaker_->RecordFailure();
  breaker_->RecordFailure();
  breaker_->RecordSuccess();  // resets the count
  breaker_->RecordFailure();
  breaker_->RecordFailure();
  EXPECT_EQ(breaker_->state(), CircuitState::kClosed);
  EXPECT_EQ(breaker_->consecutive_failures(), 2);
  breaker_->RecordFailure();
  EXPECT_EQ(breaker_->state(), CircuitState::kOpen);
}

TEST_F(CircuitBreakerTest, OpenRefusesWithTheTimeLeft) {
  Open();
  clock_.Advance(absl::Seconds(4));
  const CircuitPermit permit = breaker_->Allow();
  EXPECT_FALSE(permit.allowed);
  EXPECT_EQ(permit.retry_after, absl::Seconds(6));
  // Late failures of requests let through before it opened do not extend it.
  breaker_->RecordFailure();
  clock_.Advance(absl::Seconds(6));
  EXPECT_TRUE(breaker_->Allow().allowed);
}

TEST_F(CircuitBreakerTest, HalfOpenLetsOneProbeThroughAndClosesOnSuccess) {
  Open();
  clock_.Advance(absl::Seconds(10));
  const CircuitPermit probe = breaker_->Allow();
  EXPECT_TRUE(probe.allowed);
  EXPECT_TRUE(probe.probe);
  EXPECT_EQ(breaker_->state(), CircuitState::kHalfOpen);
  const CircuitPermit second = breaker_->Allow();
  EXPECT_FALSE(second.allowed);
  EXPECT_GT(second.retry_after, absl::ZeroDuration());
  breaker_->RecordSuccess();
  EXPECT_EQ(breaker_->state(), CircuitState::kClosed);
  const CircuitPermit after = breaker_->Allow();
  EXPECT_TRUE(after.allowed);
  EXPECT_FALSE(after.probe);
}

TEST_F(CircuitBreakerTest, FailedProbeReopensForAnotherOpenTime) {
  Open();
  clock_.Advance(absl::Seconds(12));
  ASSERT_TRUE(breaker_->Allow().probe);
  breaker_->RecordFailure();
  EXPECT_EQ(breaker_->state(), CircuitState::kOpen);
  clock_.Advance(absl::Seconds(9));
  EXPECT_FALSE(breaker_->Allow().allowed);
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(breaker_->Allow().probe);
}

TEST_F(CircuitBreakerTest, AbandonedProbeLetsTheNextRequestProbe) {
  Open();
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(breaker_->Allow().probe);
  EXPECT_FALSE(breaker_->Allow().allowed);
  breaker_->RecordAbandoned();
  EXPECT_EQ(breaker_->state(), CircuitState::kHalfOpen);
  EXPECT_TRUE(breaker_->Allow().probe);
}

TEST(CircuitBreakerCreateTest, RejectsBadSettings) {
  hearth::ManualClock clock;
  EXPECT_EQ(CircuitBreaker::Create(0, absl::Seconds(1), &clock).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CircuitBreaker::Create(1, absl::ZeroDuration(), &clock).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CircuitBreaker::Create(1, absl::InfiniteDuration(), &clock).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CircuitBreaker::Create(1, absl::Seconds(1), nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CircuitStateName(CircuitState::kHalfOpen), "half-open");
}

}  // namespace
}  // namespace hearth_server
