// The CPU ForwardBackend: LlamaModel::Forward over a host PagedKvCache.
#include <memory>
#include <string_view>
#include <vector>

#include "lib/engine/forward_backend.h"
#include "lib/model/paged_kv_cache.h"

namespace hearth {
namespace {

class CpuBackend final : public ForwardBackend {
 public:
  CpuBackend(const LlamaModel& model, KvCacheShape kv, ThreadPool* pool,
             cpu::ActivationPrecision precision)
      : model_(model),
        cache_(model.config(), kv.blocks, kv.block_tokens),
        pool_(*pool),
        precision_(precision) {}

  absl::Status Forward(absl::Span<const SequenceChunk> batch,
                       std::vector<float>* logits) override {
    return model_.Forward(batch, cache_, pool_, logits, precision_);
  }

  std::string_view name() const override { return "cpu"; }

 private:
  const LlamaModel& model_;
  PagedKvCache cache_;
  ThreadPool& pool_;
  const cpu::ActivationPrecision precision_;
};

}  // namespace

std::unique_ptr<ForwardBackend> MakeCpuBackend(const LlamaModel& model, KvCacheShape kv,
                                               ThreadPool* pool,
                                               cpu::ActivationPrecision precision) {
  return std::make_unique<CpuBackend>(model, kv, pool, precision);
}

}  // namespace hearth
