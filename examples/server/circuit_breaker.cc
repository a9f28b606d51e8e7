#include "examples/server/circuit_breaker.h"

#include "absl/status/status.h"

namespace hearth_server {
namespace {
// How long a request refused because another request is probing should wait: the probe
// is a real request (often a cold start), so a second is a fair first guess.
constexpr absl::Duration kProbeRetryAfter = absl::Seconds(1);
}  // namespace

std::string_view CircuitStateName(CircuitState state) {
  switch (state) {
    case CircuitState::kClosed: return "closed";
    case CircuitState::kOpen: return "open";
    case CircuitState::kHalfOpen: return "half-open";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<CircuitBreaker>> CircuitBreaker::Create(int failure_threshold,
                                                                       absl::Duration open_time,
                                                                       hearth::Clock* clock) {
  if (failure_threshold < 1) {
    return absl::InvalidArgumentError("circuit breaker: failures before opening must be >= 1");
  }
  if (open_time <= absl::ZeroDuration() || open_time == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("circuit breaker: the open time must be finite and > 0");
  }
  if (clock == nullptr) return absl::InvalidArgumentError("circuit breaker: needs a clock");
  return std::unique_ptr<CircuitBreaker>(new CircuitBreaker(failure_threshold, open_time, clock));
}

CircuitPermit CircuitBreaker::Allow() {
  std::lock_guard<std::mutex> lock(mu_);
  switch (state_) {
    case CircuitState::kClosed:
      return {};
    case CircuitState::kOpen: {
      const absl::Duration open_for = clock_->Now() - opened_at_;
      if (open_for < open_time_) return {.allowed = false, .retry_after = open_time_ - open_for};
      state_ = CircuitState::kHalfOpen;
      probe_out_ = true;
      return {.allowed = true, .probe = true};
    }
    case CircuitState::kHalfOpen:
      if (probe_out_) return {.allowed = false, .retry_after = kProbeRetryAfter};
      probe_out_ = true;
      return {.allowed = true, .probe = true};
  }
  return {};
}

void CircuitBreaker::RecordSuccess() {
  std::lock_guard<std::mutex> lock(mu_);
  // A success that was let through before the circuit opened proves the instance works
  // just as a probe would.
  state_ = CircuitState::kClosed;
  failures_ = 0;
  probe_out_ = false;
}

void CircuitBreaker::RecordFailure() {
  std::lock_guard<std::mutex> lock(mu_);
  switch (state_) {
    case CircuitState::kClosed:
      if (++failures_ >= failure_threshold_) {
        state_ = CircuitState::kOpen;
        opened_at_ = clock_->Now();
      }
      break;
    case CircuitState::kOpen:
      // A request let through before the circuit opened: already counted against it.
      break;
    case CircuitState::kHalfOpen:
      state_ = CircuitState::kOpen;
      opened_at_ = clock_->Now();
      probe_out_ = false;
      break;
  }
}

void CircuitBreaker::RecordAbandoned() {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == CircuitState::kHalfOpen) probe_out_ = false;
}

CircuitState CircuitBreaker::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

int CircuitBreaker::consecutive_failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

}  // namespace hearth_server
