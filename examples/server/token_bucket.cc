#include "examples/server/token_bucket.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"

namespace hearth_server {

absl::StatusOr<std::unique_ptr<TokenBucket>> TokenBucket::Create(double rate_per_s, double burst,
                                                                 hearth::Clock* clock) {
  if (!std::isfinite(rate_per_s) || rate_per_s < 0) {
    return absl::InvalidArgumentError("rate must be a finite number of requests/s >= 0");
  }
  if (!std::isfinite(burst) || burst < 0) {
    return absl::InvalidArgumentError("burst must be a finite number of requests >= 0");
  }
  if (clock == nullptr) return absl::InvalidArgumentError("TokenBucket needs a clock");
  const double capacity = burst > 0 ? burst : std::max(1.0, rate_per_s);
  return std::unique_ptr<TokenBucket>(new TokenBucket(rate_per_s, capacity, clock));
}

TokenBucket::TokenBucket(double rate_per_s, double burst, hearth::Clock* clock)
    : rate_per_s_(rate_per_s), burst_(burst), clock_(clock), tokens_(burst),
      last_refill_(clock->Now()) {}

RateDecision TokenBucket::TryTake() {
  if (rate_per_s_ == 0) return {};
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_->Now();
  if (now > last_refill_) {
    tokens_ = std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - last_refill_) * rate_per_s_);
    last_refill_ = now;
  }
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return {};
  }
  return {.admitted = false, .retry_after = absl::Seconds((1 - tokens_) / rate_per_s_)};
}

}  // namespace hearth_server
