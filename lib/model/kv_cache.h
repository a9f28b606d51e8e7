// KvCache: the keys and values of one sequence, contiguous per layer, in float32.
#ifndef HEARTH_LIB_MODEL_KV_CACHE_H_
#define HEARTH_LIB_MODEL_KV_CACHE_H_

#include <cstdint>
#include <memory>

#include "lib/model/llama_config.h"

namespace hearth {

class KvCache {
 public:
  KvCache(const LlamaConfig& config, int64_t capacity)
      : capacity_(capacity),
        kv_dim_(config.kv_dim()),
        layer_stride_(capacity * config.kv_dim()),
        // Left uninitialised: a position is written before it is read, and untouched
        // pages of a long context cost no memory.
        keys_(std::make_unique_for_overwrite<float[]>(config.n_layers * layer_stride_)),
        values_(std::make_unique_for_overwrite<float[]>(config.n_layers * layer_stride_)) {}

  int64_t capacity() const { return capacity_; }

  // Key / value row (n_kv_heads * head_dim,) of `layer` at position `pos`.
  float* Key(int64_t layer, int64_t pos) { return &keys_[layer * layer_stride_ + pos * kv_dim_]; }
  float* Value(int64_t layer, int64_t pos) {
    return &values_[layer * layer_stride_ + pos * kv_dim_];
  }

 private:
  int64_t capacity_;
  int64_t kv_dim_;
  int64_t layer_stride_;
  std::unique_ptr<float[]> keys_;    // (n_layers, capacity, kv_dim)
  std::unique_ptr<float[]> values_;  // (n_layers, capacity, kv_dim)
};

}  // namespace hearth

#endif  // HEARTH_LIB_MODEL_KV_CACHE_H_
