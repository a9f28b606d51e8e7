#include "examples/server/generation.h"

#include <utility>

namespace hearth_server {
namespace {
double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

Generation::Generation(RequestSlot slot, hearth::Lease lease, hearth::RequestId id, SteadyTime arrival,
                       ServerMetrics* metrics, CircuitBreaker* breaker)
    : slot_(std::move(slot)), lease_(std::move(lease)), id_(id), arrival_(arrival),
      leased_at_(std::chrono::steady_clock::now()), metrics_(metrics), breaker_(breaker) {
  slot_.Start();
}

Generation::~Generation() {
  if (finished_) return;
  // Cancel fails only for a request that has finished already; Wait then collects it.
  lease_.engine()->Cancel(id_).IgnoreError();
  lease_.engine()->Wait(id_).IgnoreError();
}

absl::StatusOr<std::optional<hearth::StreamPiece>> Generation::Next() {
  absl::StatusOr<std::optional<hearth::StreamPiece>> piece = lease_.engine()->Next(id_);
  if (!piece.ok() || !piece->has_value() || (*piece)->tokens.empty()) return piece;
  const SteadyTime now = std::chrono::steady_clock::now();
  const uint64_t tokens = (*piece)->tokens.size();
  if (!last_piece_) {
    metrics_->time_to_first_token().Record(Seconds(now - arrival_));
    if (tokens > 1) metrics_->inter_token_latency().Record(0, tokens - 1);
  } else {
    metrics_->inter_token_latency().Record(Seconds(now - *last_piece_) / static_cast<double>(tokens), tokens);
  }
  last_piece_ = now;
  return piece;
}

void Generation::Cancel() { lease_.engine()->Cancel(id_).IgnoreError(); }

absl::StatusOr<hearth::GenerateResult> Generation::Finish() {
  finished_ = true;
  absl::StatusOr<hearth::GenerateResult> result = lease_.engine()->Wait(id_);
  if (!result.ok() || result->finish_reason == hearth::FinishReason::kError) breaker_->RecordFailure();
  lease_.Release();
  return result;
}

double Generation::held_seconds() const { return Seconds(std::chrono::steady_clock::now() - leased_at_); }

}  // namespace hearth_server
