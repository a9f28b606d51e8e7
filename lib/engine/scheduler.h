// Scheduler: iteration-level (continuous) batching over a paged KV cache.
//
// Every step, in this order:
//   1. each running sequence that is decoding gets its one token (so a long prompt never
//      stalls the streams already running: inter-token latency stays bounded by one
//      step of at most max_batch_tokens tokens);
//   2. running sequences still in their prompt get a chunk of what budget is left;
//   3. waiting sequences are admitted, highest priority then earliest arrival first,
//      while the token budget, max_sequences and free KV blocks allow; an admitted
//      prompt first takes whatever prefix the cache already holds.
// When a running sequence needs a block and none is left, the lowest-priority, latest
// running sequence is preempted (dropping its part of this step's plan if it had one),
// or the sequence itself if it is the lowest: the victim's blocks are released (kept in
// the prefix cache while nobody needs them) and it returns to the queue, to be
// recomputed later. No sequence is dropped.
//
// Thread-safety: none; the Engine's scheduler thread owns it.
#ifndef HEARTH_LIB_ENGINE_SCHEDULER_H_
#define HEARTH_LIB_ENGINE_SCHEDULER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "lib/engine/sequence.h"
#include "lib/kv/block_manager.h"

namespace hearth {

struct SchedulerConfig {
  int max_batch_tokens = 256;  // >= max_sequences
  int max_sequences = 64;
};

struct ScheduledChunk {
  Sequence* sequence;
  int64_t n_tokens;    // tokens [computed, computed + n_tokens) run this step
  bool wants_logits;   // the chunk reaches the sequence's end: sample after it
};

class Scheduler {
 public:
  Scheduler(SchedulerConfig config, BlockManager* blocks);

  void Add(std::unique_ptr<Sequence> sequence);
  // Plans one step; blocks for every planned token are allocated.
  std::vector<ScheduledChunk> Schedule();
  // After the step ran: the planned tokens are now cached; full blocks are published
  // for prefix sharing.
  void Commit(const std::vector<ScheduledChunk>& plan);
  // Takes a sequence (waiting or running) out and releases its blocks.
  std::unique_ptr<Sequence> Remove(Sequence* sequence);

  const std::vector<std::unique_ptr<Sequence>>& running() const { return running_; }
  const std::vector<std::unique_ptr<Sequence>>& waiting() const { return waiting_; }
  bool empty() const { return running_.empty() && waiting_.empty(); }
  uint64_t preemptions() const { return preemptions_; }
  // Prompt tokens of admitted sequences, and of those the ones found in the prefix cache.
  uint64_t prefix_queried_tokens() const { return prefix_queried_tokens_; }
  uint64_t prefix_hit_tokens() const { return prefix_hit_tokens_; }

 private:
  // Grows the block table to cover `tokens` positions, preempting others as needed.
  // False if `sequence` itself had to be preempted.
  // A victim that was already planned leaves *plan and returns its tokens to *budget.
  bool Reserve(Sequence* sequence, int64_t tokens, std::vector<ScheduledChunk>* plan,
               int64_t* budget);
  void Preempt(Sequence* sequence);
  bool Admit(Sequence* sequence, int64_t budget, std::vector<ScheduledChunk>* plan);
  int64_t BlocksFor(int64_t tokens) const;

  const SchedulerConfig config_;
  BlockManager* const blocks_;
  const int64_t watermark_blocks_;  // kept free at admission for running sequences to grow
  std::vector<std::unique_ptr<Sequence>> running_;
  std::vector<std::unique_ptr<Sequence>> waiting_;
  uint64_t preemptions_ = 0;
  uint64_t prefix_queried_tokens_ = 0;
  uint64_t prefix_hit_tokens_ = 0;
};

}  // namespace hearth

#endif  // HEARTH_LIB_ENGINE_SCHEDULER_H_
