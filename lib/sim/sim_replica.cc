#include "lib/sim/sim_replica.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace hearth {
namespace {

// Times come back from the event queue rounded up to whole nanoseconds and converted to
// double seconds; a step that ends at a change time must still count as done there.
constexpr double kStepTolerance = 1e-6;

}  // namespace

SimReplica::SimReplica(int max_sequences, int max_batch_tokens, StepSecondsFn step_seconds)
    : max_sequences_(max_sequences),
      max_batch_tokens_(max_batch_tokens),
      step_seconds_(std::move(step_seconds)) {}

absl::StatusOr<SimReplica> SimReplica::Create(int max_sequences, int max_batch_tokens,
                                              StepSecondsFn step_seconds) {
  if (max_sequences < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_sequences must be >= 1, got ", max_sequences));
  }
  if (max_batch_tokens < max_sequences) {
    return absl::InvalidArgumentError(absl::StrCat("max_batch_tokens (", max_batch_tokens,
                                                   ") must be >= max_sequences (", max_sequences,
                                                   ")"));
  }
  if (!step_seconds) return absl::InvalidArgumentError("step_seconds is empty");
  return SimReplica(max_sequences, max_batch_tokens, std::move(step_seconds));
}

absl::Status SimReplica::Add(double now_s, int64_t request, int prompt_tokens, int output_tokens,
                             std::vector<ReplicaProgress>* progress) {
  if (prompt_tokens < 1 || output_tokens < 1) {
    return absl::InvalidArgumentError(absl::StrCat("request ", request, ": prompt_tokens (",
                                                   prompt_tokens, ") and output_tokens (",
                                                   output_tokens, ") must be >= 1"));
  }
  AdvanceTo(now_s, progress);
  waiting_.push_back(Sequence{request, prompt_tokens, prompt_tokens, output_tokens, output_tokens});
  if (running_.empty()) {  // idle: the Engine's loop wakes and plans at once
    boundary_s_ = std::max(boundary_s_, now_s);
    Plan();
  }
  return absl::OkStatus();
}

void SimReplica::Plan() {
  int budget = max_batch_tokens_;
  decodes_ = 0;
  for (Sequence& s : running_) {
    s.alloc = 0;
    if (s.prompt_left == 0) ++decodes_;
  }
  budget -= decodes_;
  for (Sequence& s : running_) {
    if (s.prompt_left == 0) continue;
    s.alloc = std::min(s.prompt_left, budget);
    budget -= s.alloc;
  }
  while (budget > 0 && !waiting_.empty() && static_cast<int>(running_.size()) < max_sequences_) {
    Sequence s = waiting_.front();
    waiting_.pop_front();
    s.alloc = std::min(s.prompt_left, budget);
    budget -= s.alloc;
    running_.push_back(s);
  }
  budget_left_ = budget > 0;
  if (running_.empty()) {
    step_s_ = 0;
    change_steps_ = 0;
    return;
  }
  step_s_ = step_seconds_(decodes_, max_batch_tokens_ - decodes_ - budget);
  // Every step repeats this plan until a decode finishes or a prompt finishes; a prompt
  // cut by the budget keeps its chunk size for floor(left / chunk) steps.
  change_steps_ = std::numeric_limits<int64_t>::max();
  for (const Sequence& s : running_) {
    if (s.prompt_left == 0) {
      change_steps_ = std::min<int64_t>(change_steps_, s.output_left);
    } else if (s.alloc > 0) {
      change_steps_ = std::min<int64_t>(change_steps_, s.prompt_left / s.alloc);
    }
  }
}

void SimReplica::Apply(int64_t steps, std::vector<ReplicaProgress>* progress) {
  const double end_s = boundary_s_ + static_cast<double>(steps) * step_s_;
  std::vector<Sequence> still_running;
  still_running.reserve(running_.size());
  for (Sequence& s : running_) {
    if (s.prompt_left == 0) {
      s.output_left -= static_cast<int>(steps);
      output_tokens_ += steps;
    } else if (s.alloc > 0) {
      s.prompt_left -= static_cast<int>(steps * s.alloc);
      if (s.prompt_left == 0) {  // the step with the prompt's last token samples one
        --s.output_left;
        ++output_tokens_;
        progress->push_back({s.request, ReplicaProgress::Kind::kFirstToken, end_s});
      }
    }
    if (s.output_left == 0) {
      progress->push_back({s.request, ReplicaProgress::Kind::kDone, end_s});
    } else {
      still_running.push_back(s);
    }
  }
  running_ = std::move(still_running);
  busy_s_ += end_s - boundary_s_;
  boundary_s_ = end_s;
  change_steps_ -= steps;
}

void SimReplica::AdvanceTo(double now_s, std::vector<ReplicaProgress>* progress) {
  while (!running_.empty()) {
    const int64_t until_change = StepsUntilChange();
    const double elapsed = (now_s - boundary_s_) / step_s_ + kStepTolerance;
    if (elapsed < 1) return;
    const int64_t steps =
        elapsed >= static_cast<double>(until_change) ? until_change : static_cast<int64_t>(elapsed);
    Apply(steps, progress);
    if (steps < until_change) return;
    Plan();
  }
  boundary_s_ = std::max(boundary_s_, now_s);
}

double SimReplica::NextChangeS() const {
  if (running_.empty()) return std::numeric_limits<double>::infinity();
  return boundary_s_ + static_cast<double>(StepsUntilChange()) * step_s_;
}

int64_t SimReplica::StepsUntilChange() const {
  // A request added mid-step is admitted at the next boundary if the plan left room.
  const bool admits =
      !waiting_.empty() && budget_left_ && static_cast<int>(running_.size()) < max_sequences_;
  return admits ? 1 : change_steps_;
}

int64_t SimReplica::context_tokens() const {
  int64_t tokens = 0;
  for (const Sequence& s : running_) {
    tokens += (s.prompt_tokens - s.prompt_left) + (s.output_tokens - s.output_left);
  }
  return tokens;
}

}  // namespace hearth
