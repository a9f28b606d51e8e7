#include "lib/kv/block_manager.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include "absl/hash/hash.h"

namespace hearth {
namespace {

// The chain key "before" the first block. Any constant works; this one is not 0 so that
// an all-zero Block is never mistaken for a real chain.
constexpr uint64_t kRootKey = 0x9e3779b97f4a7c15ull;

uint64_t DefaultChainHash(uint64_t parent_key, absl::Span<const int32_t> tokens) {
  return absl::HashOf(parent_key, tokens);
}

}  // namespace

BlockManager::BlockManager(int64_t n_blocks, int block_tokens, bool prefix_caching)
    : BlockManager(n_blocks, block_tokens, prefix_caching, &DefaultChainHash) {}

BlockManager::BlockManager(int64_t n_blocks, int block_tokens, bool prefix_caching,
                           ChainHash chain_hash)
    : block_tokens_(std::max(1, block_tokens)),
      prefix_caching_(prefix_caching),
      chain_hash_(chain_hash != nullptr ? chain_hash : &DefaultChainHash) {
  assert(n_blocks > 0 && n_blocks <= std::numeric_limits<int32_t>::max());
  assert(block_tokens > 0);
  n_blocks = std::clamp<int64_t>(n_blocks, 0, std::numeric_limits<int32_t>::max());
  blocks_.resize(static_cast<size_t>(n_blocks));
  // Handed out from the back: block 0 first, so that a fresh manager allocates in order.
  free_.reserve(blocks_.size());
  for (int64_t id = n_blocks - 1; id >= 0; --id) free_.push_back(static_cast<int32_t>(id));
  if (prefix_caching_) tokens_.resize(blocks_.size() * static_cast<size_t>(block_tokens_));
}

bool BlockManager::ValidId(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < blocks_.size();
}

absl::Span<const int32_t> BlockManager::StoredTokens(int32_t id) const {
  return absl::MakeConstSpan(tokens_).subspan(static_cast<size_t>(id) * block_tokens_,
                                              block_tokens_);
}

uint64_t BlockManager::ChainKey(uint64_t parent_key,
                                absl::Span<const int32_t> block_tokens) const {
  return chain_hash_(parent_key, block_tokens);
}

std::optional<BlockManager::Parent> BlockManager::CanonicalOf(int32_t id) const {
  const Block& block = blocks_[id];
  if (block.state == State::kIndexed) return Parent{id, block.epoch};
  if (block.state == State::kDuplicate) {
    // Its equal block may have been evicted (epoch moved on) or displaced since.
    const Block& canonical = blocks_[block.canonical];
    if (canonical.epoch == block.canonical_epoch && canonical.state == State::kIndexed) {
      return Parent{block.canonical, block.canonical_epoch};
    }
  }
  return std::nullopt;
}

void BlockManager::LruPushBack(int32_t id) {
  Block& block = blocks_[id];
  block.lru_prev = lru_tail_;
  block.lru_next = -1;
  if (lru_tail_ >= 0) {
    blocks_[lru_tail_].lru_next = id;
  } else {
    lru_head_ = id;
  }
  lru_tail_ = id;
}

void BlockManager::LruRemove(int32_t id) {
  Block& block = blocks_[id];
  if (block.lru_prev >= 0) {
    blocks_[block.lru_prev].lru_next = block.lru_next;
  } else {
    lru_head_ = block.lru_next;
  }
  if (block.lru_next >= 0) {
    blocks_[block.lru_next].lru_prev = block.lru_prev;
  } else {
    lru_tail_ = block.lru_prev;
  }
  block.lru_prev = block.lru_next = -1;
}

int64_t BlockManager::AcquirePrefix(absl::Span<const int32_t> tokens, int64_t max_tokens,
                                    std::vector<int32_t>* table) {
  if (!prefix_caching_) return 0;
  const int64_t limit = std::clamp<int64_t>(max_tokens, 0, static_cast<int64_t>(tokens.size()));
  const int64_t n_blocks = limit / block_tokens_;
  uint64_t key = kRootKey;
  Parent parent;  // the block found for the previous position
  int64_t found = 0;
  for (; found < n_blocks; ++found) {
    absl::Span<const int32_t> chunk = tokens.subspan(found * block_tokens_, block_tokens_);
    key = ChainKey(key, chunk);
    auto it = index_.find(key);
    if (it == index_.end()) break;
    const int32_t id = it->second;
    // The key is only a hash: the block must hold these very tokens and have been
    // computed behind the block just matched (same id, not reallocated since).
    if (blocks_[id].parent != parent || !std::equal(chunk.begin(), chunk.end(),
                                                    StoredTokens(id).begin())) {
      break;
    }
    Block& block = blocks_[id];
    if (block.refs == 0) {
      LruRemove(id);
      --cached_;
      ++used_;
    }
    ++block.refs;
    table->push_back(id);
    parent = Parent{id, block.epoch};
  }
  return found * block_tokens_;
}

std::optional<int32_t> BlockManager::Allocate() {
  int32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else if (lru_head_ >= 0) {
    id = lru_head_;
    LruRemove(id);
    --cached_;
    // Only indexed blocks are cached, and each is the one entry under its key.
    assert(blocks_[id].state == State::kIndexed && index_.at(blocks_[id].key) == id);
    index_.erase(blocks_[id].key);
  } else {
    return std::nullopt;
  }
  Block& block = blocks_[id];
  block.refs = 1;
  block.state = State::kUnpublished;
  ++block.epoch;
  ++used_;
  return id;
}

void BlockManager::Publish(absl::Span<const int32_t> tokens, absl::Span<const int32_t> table,
                           int64_t n_full_blocks) {
  if (!prefix_caching_) return;
  const int64_t n = std::clamp<int64_t>(
      n_full_blocks, 0,
      std::min<int64_t>(static_cast<int64_t>(table.size()),
                        static_cast<int64_t>(tokens.size()) / block_tokens_));
  // A table is published front to back, so its unseen blocks are a tail: walking back
  // from the end to the first seen block costs only the new ones.
  int64_t start = n;
  for (; start > 0; --start) {
    if (!ValidId(table[start - 1])) {
      assert(false && "BlockManager::Publish: block id out of range");
      return;
    }
    if (blocks_[table[start - 1]].state != State::kUnpublished) break;
  }
  for (int64_t i = start; i < n; ++i) {
    const int32_t id = table[i];
    Block& block = blocks_[id];
    absl::Span<const int32_t> chunk = tokens.subspan(i * block_tokens_, block_tokens_);
    uint64_t parent_key = kRootKey;
    std::optional<Parent> parent = Parent{};
    if (i > 0) {
      parent_key = blocks_[table[i - 1]].key;
      parent = CanonicalOf(table[i - 1]);
    }
    if (!parent) {
      // Nothing indexed stands for the block before, so no lookup could reach this one.
      block.state = State::kUnindexable;
      continue;
    }
    block.key = ChainKey(parent_key, chunk);
    auto [it, inserted] = index_.try_emplace(block.key, id);
    if (!inserted) {
      const int32_t other_id = it->second;
      Block& other = blocks_[other_id];
      const bool same_tokens =
          std::equal(chunk.begin(), chunk.end(), StoredTokens(other_id).begin());
      if (same_tokens && other.parent == *parent) {
        block.state = State::kDuplicate;
        block.canonical = other_id;
        block.canonical_epoch = other.epoch;
        continue;
      }
      // Stale: computed behind a block that has since been evicted or displaced, so no
      // lookup can reach it any more; this block takes its key.
      const bool other_stale =
          other.parent.id >= 0 && (blocks_[other.parent.id].epoch != other.parent.epoch ||
                                   blocks_[other.parent.id].state != State::kIndexed);
      if (!other_stale) {
        // A live block with a different content under the same key: a hash collision.
        block.state = State::kUnindexable;
        continue;
      }
      other.state = State::kUnindexable;
      if (other.refs == 0) {
        LruRemove(other_id);
        --cached_;
        free_.push_back(other_id);
      }
      it->second = id;
    }
    block.state = State::kIndexed;
    block.parent = *parent;
    std::copy(chunk.begin(), chunk.end(),
              tokens_.begin() + static_cast<ptrdiff_t>(id) * block_tokens_);
  }
}

void BlockManager::Release(absl::Span<const int32_t> table) {
  for (auto it = table.rbegin(); it != table.rend(); ++it) {
    const int32_t id = *it;
    if (!ValidId(id) || blocks_[id].refs <= 0) {
      assert(false && "BlockManager::Release: block out of range or not held");
      continue;
    }
    Block& block = blocks_[id];
    if (--block.refs > 0) continue;
    --used_;
    if (block.state == State::kIndexed) {
      LruPushBack(id);
      ++cached_;
    } else {
      free_.push_back(id);
    }
  }
}

}  // namespace hearth
