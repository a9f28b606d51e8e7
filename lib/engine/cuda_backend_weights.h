// The CUDA backend's copy of a LlamaModel's weights: every tensor uploaded once, in its
// GGUF (quantised) form, into one device arena; the norms float32. Internal to
// lib/engine/cuda_backend*.
#ifndef HEARTH_LIB_ENGINE_CUDA_BACKEND_WEIGHTS_H_
#define HEARTH_LIB_ENGINE_CUDA_BACKEND_WEIGHTS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "kernels/cpu/quant_types.h"
#include "lib/engine/cuda_backend_memory.h"
#include "lib/model/llama_config.h"
#include "lib/model/llama_weights.h"

namespace hearth::cuda_backend {

// A (rows, cols) matrix on the device in its GGUF layout (see WeightMatrix).
struct DeviceMatrix {
  cpu::GgmlType type = cpu::GgmlType::kF32;
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
};

struct DeviceLayer {
  const float* attn_norm = nullptr;
  DeviceMatrix wq, wk, wv, wo;
  const float* ffn_norm = nullptr;
  DeviceMatrix w_gate, w_up, w_down;
};

struct DeviceWeights {
  DeviceMemory arena;  // owns every pointer below
  DeviceMatrix token_embd;
  std::vector<DeviceLayer> layers;
  const float* output_norm = nullptr;
  DeviceMatrix output;  // the same device bytes as token_embd when tied
};

// Device bytes UploadWeights allocates for `weights` (one arena, tensors 256-byte
// aligned, a tied output counted once).
size_t DeviceWeightBytes(const LlamaConfig& config, const LlamaWeights& weights);

// Allocates the arena on the current device and copies every tensor into it.
// ResourceExhausted when the arena cannot be allocated, Internal on another CUDA error.
absl::StatusOr<DeviceWeights> UploadWeights(const LlamaConfig& config,
                                            const LlamaWeights& weights);

}  // namespace hearth::cuda_backend

#endif  // HEARTH_LIB_ENGINE_CUDA_BACKEND_WEIGHTS_H_
