#include "lib/engine/engine_metrics.h"

#include <algorithm>

namespace hearth {

void MetricsRecorder::RecordFinished(FinishReason reason) {
  finished_.fetch_add(1, std::memory_order_relaxed);
  switch (reason) {
    case FinishReason::kCancelled: cancelled_.fetch_add(1, std::memory_order_relaxed); break;
    case FinishReason::kDeadline: deadline_.fetch_add(1, std::memory_order_relaxed); break;
    case FinishReason::kError: failed_.fetch_add(1, std::memory_order_relaxed); break;
    case FinishReason::kStop:
    case FinishReason::kLength: break;
  }
}

void MetricsRecorder::RecordLoad(const Scheduler& scheduler, const BlockManager& blocks) {
  constexpr auto relaxed = std::memory_order_relaxed;
  waiting_.store(static_cast<int64_t>(scheduler.waiting().size()), relaxed);
  running_.store(static_cast<int64_t>(scheduler.running().size()), relaxed);
  blocks_total_.store(blocks.total_blocks(), relaxed);
  blocks_used_.store(blocks.used_blocks(), relaxed);
  blocks_cached_.store(blocks.cached_blocks(), relaxed);
  blocks_free_.store(blocks.free_blocks(), relaxed);
  queried_.store(scheduler.prefix_queried_tokens(), relaxed);
  hits_.store(scheduler.prefix_hit_tokens(), relaxed);
  preemptions_.store(scheduler.preemptions(), relaxed);
}

void MetricsRecorder::RecordTokens(Clock::time_point now, int64_t prompt_tokens,
                                   int64_t generated_tokens) {
  constexpr auto relaxed = std::memory_order_relaxed;
  prompt_tokens_.fetch_add(prompt_tokens, relaxed);
  generated_tokens_.fetch_add(generated_tokens, relaxed);

  std::lock_guard lock(rate_mu_);
  if (first_step_ == Clock::time_point{}) first_step_ = now;
  recent_.emplace_back(now, generated_tokens);
  while (!recent_.empty() && now - recent_.front().first > kRateWindow) recent_.pop_front();
}

EngineMetrics MetricsRecorder::Snapshot() const {
  constexpr auto relaxed = std::memory_order_relaxed;
  EngineMetrics m;
  m.waiting = waiting_.load(relaxed);
  m.running = running_.load(relaxed);
  m.kv_blocks_total = blocks_total_.load(relaxed);
  m.kv_blocks_used = blocks_used_.load(relaxed);
  m.kv_blocks_cached = blocks_cached_.load(relaxed);
  m.kv_blocks_free = blocks_free_.load(relaxed);
  m.prefix_cache_queried_tokens = queried_.load(relaxed);
  m.prefix_cache_hit_tokens = hits_.load(relaxed);
  m.prefix_cache_hit_rate =
      m.prefix_cache_queried_tokens == 0
          ? 0
          : static_cast<double>(m.prefix_cache_hit_tokens) / m.prefix_cache_queried_tokens;
  m.requests_submitted = submitted_.load(relaxed);
  m.requests_finished = finished_.load(relaxed);
  m.requests_cancelled = cancelled_.load(relaxed);
  m.requests_deadline = deadline_.load(relaxed);
  m.requests_failed = failed_.load(relaxed);
  m.preemptions = preemptions_.load(relaxed);
  m.prompt_tokens = prompt_tokens_.load(relaxed);
  m.generated_tokens = generated_tokens_.load(relaxed);
  m.time_to_first_token_ms = ttft_ms_.Snapshot();
  m.inter_token_latency_ms = itl_ms_.Snapshot();

  const Clock::time_point now = Clock::now();
  std::lock_guard lock(rate_mu_);
  int64_t tokens = 0;
  for (const auto& [at, n] : recent_) {
    if (now - at <= kRateWindow) tokens += n;
  }
  // A young engine is averaged over its life so far, not over a mostly empty window.
  const double window_s = std::chrono::duration<double>(
      std::clamp<Clock::duration>(now - first_step_, std::chrono::milliseconds(1), kRateWindow)).count();
  m.generated_tokens_per_s = first_step_ == Clock::time_point{} ? 0 : tokens / window_s;
  return m;
}

}  // namespace hearth
