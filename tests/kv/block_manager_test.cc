#include "lib/kv/block_manager.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hearth {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

constexpr int kBlockTokens = 4;

// n tokens start, start + 1, ...
std::vector<int32_t> Tokens(int n, int32_t start) {
  std::vector<int32_t> tokens(n);
  std::iota(tokens.begin(), tokens.end(), start);
  return tokens;
}

std::vector<int32_t> Concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void ExpectConsistent(const BlockManager& m) {
  EXPECT_EQ(m.used_blocks() + m.cached_blocks() + m.free_blocks(), m.total_blocks());
  EXPECT_EQ(m.available_blocks(), m.cached_blocks() + m.free_blocks());
}

// Appends blocks to *table until it covers n_tokens; false (table as far as it got) when
// the manager runs out.
bool Grow(BlockManager& m, int64_t n_tokens, std::vector<int32_t>* table) {
  while (static_cast<int64_t>(table->size()) * m.block_tokens() < n_tokens) {
    std::optional<int32_t> block = m.Allocate();
    if (!block) return false;
    table->push_back(*block);
  }
  return true;
}

// A sequence computed from scratch (no prefix lookup) and published.
std::vector<int32_t> Computed(BlockManager& m, const std::vector<int32_t>& tokens) {
  std::vector<int32_t> table;
  EXPECT_TRUE(Grow(m, static_cast<int64_t>(tokens.size()), &table));
  m.Publish(tokens, table, static_cast<int64_t>(tokens.size()) / m.block_tokens());
  return table;
}

TEST(BlockManagerTest, StartsAllFree) {
  BlockManager m(8, kBlockTokens, true);
  EXPECT_EQ(m.block_tokens(), kBlockTokens);
  EXPECT_EQ(m.total_blocks(), 8);
  EXPECT_EQ(m.free_blocks(), 8);
  EXPECT_EQ(m.used_blocks(), 0);
  EXPECT_EQ(m.cached_blocks(), 0);
  EXPECT_EQ(m.available_blocks(), 8);
}

