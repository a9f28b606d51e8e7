// BlockManager: which KV blocks are in use, by how many sequences, and which finished
// blocks can be reused by a later prompt with the same prefix (vLLM-style prefix caching).
//
// A block is in exactly one of three states:
//   used:   reference count > 0 (in some sequence's block table);
//   cached: reference count 0 but indexed by its contents, so AcquirePrefix can hand it
//           out again; evictable, least recently released first;
//   free:   reference count 0 and not indexed.
// used_blocks() + cached_blocks() + free_blocks() == total_blocks() at all times.
//
// The index key of block i of a sequence is a hash chain over its tokens: key(i) =
// hash(key(i - 1), tokens of block i), so equal blocks behind equal prefixes share a key.
// Hashes only find candidates: every indexed block keeps its tokens and the identity of
// the block it was computed behind (id and allocation epoch), and a lookup checks both, so
// a hash collision can cost a cache hit but never hand out keys and values computed for
// different tokens.
//
// Usage (one step of a scheduler):
//   std::vector<int32_t> table;
//   int64_t cached = manager.AcquirePrefix(prompt, prompt.size() - 1, &table);
//   while (table.size() * manager.block_tokens() < needed) {
//     std::optional<int32_t> block = manager.Allocate();
//     if (!block) { /* preempt someone */ }
//     table.push_back(*block);
//   }
//   ... compute keys and values of tokens [cached, n) into the blocks of table ...
//   manager.Publish(tokens, table, n / manager.block_tokens());
//   ... when the sequence finishes or is preempted:
//   manager.Release(table);
//
// Thread-safety: none; one thread (the scheduler) owns a BlockManager. Passing a block id
// that is out of range, or releasing a block nobody holds, is a programming error: it
// asserts in debug builds and is ignored in release builds.
#ifndef HEARTH_LIB_KV_BLOCK_MANAGER_H_
#define HEARTH_LIB_KV_BLOCK_MANAGER_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"

namespace hearth {

class BlockManager {
 public:
  // n_blocks > 0 (at most INT32_MAX), block_tokens > 0.
  BlockManager(int64_t n_blocks, int block_tokens, bool prefix_caching);

  // The chain hash: key of a block from its parent's key and its tokens.
  using ChainHash = uint64_t (*)(uint64_t parent_key, absl::Span<const int32_t> tokens);
  // For tests: a deliberately weak hash makes collisions common, to show that they cost
  // hits but never correctness.
  BlockManager(int64_t n_blocks, int block_tokens, bool prefix_caching, ChainHash chain_hash);
  BlockManager(const BlockManager&) = delete;
  BlockManager& operator=(const BlockManager&) = delete;

  int block_tokens() const { return block_tokens_; }
  int64_t total_blocks() const { return static_cast<int64_t>(blocks_.size()); }
  int64_t used_blocks() const { return used_; }      // reference count > 0
  int64_t cached_blocks() const { return cached_; }  // count 0, indexed (evictable)
  // Reference count 0, not indexed.
  int64_t free_blocks() const { return static_cast<int64_t>(free_.size()); }
  // Free + cached: what Allocate() can still hand out.
  int64_t available_blocks() const { return free_blocks() + cached_blocks(); }

  // Looks up the longest run of whole blocks of `tokens` (from token 0) that are indexed,
  // covering at most max_tokens tokens (rounded down to whole blocks). Takes one
  // reference on each block found (a cached block becomes used again), appends their ids
  // to *table and returns the number of tokens they cover. With prefix caching off it
  // returns 0.
  int64_t AcquirePrefix(absl::Span<const int32_t> tokens, int64_t max_tokens,
                        std::vector<int32_t>* table);

  // A block with reference count 1: a free one if any, else the least recently released
  // cached block (evicted from the index). nullopt when neither exists. O(1).
  std::optional<int32_t> Allocate();

  // Indexes the first n_full_blocks blocks of a sequence's block table: block i of
  // `table` holds the keys/values of tokens[i*block_tokens, (i+1)*block_tokens). Blocks
  // already indexed, or already seen by a previous call for this table, are skipped
  // cheaply (a table is published front to back, so only its unseen tail is looked at),
  // so calling it after every step costs O(new blocks). If an equal block is already
  // indexed under another id, this block stays unindexed (it is freed, not cached, on
  // release). n_full_blocks is clamped to what table and tokens cover. No-op when prefix
  // caching is off.
  void Publish(absl::Span<const int32_t> tokens, absl::Span<const int32_t> table,
               int64_t n_full_blocks);

  // Drops one reference from each block of table, in reverse order, so that a sequence's
  // tail blocks are evicted before its head blocks. A block reaching 0 becomes cached
  // (most recently used end of the LRU) if indexed, else free. O(table.size()).
  void Release(absl::Span<const int32_t> table);


 private:
  // What Publish has learnt about a block since it was last allocated.
  enum class State : uint8_t {
    kUnpublished,  // not yet seen by Publish
    kIndexed,      // in index_ under `key`
    kDuplicate,    // equal to indexed block `canonical` (as of its `canonical_epoch`)
    kUnindexable,  // a hash collision here or before it: never indexed
  };

  // The block a block was computed behind: its children verify it on lookup.
  struct Parent {
    int32_t id = -1;  // -1 for the first block of a sequence
    uint64_t epoch = 0;
    bool operator==(const Parent&) const = default;
  };

  struct Block {
    int32_t refs = 0;
    State state = State::kUnpublished;
    uint64_t epoch = 0;  // bumped by every Allocate: contents from before are gone
    uint64_t key = 0;    // the hash chain up to this block (kIndexed, kDuplicate)
    Parent parent;       // kIndexed: the block this one was computed behind
    int32_t canonical = -1;  // kDuplicate: the indexed block with equal contents
    uint64_t canonical_epoch = 0;
    int32_t lru_prev = -1;  // cached blocks only: toward the least recently released
    int32_t lru_next = -1;
  };

  bool ValidId(int32_t id) const;
  absl::Span<const int32_t> StoredTokens(int32_t id) const;
  uint64_t ChainKey(uint64_t parent_key, absl::Span<const int32_t> block_tokens) const;
  // The indexed block that stands for `id`'s contents, or nullopt (unindexable, or its
  // equal block was evicted since).
  std::optional<Parent> CanonicalOf(int32_t id) const;
  void LruPushBack(int32_t id);
  void LruRemove(int32_t id);

  const int block_tokens_;
  const bool prefix_caching_;
  const ChainHash chain_hash_;
  std::vector<Block> blocks_;
  std::vector<int32_t> free_;  // a stack of free block ids
  int32_t lru_head_ = -1;      // least recently released cached block
  int32_t lru_tail_ = -1;      // most recently released cached block
  int64_t used_ = 0;
  int64_t cached_ = 0;
  absl::flat_hash_map<uint64_t, int32_t> index_;  // chain key -> indexed block
  // Tokens of indexed blocks: (total_blocks, block_tokens); empty without prefix caching.
  std::vector<int32_t> tokens_;
};

}  // namespace hearth

#endif  // HEARTH_LIB_KV_BLOCK_MANAGER_H_
