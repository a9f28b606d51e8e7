// TokenBucket — the server's request-rate limit: `rate` requests per second on average,
// up to `burst` at once.
//
// The bucket holds at most `burst` tokens and refills at `rate` tokens per second; each
// admitted request takes one. A request that finds the bucket empty is refused with the
// time until the next token (the Retry-After the server sends with its 429).
//
// Usage:
//   auto bucket = TokenBucket::Create(/*rate_per_s=*/5, /*burst=*/10, hearth::RealClock());
//   RateDecision d = (*bucket)->TryTake();
//   if (!d.admitted) reply 429 with Retry-After: ceil(d.retry_after)
//
// Thread-safety: every method may be called from any thread.
#ifndef HEARTH_EXAMPLES_SERVER_TOKEN_BUCKET_H_
#define HEARTH_EXAMPLES_SERVER_TOKEN_BUCKET_H_

#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hearth/clock.h"

namespace hearth_server {

struct RateDecision {
  bool admitted = true;
  absl::Duration retry_after;  // when refused: until one token is back
};

class TokenBucket {
 public:
  // rate_per_s == 0 means unlimited (every request admitted). burst == 0 means
  // max(1, rate_per_s). InvalidArgument for a negative or non-finite rate or burst, or a
  // null clock (not owned; it must outlive the bucket). The bucket starts full.
  static absl::StatusOr<std::unique_ptr<TokenBucket>> Create(double rate_per_s, double burst,
                                                             hearth::Clock* clock);

  RateDecision TryTake();

 private:
  TokenBucket(double rate_per_s, double burst, hearth::Clock* clock);

  const double rate_per_s_;
  const double burst_;
  hearth::Clock* const clock_;
  std::mutex mu_;
  double tokens_;           // guarded by mu_
  absl::Time last_refill_;  // guarded by mu_
};

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_TOKEN_BUCKET_H_