TEST(BlockManagerTest, AllocatesEveryBlockOnceThenNothing) {
  BlockManager m(5, kBlockTokens, true);
  std::vector<int32_t> ids;
  for (int i = 0; i < 5; ++i) {
    std::optional<int32_t> id = m.Allocate();
    ASSERT_TRUE(id.has_value());
    ids.push_back(*id);
    EXPECT_EQ(m.used_blocks(), i + 1);
    ExpectConsistent(m);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_THAT(ids, ElementsAre(0, 1, 2, 3, 4));
  EXPECT_EQ(m.Allocate(), std::nullopt);
  EXPECT_EQ(m.available_blocks(), 0);
}

TEST(BlockManagerTest, ReleaseReturnsBlocks) {
  BlockManager m(3, kBlockTokens, true);
  std::vector<int32_t> table;
  ASSERT_TRUE(Grow(m, 3 * kBlockTokens, &table));
  EXPECT_EQ(m.Allocate(), std::nullopt);
  m.Release(table);
  // Never published: free, not cached.
  EXPECT_EQ(m.free_blocks(), 3);
  EXPECT_EQ(m.cached_blocks(), 0);
  EXPECT_EQ(m.used_blocks(), 0);
  table.clear();
  EXPECT_TRUE(Grow(m, 3 * kBlockTokens, &table));
  ExpectConsistent(m);
}

TEST(BlockManagerTest, SharesCommonPrefixAcrossSequences) {
  BlockManager m(16, kBlockTokens, true);
  const std::vector<int32_t> common = Tokens(6 * kBlockTokens, 100);
  const std::vector<int32_t> a = Concat(common, Tokens(10, 1000));
  const std::vector<int32_t> b = Concat(common, Tokens(9, 2000));
  std::vector<int32_t> table_a = Computed(m, a);
  ASSERT_EQ(table_a.size(), 9u);  // 34 tokens

  std::vector<int32_t> table_b;
  EXPECT_EQ(m.AcquirePrefix(b, static_cast<int64_t>(b.size()) - 1, &table_b),
            6 * kBlockTokens);
  EXPECT_THAT(table_b, ElementsAreArray(table_a.begin(), table_a.begin() + 6));
  ASSERT_TRUE(Grow(m, static_cast<int64_t>(b.size()), &table_b));
  ASSERT_EQ(table_b.size(), 9u);  // 33 tokens
  for (size_t i = 6; i < table_b.size(); ++i) {
    EXPECT_EQ(std::count(table_a.begin(), table_a.end(), table_b[i]), 0);
  }
  EXPECT_EQ(m.used_blocks(), 12);
  m.Publish(b, table_b, static_cast<int64_t>(b.size()) / kBlockTokens);

  // A finishes: its shared head stays in use by B, its own tail becomes cached (its
  // last, partial block was never published, so it is free).
  m.Release(table_a);
  EXPECT_EQ(m.used_blocks(), 9);
  EXPECT_EQ(m.cached_blocks(), 2);
  ExpectConsistent(m);
  m.Release(table_b);
  EXPECT_EQ(m.used_blocks(), 0);
  EXPECT_EQ(m.cached_blocks(), 10);
  EXPECT_EQ(m.free_blocks(), 6);

  // Both divergent tails can be found again.
  std::vector<int32_t> again;
  EXPECT_EQ(m.AcquirePrefix(a, static_cast<int64_t>(a.size()), &again), 8 * kBlockTokens);
  EXPECT_THAT(again, ElementsAreArray(table_a.begin(), table_a.begin() + 8));
  EXPECT_EQ(m.cached_blocks(), 2);
  EXPECT_EQ(m.used_blocks(), 8);
  ExpectConsistent(m);
}

TEST(BlockManagerTest, ManySequencesShareOneBlock) {
  BlockManager m(8, kBlockTokens, true);
  const std::vector<int32_t> prompt = Tokens(kBlockTokens + 1, 7);
  std::vector<int32_t> first = Computed(m, prompt);
  std::vector<std::vector<int32_t>> tables(3);
  for (auto& table : tables) {
    EXPECT_EQ(m.AcquirePrefix(prompt, static_cast<int64_t>(prompt.size()) - 1, &table),
              kBlockTokens);
    EXPECT_THAT(table, ElementsAre(first[0]));
  }
  EXPECT_EQ(m.used_blocks(), 2);
  m.Release(first);
  for (auto& table : tables) {
    EXPECT_EQ(m.cached_blocks(), 0);  // still held by someone
    m.Release(table);
  }
  EXPECT_EQ(m.used_blocks(), 0);
  EXPECT_EQ(m.cached_blocks(), 1);
  ExpectConsistent(m);
}

TEST(BlockManagerTest, PartialLastBlockIsNeverShared) {
  BlockManager m(8, kBlockTokens, true);
  const std::vector<int32_t> tokens = Tokens(2 * kBlockTokens + 2, 50);
  std::vector<int32_t> table = Computed(m, tokens);
  ASSERT_EQ(table.size(), 3u);
  // Asking for more than the full blocks (even all of the tokens) stops at them.
  m.Publish(tokens, table, 3);  // clamped: only 2 blocks are full
  std::vector<int32_t> other;
  EXPECT_EQ(m.AcquirePrefix(tokens, static_cast<int64_t>(tokens.size()), &other),
            2 * kBlockTokens);
  EXPECT_THAT(other, ElementsAre(table[0], table[1]));
  m.Release(other);
  m.Release(table);
  EXPECT_EQ(m.cached_blocks(), 2);
  EXPECT_EQ(m.free_blocks(), 6);
}

TEST(BlockManagerTest, MaxTokensCapsTheHit) {
  BlockManager m(8, kBlockTokens, true);
  const std::vector<int32_t> prompt = Tokens(4 * kBlockTokens, 0);
  std::vector<int32_t> table = Computed(m, prompt);
  m.Release(table);
  const int64_t n = static_cast<int64_t>(prompt.size());

  // The scheduler passes prompt_len - 1 so that at least one token is computed: the
  // last block, though cached, is not taken.
  std::vector<int32_t> hit;
  EXPECT_EQ(m.AcquirePrefix(prompt, n - 1, &hit), 3 * kBlockTokens);
  EXPECT_EQ(hit.size(), 3u);
  m.Release(hit);
  hit.clear();
  EXPECT_EQ(m.AcquirePrefix(prompt, n, &hit), n);
  m.Release(hit);
  hit.clear();
  EXPECT_EQ(m.AcquirePrefix(prompt, kBlockTokens - 1, &hit), 0);
  EXPECT_EQ(m.AcquirePrefix(prompt, 0, &hit), 0);
  EXPECT_EQ(m.AcquirePrefix(prompt, -5, &hit), 0);
  EXPECT_EQ(m.AcquirePrefix(prompt, n + 100, &hit), n);  // more than the tokens: all
  EXPECT_EQ(hit.size(), 4u);
  m.Release(hit);
  ExpectConsistent(m);
}

TEST(BlockManagerTest, AcquirePrefixAppendsToTable) {
  BlockManager m(8, kBlockTokens, true);
  const std::vector<int32_t> prompt = Tokens(2 * kBlockTokens, 0);
  std::vector<int32_t> table = Computed(m, prompt);
  std::vector<int32_t> other = {-7};
  EXPECT_EQ(m.AcquirePrefix(prompt, 100, &other), 2 * kBlockTokens);
  EXPECT_THAT(other, ElementsAre(-7, table[0], table[1]));
  other.erase(other.begin());
  m.Release(other);
  m.Release(table);
}

TEST(BlockManagerTest, MissOnFirstBlockFindsNothing) {
  BlockManager m(8, kBlockTokens, true);
  std::vector<int32_t> table = Computed(m, Tokens(3 * kBlockTokens, 0));
  // Same second and third blocks behind a different first one: keys and values differ.
  std::vector<int32_t> other_tokens = Tokens(3 * kBlockTokens, 0);
  other_tokens[1] = 99;
  std::vector<int32_t> other;
  EXPECT_EQ(m.AcquirePrefix(other_tokens, 100, &other), 0);
  EXPECT_THAT(other, IsEmpty());
  m.Release(table);
}

TEST(BlockManagerTest, EvictsCachedBlocksLeastRecentlyReleasedFirst) {
  BlockManager m(4, kBlockTokens, true);
  std::vector<int32_t> x = Computed(m, Tokens(2 * kBlockTokens, 0));
  std::vector<int32_t> y = Computed(m, Tokens(2 * kBlockTokens, 100));
  EXPECT_EQ(m.free_blocks(), 0);
  m.Release(x);  // tail first: x[1] is older in the LRU than x[0]
  m.Release(y);
  EXPECT_EQ(m.cached_blocks(), 4);
  EXPECT_EQ(m.free_blocks(), 0);
  EXPECT_EQ(m.available_blocks(), 4);
  EXPECT_EQ(m.Allocate(), x[1]);
  EXPECT_EQ(m.Allocate(), x[0]);
  EXPECT_EQ(m.cached_blocks(), 2);
  EXPECT_EQ(m.Allocate(), y[1]);
  EXPECT_EQ(m.Allocate(), y[0]);
  EXPECT_EQ(m.Allocate(), std::nullopt);
  EXPECT_EQ(m.used_blocks(), 4);
  ExpectConsistent(m);
}

TEST(BlockManagerTest, FreeBlocksGoBeforeCachedOnes) {
  BlockManager m(3, kBlockTokens, true);
  std::vector<int32_t> x = Computed(m, Tokens(kBlockTokens, 0));
  m.Release(x);
  EXPECT_EQ(m.cached_blocks(), 1);
  std::optional<int32_t> a = m.Allocate(), b = m.Allocate();
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, x[0]);
  EXPECT_NE(*b, x[0]);
  EXPECT_EQ(m.cached_blocks(), 1);  // still there, still findable
  std::vector<int32_t> hit;
  EXPECT_EQ(m.AcquirePrefix(Tokens(kBlockTokens, 0), 100, &hit), kBlockTokens);
  EXPECT_THAT(hit, ElementsAre(x[0]));
}

