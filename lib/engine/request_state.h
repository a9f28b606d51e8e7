// RequestState: what a submitted request shares between the callers that stream or wait
// on it and the scheduler thread that produces it.
//
// The scheduler pushes pieces and, once, the final result; callers block in NextPiece()
// or TakeResult() until there is something to take. A cancel request is a flag the
// scheduler reads at its next step.
#ifndef HEARTH_LIB_ENGINE_REQUEST_STATE_H_
#define HEARTH_LIB_ENGINE_REQUEST_STATE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "hearth/engine.h"

namespace hearth {

using Clock = std::chrono::steady_clock;

class RequestState {
 public:
  RequestState(RequestId id, GenerateRequest request, TokenCallback on_token,
               std::vector<int32_t> prompt, Clock::time_point submitted)
      : id_(id),
        request_(std::move(request)),
        on_token_(std::move(on_token)),
        prompt_(std::move(prompt)),
        submitted_(submitted) {}

  RequestId id() const { return id_; }
  const GenerateRequest& request() const { return request_; }
  const std::vector<int32_t>& prompt() const { return prompt_; }
  Clock::time_point submitted() const { return submitted_; }
  bool streams_to_callback() const { return static_cast<bool>(on_token_); }

  void RequestCancel() { cancel_requested_.store(true, std::memory_order_relaxed); }
  bool cancel_requested() const { return cancel_requested_.load(std::memory_order_relaxed); }

  // Scheduler side. Deliver() hands a piece to the callback (returns its verdict) or
  // queues it for NextPiece() (returns true).
  bool Deliver(StreamPiece piece);
  void Finish(GenerateResult result);
  bool finished() const;

  // Caller side: the next queued piece, or nullopt once finished and drained.
  std::optional<StreamPiece> NextPiece();
  // Blocks until finished; the result can be taken once.
  GenerateResult TakeResult();

 private:
  const RequestId id_;
  const GenerateRequest request_;
  const TokenCallback on_token_;
  const std::vector<int32_t> prompt_;
  const Clock::time_point submitted_;
  std::atomic<bool> cancel_requested_{false};

  mutable std::mutex mu_;  // not absl::Mutex: see BatchEngine::mu_
  std::condition_variable changed_;  // a piece arrived or the request finished
  std::deque<StreamPiece> pieces_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  GenerateResult result_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hearth

#endif  // HEARTH_LIB_ENGINE_REQUEST_STATE_H_
