// SimReplica: the service model of one simulated instance, faithful to the Engine's
// scheduler (lib/engine/scheduler.h) at the granularity of whole steps.
//
// Each step, as the Engine does: every running sequence past its prompt decodes one
// token; what is left of max_batch_tokens goes to prompt chunks, running prompts first in
// admission order (first come, first served); then waiting sequences are admitted while
// fewer than max_sequences run and budget is left, their first chunk in the same step.
// The step that computes a prompt's last token yields the first output token; each later
// step yields one more. A step with d decodes and p prompt tokens takes StepSeconds(d, p),
// supplied by the caller (the simulator: d / decode tokens/s at batch d + p / prefill
// tokens/s of a p-token chunk, from the measured profile).
//
// Speed: steps are not simulated one by one. Between two changes of the running set
// (an admission, a prompt finishing, a sequence finishing) every step is identical, so
// the replica jumps over all of them at once (piecewise-constant rates, advanced
// analytically); the number of changes, not of steps or tokens, drives the cost.
//
// Error against the Engine, stated: step boundaries and counts are exact for this
// scheduler; what differs is (1) the step time, additive in decodes and prefill as the
// profile measures them apart, whereas the Engine runs both in one forward pass (the
// profile's interpolation error applies too); (2) no KV-block limit, hence no preemption,
// and no prefix cache (every prompt is computed in full: TTFTs are an upper bound for
// shared prefixes); (3) sampling and scheduling overheads are inside the measured rates
// only. A sequence added mid-step waits for the step in progress to end, as in the Engine.
//
// Times are double seconds of virtual time. Thread-safety: none (owned by the simulator).
#ifndef HEARTH_LIB_SIM_SIM_REPLICA_H_
#define HEARTH_LIB_SIM_SIM_REPLICA_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hearth {

// Seconds one step takes with `decodes` decoding sequences and `prefill_tokens` prompt
// tokens (both >= 0, not both 0). Must return a finite value > 0.
using StepSecondsFn = std::function<double(int decodes, int prefill_tokens)>;

struct ReplicaProgress {
  enum class Kind { kFirstToken, kDone };
  int64_t request = 0;  // the id given to Add
  Kind kind = Kind::kFirstToken;
  double time_s = 0;  // end of the step that produced it
};

class SimReplica {
 public:
  // max_sequences >= 1, max_batch_tokens >= max_sequences, step_seconds non-null.
  static absl::StatusOr<SimReplica> Create(int max_sequences, int max_batch_tokens,
                                           StepSecondsFn step_seconds);

  // Adds a request at time `now_s` (>= the last time given). It is admitted at the next
  // step boundary (at once if the replica is idle). prompt_tokens >= 1,
  // output_tokens >= 1. Progress reached up to now_s is appended to *progress.
  absl::Status Add(double now_s, int64_t request, int prompt_tokens, int output_tokens,
                   std::vector<ReplicaProgress>* progress);

  // Applies every step that ends at or before now_s; appends first tokens and
  // completions, in time order, to *progress.
  void AdvanceTo(double now_s, std::vector<ReplicaProgress>* progress);

  // When the running set next changes (a progress report or an admission), or +infinity
  // when there is nothing to do. Advancing to it yields at least one step.
  double NextChangeS() const;

  int running() const { return static_cast<int>(running_.size()); }
  int waiting() const { return static_cast<int>(waiting_.size()); }
  // Context tokens (prompt + generated) held by running sequences: the KV footprint.
  int64_t context_tokens() const;
  // Totals over the replica's life, counted as steps are applied.
  int64_t output_tokens() const { return output_tokens_; }
  double busy_s() const { return busy_s_; }

 private:
  struct Sequence {
    int64_t request;
    int prompt_tokens;
    int prompt_left;  // prompt tokens not computed yet
    int output_tokens;
    int output_left;  // output tokens not produced yet
    int alloc = 0;    // prompt tokens in the planned step
  };

  SimReplica(int max_sequences, int max_batch_tokens, StepSecondsFn step_seconds);
  // Plans the step starting at boundary_s_: admissions, chunk sizes, its length, and how
  // many identical steps follow before the running set changes.
  void Plan();
  // Applies `steps` planned steps (1 <= steps <= change_steps_).
  void Apply(int64_t steps, std::vector<ReplicaProgress>* progress);
  int64_t StepsUntilChange() const;

  int max_sequences_;
  int max_batch_tokens_;
  StepSecondsFn step_seconds_;
  std::vector<Sequence> running_;  // admission order
  std::deque<Sequence> waiting_;
  double boundary_s_ = 0;     // start of the planned step
  double step_s_ = 0;         // length of each planned step
  int decodes_ = 0;           // decoding sequences in the planned step
  int64_t change_steps_ = 0;  // identical steps until the running set changes
  bool budget_left_ = false;  // the planned step leaves budget to admit a waiting one
  int64_t output_tokens_ = 0;
  double busy_s_ = 0;
};

}  // namespace hearth

#endif  // HEARTH_LIB_SIM_SIM_REPLICA_H_