TEST(BlockManagerTest, ReacquiringMovesBlockOutOfTheLru) {
  BlockManager m(3, kBlockTokens, true);
  std::vector<int32_t> x = Computed(m, Tokens(kBlockTokens, 0));
  std::vector<int32_t> y = Computed(m, Tokens(kBlockTokens, 100));
  m.Release(x);
  m.Release(y);
  // Reusing x makes it most recently released once it is released again.
  std::vector<int32_t> again;
  ASSERT_EQ(m.AcquirePrefix(Tokens(kBlockTokens, 0), 100, &again), kBlockTokens);
  m.Release(again);
  EXPECT_NE(m.Allocate(), std::nullopt);  // the free block
  EXPECT_EQ(m.Allocate(), y[0]);
  EXPECT_EQ(m.Allocate(), x[0]);
}

TEST(BlockManagerTest, EvictionRemovesBlockFromIndex) {
  BlockManager m(2, kBlockTokens, true);
  const std::vector<int32_t> tokens = Tokens(2 * kBlockTokens, 0);
  std::vector<int32_t> x = Computed(m, tokens);
  m.Release(x);
  std::optional<int32_t> evicted = m.Allocate();
  EXPECT_EQ(evicted, x[1]);
  std::vector<int32_t> hit;
  EXPECT_EQ(m.AcquirePrefix(tokens, 100, &hit), kBlockTokens);  // only the head is left
  EXPECT_THAT(hit, ElementsAre(x[0]));
  m.Release(hit);
  m.Release({*evicted});  // never published again: free
  EXPECT_EQ(m.free_blocks(), 1);
  EXPECT_EQ(m.Allocate(), x[1]);  // the free one before the cached head
  EXPECT_EQ(m.Allocate(), x[0]);  // evicts the head
  hit.clear();
  EXPECT_EQ(m.AcquirePrefix(tokens, 100, &hit), 0);
  EXPECT_EQ(m.cached_blocks(), 0);
  EXPECT_EQ(m.used_blocks(), 2);
}

