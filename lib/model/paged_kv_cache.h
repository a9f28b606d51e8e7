// PagedKvCache: keys and values of every sequence in fixed-size blocks, float16 (IEEE
// binary16, as llama.cpp's default cache): attention over many sequences is bound by
// reading them, and half the bytes hold twice the tokens in a memory budget.
//
// A sequence's positions map to blocks through its block table (position p lives in slot
// p % block_tokens of block table[p / block_tokens]); which blocks a sequence owns, and
// which it shares with others, is the BlockManager's business. Each block holds all
// layers, so a block is the whole unit of allocation and reuse.
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
        kv_dim_(config.kv_dim()),
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

  // Key / value row (n_kv_heads * head_dim,) of `layer` in `slot` of `block`.
  uint16_t* Key(int64_t layer, int64_t block, int64_t slot) {
    return &keys_[Offset(layer, block, slot)];
  }
  uint16_t* Value(int64_t layer, int64_t block, int64_t slot) {
    return &values_[Offset(layer, block, slot)];
  }

 private:
  int64_t Offset(int64_t layer, int64_t block, int64_t slot) const {
    return block * block_stride_ + layer * layer_stride_ + slot * kv_dim_;
  }

  int64_t n_blocks_;
  int64_t block_tokens_;
  int64_t kv_dim_;
  int64_t layer_stride_;  // block_tokens * kv_dim
  int64_t block_stride_;  // n_layers * layer_stride
  std::unique_ptr<uint16_t[]> keys_;    // (n_blocks, n_layers, block_tokens, kv_dim)
  std::unique_ptr<uint16_t[]> values_;  // (n_blocks, n_layers, block_tokens, kv_dim)
};

}  // namespace hearth

#endif  // HEARTH_LIB_MODEL_PAGED_KV_CACHE_H_
