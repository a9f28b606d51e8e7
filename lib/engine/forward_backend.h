// ForwardBackend: what the Engine's scheduler needs from the hardware that runs the model —
// one batched forward pass over a paged KV cache that the backend owns, with the logits
// back in host memory for sampling. The scheduler, block manager, sampler and request API
// are the same for every backend.
#ifndef HEARTH_LIB_ENGINE_FORWARD_BACKEND_H_
#define HEARTH_LIB_ENGINE_FORWARD_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "lib/model/llama_model.h"
#include "lib/runtime/thread_pool.h"

namespace hearth {

class ForwardBackend {
 public:
  virtual ~ForwardBackend() = default;

  // LlamaModel::Forward's contract: runs every chunk of `batch` in one pass, writes the new
  // tokens' keys and values into the blocks their tables name (the BlockManager's
  // numbering, 0 .. kv_blocks - 1) and the requested logits into *logits, (rows, vocab)
  // in batch order. Fails, before computing anything, on a malformed batch; a failure
  // fails the step's requests, not the Engine.
  virtual absl::Status Forward(absl::Span<const SequenceChunk> batch,
                               std::vector<float>* logits) = 0;

  // "cpu" or "cuda".
  virtual std::string_view name() const = 0;
};

// Shape of the KV cache a backend allocates for the Engine's block manager.
struct KvCacheShape {
  int64_t blocks = 0;
  int block_tokens = 16;
};

// The CPU: LlamaModel::Forward over a host PagedKvCache, on `pool` (which must outlive the
// backend), its activations quantised to `precision`. `model` must outlive it too.
std::unique_ptr<ForwardBackend> MakeCpuBackend(
    const LlamaModel& model, KvCacheShape kv, ThreadPool* pool,
    cpu::ActivationPrecision precision = cpu::ActivationPrecision::k16Bit);

// An NVIDIA GPU (`device`, a CUDA ordinal): uploads the weights once, allocates the KV
// cache on the device, runs the forward pass with the kernels of kernels/cuda. `model`
// must outlive the backend. Unimplemented in a build without CUDA; FailedPrecondition
// where no CUDA device (or driver) exists; ResourceExhausted when the weights and the KV
// cache do not fit in the device's free memory.
absl::StatusOr<std::unique_ptr<ForwardBackend>> MakeCudaBackend(const LlamaModel& model,
                                                                KvCacheShape kv, int device);

// Bytes one KV block takes on the CUDA backend: float32 keys and values of every layer
// (the CPU's PagedKvCache keeps float16, half of it).
inline int64_t CudaKvBlockBytes(const LlamaConfig& c, int block_tokens) {
  return 2 * c.n_layers * block_tokens * c.kv_dim() * int64_t{sizeof(float)};
}

}  // namespace hearth

#endif  // HEARTH_LIB_ENGINE_FORWARD_BACKEND_H_