TEST(BlockManagerTest, ReallocatedBlockIsNotFoundUnderItsOldContents) {
  BlockManager m(1, kBlockTokens, true);
  std::vector<int32_t> x = Computed(m, Tokens(kBlockTokens, 0));
  m.Release(x);
  std::vector<int32_t> y = Computed(m, Tokens(kBlockTokens, 500));  // evicts and reuses x[0]
  EXPECT_EQ(y, x);
  m.Release(y);
  std::vector<int32_t> hit;
  EXPECT_EQ(m.AcquirePrefix(Tokens(kBlockTokens, 0), 100, &hit), 0);
  EXPECT_EQ(m.AcquirePrefix(Tokens(kBlockTokens, 500), 100, &hit), kBlockTokens);
}

TEST(BlockManagerTest, DuplicateBlocksStayUnindexed) {
  BlockManager m(8, kBlockTokens, true);
  const std::vector<int32_t> tokens = Tokens(2 * kBlockTokens, 0);
  // Two sequences computed the same prompt at once, neither seeing the other's blocks.
  std::vector<int32_t> first = Computed(m, tokens);
  std::vector<int32_t> second = Computed(m, tokens);
  m.Publish(tokens, second, 2);  // again: nothing changes
  std::vector<int32_t> hit;
  EXPECT_EQ(m.AcquirePrefix(tokens, 100, &hit), 2 * kBlockTokens);
  EXPECT_EQ(hit, first);
  m.Release(hit);
  m.Release(second);  // duplicates: freed, not cached
  EXPECT_EQ(m.cached_blocks(), 0);
  EXPECT_EQ(m.free_blocks(), 6);
  m.Release(first);
  EXPECT_EQ(m.cached_blocks(), 2);
  EXPECT_EQ(m.free_blocks(), 6);
}

