// CircuitBreaker — stops sending requests to a model whose instances keep failing, so one
// bad replica answers fast instead of making every request wait for its failure.
//
//   closed ──(failure_threshold consecutive failures)──► open
//   open ──(open_time passed; the next request is let through as a probe)──► half-open
//   half-open ──(the probe succeeds)──► closed
//   half-open ──(the probe fails)──► open (for another open_time)
//
// While open, and while a half-open probe is out, Allow() refuses with the time the
// caller may retry after. A success in the closed state resets the failure count.
// Outcomes that say nothing about the instance (the caller gave up, a deadline) are
// reported with RecordAbandoned(), which lets the next request probe instead.
//
// Usage:
//   auto breaker = CircuitBreaker::Create(5, absl::Seconds(10), hearth::RealClock());
//   CircuitPermit permit = (*breaker)->Allow();
//   if (!permit.allowed) reply 503 with Retry-After: ceil(permit.retry_after)
//   ... load / run ...; (*breaker)->RecordSuccess() or RecordFailure()
//
// Thread-safety: every method may be called from any thread.
#ifndef HEARTH_EXAMPLES_SERVER_CIRCUIT_BREAKER_H_
#define HEARTH_EXAMPLES_SERVER_CIRCUIT_BREAKER_H_

#include <memory>
#include <mutex>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hearth/clock.h"

namespace hearth_server {

// The values are those of the hearth_circuit_state gauge.
enum class CircuitState { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

std::string_view CircuitStateName(CircuitState state);  // "closed", "open", "half-open"

struct CircuitPermit {
  bool allowed = true;
  bool probe = false;          // this request is the half-open probe
  absl::Duration retry_after;  // when refused
};

class CircuitBreaker {
 public:
  // InvalidArgument for failure_threshold < 1, open_time <= 0 (or infinite), or a null
  // clock (not owned; it must outlive the breaker).
  static absl::StatusOr<std::unique_ptr<CircuitBreaker>> Create(int failure_threshold,
                                                                absl::Duration open_time,
                                                                hearth::Clock* clock);

  CircuitPermit Allow();
  void RecordSuccess();
  void RecordFailure();
  void RecordAbandoned();

  CircuitState state() const;
  int consecutive_failures() const;

 private:
  CircuitBreaker(int failure_threshold, absl::Duration open_time, hearth::Clock* clock)
      : failure_threshold_(failure_threshold), open_time_(open_time), clock_(clock) {}

  const int failure_threshold_;
  const absl::Duration open_time_;
  hearth::Clock* const clock_;
  mutable std::mutex mu_;
  CircuitState state_ = CircuitState::kClosed;  // guarded by mu_
  int failures_ = 0;                            // guarded by mu_
  absl::Time opened_at_;                        // guarded by mu_
  bool probe_out_ = false;                      // guarded by mu_
};

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_CIRCUIT_BREAKER_H_
