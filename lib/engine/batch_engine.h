// BatchEngine: the Engine — a scheduler thread that runs continuous-batching steps of the
// model on a ForwardBackend (CPU or CUDA) over a paged KV cache, and the request API
// around it.
#ifndef HEARTH_LIB_ENGINE_BATCH_ENGINE_H_
#define HEARTH_LIB_ENGINE_BATCH_ENGINE_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "hearth/engine.h"
#include "lib/engine/engine_metrics.h"
#include "lib/engine/forward_backend.h"
#include "lib/engine/request_state.h"
#include "lib/engine/scheduler.h"
#include "lib/kv/block_manager.h"
#include "lib/model/llama_model.h"
#include "lib/runtime/thread_pool.h"
#include "lib/tokenizer/tokenizer.h"

namespace hearth {

struct EngineLimits {
  int64_t context;         // tokens per request (prompt + output)
  int64_t kv_blocks;
  int block_tokens;
  SchedulerConfig scheduler;
  bool prefix_caching;
};

class BatchEngine final : public Engine {
 public:
  // `backend` runs `model` (and, for the CPU, on `pool`); `pool` also samples.
  BatchEngine(std::unique_ptr<LlamaModel> model, std::unique_ptr<Tokenizer> tokenizer,
              std::unique_ptr<ThreadPool> pool, std::unique_ptr<ForwardBackend> backend,
              const EngineLimits& limits, const LoadTimings& load);
  ~BatchEngine() override;

  absl::StatusOr<RequestId> Submit(GenerateRequest request, TokenCallback on_token) override;
  absl::StatusOr<std::optional<StreamPiece>> Next(RequestId id) override;
  absl::Status Cancel(RequestId id) override;
  absl::StatusOr<GenerateResult> Wait(RequestId id) override;
  absl::StatusOr<GenerateResult> Generate(const GenerateRequest& request,
                                          const TokenCallback& on_token) override;
  void Shutdown() override;
  EngineMetrics metrics() const override { return metrics_.Snapshot(); }

  const ModelInfo& model_info() const override { return info_; }
  double load_ms() const override { return load_.total_ms; }
  const LoadTimings& load_timings() const override { return load_; }
  int threads() const override { return pool_->size(); }

 private:
  absl::StatusOr<std::vector<int32_t>> PromptTokens(const GenerateRequest& request) const;
  absl::StatusOr<std::shared_ptr<RequestState>> Find(RequestId id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Scheduler thread.
  void Loop();
  // Moves submitted requests into the scheduler; false once shut down and drained.
  bool TakeSubmissions(bool idle);
  // Finishes cancelled and expired sequences.
  void Reap();
  void RunStep(const std::vector<ScheduledChunk>& plan);
  // Appends a sampled token; returns how the sequence ends, if it does.
  std::optional<FinishReason> Append(Sequence& s, int32_t token, Clock::time_point now);
  void FinishSequence(Sequence* s, FinishReason reason, absl::Status error = absl::OkStatus());

  const std::unique_ptr<LlamaModel> model_;
  const std::unique_ptr<Tokenizer> tokenizer_;
  const EngineLimits limits_;
  const LoadTimings load_;
  ModelInfo info_;
  MetricsRecorder metrics_;

  // Owned by the scheduler thread; the backend refers to the model and the pool.
  const std::unique_ptr<ThreadPool> pool_;
  const std::unique_ptr<ForwardBackend> backend_;
  BlockManager blocks_;
  Scheduler scheduler_;
  std::vector<float> logits_;

  // std::mutex rather than absl::Mutex: the distribution's Abseil is not built with
  // ThreadSanitizer, which then cannot see absl::Mutex's ordering.
  mutable std::mutex mu_;
  std::condition_variable submitted_;  // inbox_ gained a request, or shutdown began
  bool accepting_ ABSL_GUARDED_BY(mu_) = true;
  RequestId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<std::shared_ptr<RequestState>> inbox_ ABSL_GUARDED_BY(mu_);
  struct Entry {
    std::shared_ptr<RequestState> state;
    bool waited = false;  // a Wait() has claimed the result
  };
  absl::flat_hash_map<RequestId, Entry> requests_ ABSL_GUARDED_BY(mu_);

  std::mutex join_mu_;  // one Shutdown() joins the scheduler thread
  std::thread loop_;
};

}  // namespace hearth

#endif  // HEARTH_LIB_ENGINE_BATCH_ENGINE_H_