TEST(BlockManagerTest, BlockAfterADuplicateIsIndexed) {
  BlockManager m(8, kBlockTokens, true);
  const std::vector<int32_t> head = Tokens(kBlockTokens, 0);
  std::vector<int32_t> a = Computed(m, Concat(head, Tokens(kBlockTokens, 100)));
  // b computed its head itself (a duplicate of a's), then a tail nobody has.
  const std::vector<int32_t> b_tokens = Concat(head, Tokens(kBlockTokens, 200));
  std::vector<int32_t> b = Computed(m, b_tokens);
  std::vector<int32_t> hit;
  EXPECT_EQ(m.AcquirePrefix(b_tokens, 100, &hit), 2 * kBlockTokens);
  EXPECT_THAT(hit, ElementsAre(a[0], b[1]));
  m.Release(hit);
  m.Release(b);
  EXPECT_EQ(m.cached_blocks(), 1);  // b[1]; b[0] was a duplicate: freed
  EXPECT_EQ(m.free_blocks(), 5);
  m.Release(a);
  EXPECT_EQ(m.cached_blocks(), 3);
  ExpectConsistent(m);
}

TEST(BlockManagerTest, StaleEntryGivesWayToARecomputedBlock) {
  BlockManager m(6, kBlockTokens, true);
  const std::vector<int32_t> head = Tokens(kBlockTokens, 0);
  const std::vector<int32_t> tail = Tokens(kBlockTokens, 100);
  std::vector<int32_t> a = Computed(m, Concat(head, Tokens(kBlockTokens, 50)));
  std::vector<int32_t> b = Computed(m, Concat(head, tail));  // b[0] duplicates a[0]
  m.Release(a);
  // Evict a: b[1] was computed behind a[0]'s contents, but a[0] is gone from the index.
  std::vector<int32_t> filler;
  ASSERT_TRUE(Grow(m, 4 * kBlockTokens, &filler));
  EXPECT_EQ(m.available_blocks(), 0);
  std::vector<int32_t> hit;
  EXPECT_EQ(m.AcquirePrefix(Concat(head, tail), 100, &hit), 0);
  m.Release(filler);

  // The same prompt computed again takes over the key that b[1] held.
  std::vector<int32_t> c = Computed(m, Concat(head, tail));
  EXPECT_EQ(m.AcquirePrefix(Concat(head, tail), 100, &hit), 2 * kBlockTokens);
  EXPECT_EQ(hit, c);
  m.Release(hit);
  m.Release(b);  // b[1] is no longer indexed: free
  EXPECT_EQ(m.cached_blocks(), 0);
  m.Release(c);
  EXPECT_EQ(m.cached_blocks(), 2);
  ExpectConsistent(m);
}

TEST(BlockManagerTest, PublishingStepByStepEqualsPublishingAtOnce) {
  BlockManager m(16, kBlockTokens, true);
  const std::vector<int32_t> tokens = Tokens(5 * kBlockTokens + 3, 0);
  std::vector<int32_t> table;
  // Decode one token at a time, publishing the full blocks after every step.
  for (int64_t n = 1; n <= static_cast<int64_t>(tokens.size()); ++n) {
    ASSERT_TRUE(Grow(m, n, &table));
    m.Publish(tokens, table, n / kBlockTokens);
  }
  std::vector<int32_t> hit;
  EXPECT_EQ(m.AcquirePrefix(tokens, 100, &hit), 5 * kBlockTokens);
  EXPECT_THAT(hit, ElementsAreArray(table.begin(), table.begin() + 5));
  m.Release(hit);
  m.Release(table);
  EXPECT_EQ(m.cached_blocks(), 5);
  EXPECT_EQ(m.free_blocks(), 11);
}

TEST(BlockManagerTest, PrefixCachingOff) {
  BlockManager m(4, kBlockTokens, false);
  const std::vector<int32_t> tokens = Tokens(2 * kBlockTokens, 0);
  std::vector<int32_t> table = Computed(m, tokens);
  std::vector<int32_t> hit;
  EXPECT_EQ(m.AcquirePrefix(tokens, 100, &hit), 0);
  EXPECT_THAT(hit, IsEmpty());
  m.Release(table);
  EXPECT_EQ(m.cached_blocks(), 0);
  EXPECT_EQ(m.free_blocks(), 4);
  EXPECT_EQ(m.AcquirePrefix(tokens, 100, &hit), 0);
}

