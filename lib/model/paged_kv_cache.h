// PagedKvCache: keys and values of every sequence in fixed-size blocks, float16 (IEEE
// binary16, as llama.cpp's default cache): attention over many sequences is bound by
// reading them, and half the bytes hold twice the tokens in a memory budget.
//
// A sequence's positions map to blocks through its block table (position p lives in slot
// p % block_tokens of block table[p / block_tokens]); which blocks a sequence owns, and
// which it shares with others, is the BlockManager's business. Each block holds all
// layers, so a block is the whole unit of allocation and reuse. Within a block and layer
// each KV head's rows are contiguous, so that attention, which runs per KV head, streams
// one run of memory per block rather than a slice of every row.
#ifndef HEARTH_LIB_MODEL_PAGED_KV_CACHE_H_
#define HEARTH_LIB_MODEL_PAGED_KV_CACHE_H_

#include <cstdint>
#include <memory>

#include "lib/model/llama_config.h"

namespace hearth {

class PagedKvCache {
 public:
  PagedKvCache(const LlamaConfig& config, int64_t n_blocks, int block_tokens)
      : n_blocks_(n_blocks),
        block_tokens_(block_tokens),
        head_stride_(block_tokens * config.head_dim),
        layer_stride_(block_tokens * config.kv_dim()),
        block_stride_(config.n_layers * layer_stride_),
        // Left uninitialised: a slot is written before it is read, and blocks never
        // handed out cost no memory.
        keys_(std::make_unique_for_overwrite<uint16_t[]>(n_blocks * block_stride_)),
        values_(std::make_unique_for_overwrite<uint16_t[]>(n_blocks * block_stride_)) {}

  // Bytes one block takes (keys and values of every layer).
  static int64_t BytesPerBlock(const LlamaConfig& config, int block_tokens) {
    return 2 * config.n_layers * block_tokens * config.kv_dim() * int64_t{sizeof(uint16_t)};
  }

  int64_t n_blocks() const { return n_blocks_; }
  int block_tokens() const { return block_tokens_; }

  // Keys / values of `kv_head` in `layer` of `block`: (block_tokens, head_dim), slot s in
  // row s.
  uint16_t* Keys(int64_t layer, int64_t block, int64_t kv_head) {
    return &keys_[Offset(layer, block, kv_head)];
  }
  uint16_t* Values(int64_t layer, int64_t block, int64_t kv_head) {
    return &values_[Offset(layer, block, kv_head)];
  }

 private:
  int64_t Offset(int64_t layer, int64_t block, int64_t kv_head) const {
    return block * block_stride_ + layer * layer_stride_ + kv_head * head_stride_;
  }

  int64_t n_blocks_;
  int64_t block_tokens_;
  int64_t head_stride_;   // block_tokens * head_dim
  int64_t layer_stride_;  // n_kv_heads * head_stride
  int64_t block_stride_;  // n_layers * layer_stride
  // (n_blocks, n_layers, n_kv_heads, block_tokens, head_dim)
  std::unique_ptr<uint16_t[]> keys_;
  std::unique_ptr<uint16_t[]> values_;
};

}  // namespace hearth

#endif  // HEARTH_LIB_MODEL_PAGED_KV_CACHE_H_
