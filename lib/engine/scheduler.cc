#include "lib/engine/scheduler.h"

#include <algorithm>

namespace hearth {
namespace {

// Serving order: higher priority first, then earlier arrival.
bool RunsBefore(const Sequence& a, const Sequence& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  return a.arrival < b.arrival;
}

void SortByServingOrder(std::vector<std::unique_ptr<Sequence>>& sequences) {
  std::sort(sequences.begin(), sequences.end(),
            [](const auto& a, const auto& b) { return RunsBefore(*a, *b); });
}

}  // namespace

Scheduler::Scheduler(SchedulerConfig config, BlockManager* blocks)
    : config_(config),
      blocks_(blocks),
      // As vLLM: about 1 % of the cache stays free when admitting, so that admitting a
      // prompt does not immediately force a preemption on the next decode step.
      watermark_blocks_(std::max<int64_t>(1, blocks->total_blocks() / 100)) {}

void Scheduler::Add(std::unique_ptr<Sequence> sequence) {
  waiting_.push_back(std::move(sequence));
}

int64_t Scheduler::BlocksFor(int64_t tokens) const {
  return (tokens + blocks_->block_tokens() - 1) / blocks_->block_tokens();
}

std::vector<ScheduledChunk> Scheduler::Schedule() {
  std::vector<ScheduledChunk> plan;
  int64_t budget = config_.max_batch_tokens;
  SortByServingOrder(running_);
  std::vector<Sequence*> order;  // decodes first, then prompt chunks; each in serving order
  for (const auto& s : running_) {
    s->preempted_this_step = false;
    if (s->uncomputed() == 1) order.push_back(s.get());
  }
  for (const auto& s : running_) {
    if (s->uncomputed() > 1) order.push_back(s.get());
  }
  for (Sequence* s : order) {
    if (s->preempted_this_step) continue;
    const int64_t n = std::min(s->uncomputed(), budget);
    if (n <= 0) continue;
    if (!Reserve(s, s->computed + n, &plan, &budget)) continue;
    plan.push_back({s, n, s->computed + n == s->length()});
    budget -= n;
  }

  SortByServingOrder(waiting_);
  while (budget > 0 && !waiting_.empty() &&
         static_cast<int64_t>(running_.size()) < config_.max_sequences) {
    Sequence* s = waiting_.front().get();
    if (!Admit(s, budget, &plan)) break;  // first come, first served: no overtaking
    budget -= plan.back().n_tokens;
    running_.push_back(std::move(waiting_.front()));
    waiting_.erase(waiting_.begin());
  }
  return plan;
}

bool Scheduler::Admit(Sequence* s, int64_t budget, std::vector<ScheduledChunk>* plan) {
  // At least the last token is always computed: its logits give the next token.
  const int64_t hit = blocks_->AcquirePrefix(s->tokens, s->length() - 1, &s->block_table);
  const int64_t n = std::min(s->length() - hit, budget);
  const int64_t needed = BlocksFor(hit + n) - static_cast<int64_t>(s->block_table.size());
  const int64_t reserve = running_.empty() ? 0 : watermark_blocks_;
  if (blocks_->available_blocks() < needed + reserve) {
    blocks_->Release(s->block_table);
    s->block_table.clear();
    return false;
  }
  for (int64_t i = 0; i < needed; ++i) s->block_table.push_back(*blocks_->Allocate());
  s->computed = hit;
  prefix_queried_tokens_ += s->length();
  prefix_hit_tokens_ += hit;
  if (!s->admitted_once) {
    s->result.cached_prompt_tokens = static_cast<int>(hit);
    s->admitted_once = true;
  }
  plan->push_back({s, n, hit + n == s->length()});
  return true;
}

bool Scheduler::Reserve(Sequence* s, int64_t tokens, std::vector<ScheduledChunk>* plan,
                        int64_t* budget) {
  while (static_cast<int64_t>(s->block_table.size()) < BlocksFor(tokens)) {
    if (std::optional<int32_t> block = blocks_->Allocate()) {
      s->block_table.push_back(*block);
      continue;
    }
    // The victim: the running sequence served last, planned for this step or not.
    Sequence* victim = nullptr;
    for (const auto& r : running_) {
      if (r.get() != s && (victim == nullptr || RunsBefore(*victim, *r))) victim = r.get();
    }
    if (victim == nullptr || RunsBefore(*victim, *s)) {
      Preempt(s);
      return false;
    }
    auto planned = std::find_if(plan->begin(), plan->end(),
                                [victim](const ScheduledChunk& c) { return c.sequence == victim; });
    if (planned != plan->end()) {
      *budget += planned->n_tokens;
      plan->erase(planned);
    }
    Preempt(victim);
  }
  return true;
}

void Scheduler::Preempt(Sequence* s) {
  blocks_->Release(s->block_table);
  s->block_table.clear();
  s->computed = 0;
  s->preempted_this_step = true;
  ++s->result.preemptions;
  ++preemptions_;
  auto it = std::find_if(running_.begin(), running_.end(),
                         [s](const auto& r) { return r.get() == s; });
  waiting_.push_back(std::move(*it));
  running_.erase(it);
}

void Scheduler::Commit(const std::vector<ScheduledChunk>& plan) {
  for (const ScheduledChunk& c : plan) {
    Sequence* s = c.sequence;
    s->computed += c.n_tokens;
    blocks_->Publish(s->tokens, s->block_table, s->computed / blocks_->block_tokens());
  }
}

std::unique_ptr<Sequence> Scheduler::Remove(Sequence* s) {
  for (auto* list : {&running_, &waiting_}) {
    auto it = std::find_if(list->begin(), list->end(),
                           [s](const auto& r) { return r.get() == s; });
    if (it == list->end()) continue;
    std::unique_ptr<Sequence> taken = std::move(*it);
    list->erase(it);
    blocks_->Release(taken->block_table);
    taken->block_table.clear();
    return taken;
  }
  return nullptr;
}

}  // namespace hearth