TEST(BlockManagerTest, MisuseIsIgnoredInReleaseBuilds) {
#ifndef NDEBUG
  GTEST_SKIP() << "asserts in debug builds";
#else
  BlockManager m(2, kBlockTokens, true);
  std::vector<int32_t> table = Computed(m, Tokens(kBlockTokens, 0));
  m.Release(table);
  m.Release(table);  // not held any more
  m.Release(std::vector<int32_t>{-1, 2, 99});
  m.Publish(Tokens(2 * kBlockTokens, 0), std::vector<int32_t>{0, 77}, 2);
  EXPECT_EQ(m.used_blocks(), 0);
  EXPECT_EQ(m.cached_blocks(), 1);
  EXPECT_EQ(m.free_blocks(), 1);
#endif
}

// Collides far more often than any real hash: 16 keys in all.
uint64_t WeakHash(uint64_t parent_key, absl::Span<const int32_t> tokens) {
  uint64_t h = parent_key * 31;
  for (int32_t t : tokens) h = h * 7 + static_cast<uint64_t>(t);
  return h % 16;
}

uint64_t ConstantHash(uint64_t, absl::Span<const int32_t>) { return 42; }

TEST(BlockManagerTest, HashCollisionsCostHitsNotCorrectness) {
  // Every block has the same key: only the first block of one prompt can be indexed.
  BlockManager m(8, kBlockTokens, true, &ConstantHash);
  const std::vector<int32_t> a_tokens = Tokens(3 * kBlockTokens, 0);
  std::vector<int32_t> a = Computed(m, a_tokens);
  std::vector<int32_t> hit;
  EXPECT_EQ(m.AcquirePrefix(a_tokens, 100, &hit), kBlockTokens);
  EXPECT_THAT(hit, ElementsAre(a[0]));
  m.Release(hit);
  hit.clear();
  // Same key, other tokens: a miss, not a[0].
  EXPECT_EQ(m.AcquirePrefix(Tokens(3 * kBlockTokens, 1), 100, &hit), 0);
  // The second block has a[0]'s key and tokens, but a[0] was computed at position 0,
  // not behind itself: only the first block is a hit.
  EXPECT_EQ(m.AcquirePrefix(Concat(Tokens(kBlockTokens, 0), Tokens(kBlockTokens, 0)), 100, &hit),
            kBlockTokens);
  EXPECT_THAT(hit, ElementsAre(a[0]));
  m.Release(hit);
  m.Release(a);
  EXPECT_EQ(m.cached_blocks(), 1);
  ExpectConsistent(m);
}

// Random traffic: sequences with random shared prefixes start (taking what the cache
// has), decode, publish and finish in random order while a shadow records which tokens
// each block's keys and values were computed from. Checks after every operation that
// the counts add up and that every prefix handed out was computed for exactly the
// tokens asked for.
// With the weak hash, collisions happen all the time.
class BlockManagerRandomTest : public ::testing::TestWithParam<std::tuple<uint32_t, bool>> {};

