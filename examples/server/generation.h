// Generation — one request running on a leased instance: the stream of its pieces with
// the latencies clients see, then its result.
//
// It holds the request's admission slot and its WarmPool lease until Finish() returns or
// it is destroyed; destroying an unfinished Generation cancels the request (the Engine
// frees its KV blocks) and waits for the Engine to let it go, so a client that leaves
// mid-stream costs nothing more.
//
// Time to first token is measured from the request's arrival at the server (queueing and
// a cold start included); the time between two pieces is shared out over the tokens the
// later piece brings.
//
// Thread-safety: one request's thread uses it; Cancel() may come from any thread.
#ifndef HEARTH_EXAMPLES_SERVER_GENERATION_H_
#define HEARTH_EXAMPLES_SERVER_GENERATION_H_

#include <chrono>
#include <optional>

#include "absl/status/statusor.h"
#include "examples/server/admission_queue.h"
#include "examples/server/circuit_breaker.h"
#include "examples/server/server_metrics.h"
#include "hearth/engine.h"
#include "hearth/warm_pool.h"

namespace hearth_server {

class Generation {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  // `metrics` and `breaker` are not owned and outlive the Generation.
  Generation(RequestSlot slot, hearth::Lease lease, hearth::RequestId id, SteadyTime arrival,
             ServerMetrics* metrics, CircuitBreaker* breaker);
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;
  ~Generation();

  // The next piece (blocking), or nullopt once the request has finished.
  absl::StatusOr<std::optional<hearth::StreamPiece>> Next();
  void Cancel();
  // The result; reports an Engine failure of the request to the circuit breaker. Returns
  // the lease and the slot. Call once.
  absl::StatusOr<hearth::GenerateResult> Finish();

  // How long the request has held its instance slot so far.
  double held_seconds() const;

 private:
  RequestSlot slot_;
  hearth::Lease lease_;
  const hearth::RequestId id_;
  const SteadyTime arrival_;
  const SteadyTime leased_at_;
  ServerMetrics* const metrics_;
  CircuitBreaker* const breaker_;
  std::optional<SteadyTime> last_piece_;
  bool finished_ = false;
};

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_GENERATION_H_