TEST_P(BlockManagerRandomTest, HandsOutOnlyMatchingKeysAndValues) {
  const auto [seed, weak_hash] = GetParam();
  std::mt19937 rng(seed);
  auto uniform = [&rng](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  const int block_tokens = uniform(1, 5);
  BlockManager m = weak_hash ? BlockManager(uniform(8, 64), block_tokens, true, &WeakHash)
                             : BlockManager(uniform(8, 64), block_tokens, true);

  // A few long shared prefixes over a tiny vocabulary, so that equal blocks also turn up
  // by accident behind different prefixes.
  std::vector<std::vector<int32_t>> prefixes(4);
  for (auto& prefix : prefixes) {
    prefix.resize(uniform(0, 40));
    for (int32_t& t : prefix) t = uniform(0, 2);
  }

  struct Sequence {
    std::vector<int32_t> tokens;
    std::vector<int32_t> table;
  };
  std::vector<Sequence> running;
  // Block id -> the tokens (from position 0) its keys and values depend on.
  absl::flat_hash_map<int32_t, std::vector<int32_t>> written;

  auto held = [&running] {
    std::map<int32_t, int> refs;
    for (const Sequence& s : running) {
      for (int32_t id : s.table) ++refs[id];
    }
    return refs;
  };
  auto check_counts = [&] {
    ASSERT_EQ(m.used_blocks() + m.cached_blocks() + m.free_blocks(), m.total_blocks());
    ASSERT_EQ(m.available_blocks(), m.total_blocks() - m.used_blocks());
    ASSERT_EQ(m.used_blocks(), static_cast<int64_t>(held().size()));
  };
  // Computes tokens [from, to) of s into its blocks, which must be its alone.
  auto compute = [&](Sequence& s, int64_t from, int64_t to) {
    const std::map<int32_t, int> refs = held();
    for (int64_t p = from; p < to; ++p) {
      const int32_t id = s.table[p / block_tokens];
      ASSERT_EQ(refs.at(id), 1) << "writing into a shared block";
      written[id].assign(s.tokens.begin(), s.tokens.begin() + p + 1);
    }
  };
  auto finish = [&](size_t i) {
    m.Release(running[i].table);
    running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
  };
  uint64_t started = 0;

  for (int op = 0; op < 4000; ++op) {
    const int action = uniform(0, 9);
    if (action < 4 || running.empty()) {
      // Start: a shared prefix, cut anywhere, and a random tail.
      Sequence s;
      const auto& prefix = prefixes[uniform(0, 3)];
      s.tokens.assign(prefix.begin(), prefix.begin() + uniform(0, static_cast<int>(prefix.size())));
      for (int n = uniform(1, 12); n > 0; --n) s.tokens.push_back(uniform(0, 2));
      const int64_t n = static_cast<int64_t>(s.tokens.size());
      const int64_t cached = m.AcquirePrefix(s.tokens, n - 1, &s.table);
      ASSERT_EQ(cached % block_tokens, 0);
      ASSERT_LE(cached, n - 1);
      ASSERT_EQ(static_cast<int64_t>(s.table.size()), cached / block_tokens);
      for (size_t b = 0; b < s.table.size(); ++b) {
        const auto end = s.tokens.begin() + static_cast<std::ptrdiff_t>(b + 1) * block_tokens;
        const std::vector<int32_t> want(s.tokens.begin(), end);
        ASSERT_EQ(written.at(s.table[b]), want) << "block " << b << " of a cached prefix";
      }
      const bool fits = Grow(m, n, &s.table);
      running.push_back(std::move(s));
      if (!fits) {
        finish(running.size() - 1);  // out of blocks: give up on it
      } else {
        Sequence& r = running.back();
        compute(r, cached, n);
        m.Publish(r.tokens, r.table, n / block_tokens);
        ++started;
      }
    } else if (action < 8) {
      // Decode a few tokens.
      Sequence& s = running[uniform(0, static_cast<int>(running.size()) - 1)];
      const int64_t from = static_cast<int64_t>(s.tokens.size());
      for (int n = uniform(1, 6); n > 0; --n) s.tokens.push_back(uniform(0, 2));
      const int64_t to = static_cast<int64_t>(s.tokens.size());
      if (!Grow(m, to, &s.table)) {
        finish(static_cast<size_t>(&s - running.data()));  // preempted
      } else {
        compute(s, from, to);
        m.Publish(s.tokens, s.table, to / block_tokens);
      }
    } else {
      finish(static_cast<size_t>(uniform(0, static_cast<int>(running.size()) - 1)));
    }
    check_counts();
    if (HasFatalFailure()) return;
  }
  while (!running.empty()) finish(running.size() - 1);
  check_counts();
  EXPECT_EQ(m.used_blocks(), 0);
  EXPECT_EQ(m.available_blocks(), m.total_blocks());
  EXPECT_GT(started, 100u);
}

INSTANTIATE_TEST_SUITE_P(
    Seeds, BlockManagerRandomTest,
    ::testing::Combine(::testing::Range(1u, 21u), ::testing::Bool()),
    [](const ::testing::TestParamInfo<BlockManagerRandomTest::ParamType>& param) {
      return "Seed" + std::to_string(std::get<0>(param.param)) +
             (std::get<1>(param.param) ? "WeakHash" : "");
    });

}  // namespace
}  // namespace hearth
