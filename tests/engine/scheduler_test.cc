// Scheduler tests without a model: the test plays the engine's loop (Schedule, a fake
// forward pass, Commit, append a sampled token, Remove what finished) and checks the
// plans and the block accounting at every step.
//
// The fake forward pass keeps a fake KV cache: the "keys and values" of position p of a
// sequence are a hash of its tokens [0, p]. A chunk first checks that every position
// before it reads back the right value from the sequence's block table, then writes its
// own positions. So a wrong prefix-cache hit, a block shared while someone writes it, or
// a block freed and reused under a running sequence shows up as a mismatch.
#include "lib/engine/scheduler.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "hearth/engine.h"
#include "lib/engine/request_state.h"
#include "lib/engine/sequence.h"
#include "lib/kv/block_manager.h"

namespace hearth {
namespace {

constexpr int kBlockTokens = 4;
constexpr int64_t kNoTarget = std::numeric_limits<int64_t>::max();

std::vector<int32_t> Iota(int n, int32_t first = 1) {
  std::vector<int32_t> tokens(n);
  for (int i = 0; i < n; ++i) tokens[i] = first + i;
  return tokens;
}

int64_t BlocksFor(int64_t tokens) { return (tokens + kBlockTokens - 1) / kBlockTokens; }

// The fake key/value of position p: a hash of tokens [0, p].
std::vector<uint64_t> PrefixHashes(const std::vector<int32_t>& tokens) {
  std::vector<uint64_t> h(tokens.size());
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < tokens.size(); ++i) {
    x ^= static_cast<uint64_t>(static_cast<uint32_t>(tokens[i])) + 0x632be59bd9b4e019ull;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 29;
    h[i] = x;
  }
  return h;
}

int64_t PlannedTokens(const std::vector<ScheduledChunk>& plan) {
  int64_t n = 0;
  for (const ScheduledChunk& c : plan) n += c.n_tokens;
  return n;
}

const ScheduledChunk* Find(const std::vector<ScheduledChunk>& plan, const Sequence* s) {
  for (const ScheduledChunk& c : plan) {
    if (c.sequence == s) return &c;
  }
  return nullptr;
}

template <typename List>
bool Contains(const List& list, const Sequence* s) {
  return std::any_of(list.begin(), list.end(), [s](const auto& r) { return r.get() == s; });
}

// Failures recorded so far in the current test.
int FailureCount() {
  const ::testing::TestResult* result =
      ::testing::UnitTest::GetInstance()->current_test_info()->result();
  int n = 0;
  for (int i = 0; i < result->total_part_count(); ++i) {
    if (result->GetTestPartResult(i).failed()) ++n;
  }
  return n;
}

// The engine's loop around a Scheduler, with a fake model.
class Sim {
 public:
  Sim(SchedulerConfig config, int64_t n_blocks, bool prefix_caching = true)
      : config_(config),
        blocks_(n_blocks, kBlockTokens, prefix_caching),
        scheduler_(config, &blocks_),
        kv_(n_blocks, std::vector<uint64_t>(kBlockTokens, 0)) {}

  // Submits a prompt; the sequence finishes (is removed) once it holds target_length
  // tokens. Sampled tokens are next_token_++ unless a generator is set.
  Sequence* Add(std::vector<int32_t> prompt, int priority = 0,
                int64_t target_length = kNoTarget) {
    GenerateRequest request;
    request.priority = priority;
    const uint64_t arrival = next_arrival_++;
    auto state = std::make_shared<RequestState>(arrival, request, TokenCallback{},
                                                std::move(prompt), Clock::now());
    auto sequence = std::make_unique<Sequence>(state, arrival, /*length_limit=*/1 << 30);
    Sequence* s = sequence.get();
    targets_[s] = target_length;
    scheduler_.Add(std::move(sequence));
    return s;
  }

  // Schedules one step and checks the plan, without running it.
  std::vector<ScheduledChunk> Plan() {
    decoding_before_.clear();
    for (const auto& s : scheduler_.running()) {
      if (s->uncomputed() == 1) decoding_before_.push_back(s.get());
    }
    std::vector<ScheduledChunk> plan = scheduler_.Schedule();
    CheckPlan(plan);
    return plan;
  }

  // Runs a planned step: the fake forward pass, Commit, then a token for every chunk
  // that wants logits; sequences that reached their target are removed.
  void Run(const std::vector<ScheduledChunk>& plan) {
    Forward(plan);
    scheduler_.Commit(plan);
    for (const ScheduledChunk& c : plan) {
      if (!c.wants_logits) continue;
      Sequence* s = c.sequence;
      const int32_t token = sample_ ? sample_() : next_token_++;
      s->tokens.push_back(token);
      s->result.tokens.push_back(token);
      if (s->length() >= targets_[s]) Finish(s);
    }
    ++steps_;
  }

  std::vector<ScheduledChunk> Step() {
    std::vector<ScheduledChunk> plan = Plan();
    Run(plan);
    return plan;
  }

  // Steps until nothing is left (or max_steps, a failure).
  void RunToCompletion(int max_steps = 100000) {
    const int failures_before = FailureCount();
    for (int i = 0; i < max_steps && !scheduler_.empty(); ++i) {
      ASSERT_FALSE(Step().empty()) << "nothing scheduled with work pending";
      if (FailureCount() != failures_before) return;  // one broken step is enough
    }
    ASSERT_TRUE(scheduler_.empty()) << "not done after " << max_steps << " steps";
  }

  // A cancellation: takes the sequence out wherever it is.
  void Cancel(Sequence* s) {
    std::unique_ptr<Sequence> taken = scheduler_.Remove(s);
    ASSERT_NE(taken, nullptr);
    EXPECT_TRUE(taken->block_table.empty());
    cancelled_.push_back(std::move(taken));
  }

  bool Finished(const Sequence* s) const {
    return std::any_of(finished_.begin(), finished_.end(),
                       [s](const auto& f) { return f.get() == s; });
  }
  bool Running(const Sequence* s) const { return Contains(scheduler_.running(), s); }
  bool Waiting(const Sequence* s) const { return Contains(scheduler_.waiting(), s); }

  Scheduler& scheduler() { return scheduler_; }
  BlockManager& blocks() { return blocks_; }
  const std::vector<std::unique_ptr<Sequence>>& finished() const { return finished_; }
  const std::vector<std::unique_ptr<Sequence>>& cancelled() const { return cancelled_; }
  int64_t target(const Sequence* s) const { return targets_.at(s); }
  int steps() const { return steps_; }
  void set_sampler(std::function<int32_t()> sample) { sample_ = std::move(sample); }

  // Checks that hold between steps: waiting sequences hold nothing, running ones hold
  // exactly the blocks for what they computed, and the manager agrees.
  void CheckIdle() const {
    std::set<int32_t> distinct;
    for (const auto& s : scheduler_.running()) {
      EXPECT_EQ(static_cast<int64_t>(s->block_table.size()), BlocksFor(s->computed));
      EXPECT_LE(s->computed, s->length());
      distinct.insert(s->block_table.begin(), s->block_table.end());
    }
    for (const auto& s : scheduler_.waiting()) {
      EXPECT_TRUE(s->block_table.empty());
      EXPECT_EQ(s->computed, 0);
    }
    EXPECT_EQ(blocks_.used_blocks(), static_cast<int64_t>(distinct.size()));
    EXPECT_EQ(blocks_.used_blocks() + blocks_.available_blocks(), blocks_.total_blocks());
  }

 private:
  void Finish(Sequence* s) {
    std::unique_ptr<Sequence> taken = scheduler_.Remove(s);
    ASSERT_NE(taken, nullptr);
    EXPECT_TRUE(taken->block_table.empty());
    finished_.push_back(std::move(taken));
  }

  void CheckPlan(const std::vector<ScheduledChunk>& plan) {
    // The token budget.
    EXPECT_LE(PlannedTokens(plan), config_.max_batch_tokens);
    std::set<const Sequence*> seen;
    for (const ScheduledChunk& c : plan) {
      const Sequence* s = c.sequence;
      EXPECT_TRUE(seen.insert(s).second) << "a sequence planned twice";
      EXPECT_TRUE(Running(s)) << "a planned sequence is not running";
      EXPECT_GE(c.n_tokens, 1);
      EXPECT_LE(s->computed + c.n_tokens, s->length());
      EXPECT_EQ(c.wants_logits, s->computed + c.n_tokens == s->length());
      // Blocks are allocated for every planned token, and no more.
      EXPECT_EQ(static_cast<int64_t>(s->block_table.size()), BlocksFor(s->computed + c.n_tokens));
    }
    // Every sequence that was decoding gets its one token, ahead of every other chunk,
    // unless it was preempted this step. (max_batch_tokens >= max_sequences in every test.)
    for (size_t i = 0; i < decoding_before_.size(); ++i) {
      const Sequence* d = decoding_before_[i];
      if (d->preempted_this_step) continue;
      const ScheduledChunk* c = Find(plan, d);
      ASSERT_NE(c, nullptr) << "a running decode got no token";
      EXPECT_EQ(c->n_tokens, 1);
      for (const ScheduledChunk* e = plan.data(); e != c; ++e) {
        EXPECT_NE(std::find(decoding_before_.begin(), decoding_before_.end(), e->sequence),
                  decoding_before_.end())
            << "a prefill chunk ahead of a decode";
      }
    }
    // Running sequences that are not planned hold exactly the blocks of what they
    // computed; waiting ones hold none.
    std::map<int32_t, std::vector<std::pair<const Sequence*, size_t>>> holders;
    for (const auto& s : scheduler_.running()) {
      if (Find(plan, s.get()) == nullptr) {
        EXPECT_EQ(static_cast<int64_t>(s->block_table.size()), BlocksFor(s->computed));
      }
      for (size_t i = 0; i < s->block_table.size(); ++i) {
        holders[s->block_table[i]].push_back({s.get(), i});
      }
    }
    for (const auto& s : scheduler_.waiting()) {
      EXPECT_TRUE(s->block_table.empty());
      EXPECT_EQ(s->computed, 0);
    }
    EXPECT_EQ(blocks_.used_blocks(), static_cast<int64_t>(holders.size()));
    // A block in two tables (or twice in one) is a shared prefix block: at the same
    // index everywhere, full, and computed by every holder, so nobody writes it this step.
    // In particular the last, partial block of a sequence is always its own.
    for (const auto& [block, where] : holders) {
      if (where.size() < 2) continue;
      for (const auto& [s, index] : where) {
        EXPECT_EQ(index, where.front().second) << "block " << block << " at two positions";
        EXPECT_LE(static_cast<int64_t>(index + 1) * kBlockTokens, s->computed)
            << "block " << block << " is shared but not a computed full block";
        EXPECT_TRUE(std::equal(s->tokens.begin(), s->tokens.begin() + (index + 1) * kBlockTokens,
                               where.front().first->tokens.begin()))
            << "block " << block << " shared by different prefixes";
      }
    }
  }

  // The fake forward pass: every chunk reads positions [0, computed) back from its
  // blocks and writes [computed, computed + n).
  void Forward(const std::vector<ScheduledChunk>& plan) {
    for (const ScheduledChunk& c : plan) {
      const Sequence* s = c.sequence;
      const std::vector<uint64_t> expected = PrefixHashes(s->tokens);
      for (int64_t p = 0; p < s->computed; ++p) {
        const int32_t block = s->block_table[p / kBlockTokens];
        ASSERT_EQ(kv_[block][p % kBlockTokens], expected[p])
            << "wrong cached KV at position " << p << " (block " << block << ")";
      }
    }
    for (const ScheduledChunk& c : plan) {
      const Sequence* s = c.sequence;
      const std::vector<uint64_t> expected = PrefixHashes(s->tokens);
      for (int64_t p = s->computed; p < s->computed + c.n_tokens; ++p) {
        kv_[s->block_table[p / kBlockTokens]][p % kBlockTokens] = expected[p];
      }
    }
  }

  const SchedulerConfig config_;
  BlockManager blocks_;
  Scheduler scheduler_;
  std::vector<std::vector<uint64_t>> kv_;  // the fake cache: [block][slot]
  std::map<const Sequence*, int64_t> targets_;
  std::vector<const Sequence*> decoding_before_;
  std::vector<std::unique_ptr<Sequence>> finished_;
  std::vector<std::unique_ptr<Sequence>> cancelled_;
  std::function<int32_t()> sample_;
  uint64_t next_arrival_ = 0;
  int32_t next_token_ = 100000;
  int steps_ = 0;
};

SchedulerConfig Config(int max_batch_tokens, int max_sequences) {
  SchedulerConfig c;
  c.max_batch_tokens = max_batch_tokens;
  c.max_sequences = max_sequences;
  return c;
}

// ---------------------------------------------------------------------------------------
// Token budget and chunking.

TEST(SchedulerTest, PromptThenOneTokenPerStep) {
  Sim sim(Config(64, 8), 100);
  Sequence* s = sim.Add(Iota(10), 0, /*target_length=*/14);

  std::vector<ScheduledChunk> plan = sim.Step();
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].n_tokens, 10);
  EXPECT_TRUE(plan[0].wants_logits);
  EXPECT_EQ(s->computed, 10);
  EXPECT_EQ(s->length(), 11);
  for (int i = 0; i < 3; ++i) {
    plan = sim.Step();
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_EQ(plan[0].n_tokens, 1);
    EXPECT_TRUE(plan[0].wants_logits);
  }
  EXPECT_TRUE(sim.Finished(s));
  EXPECT_EQ(s->generated(), 4);
  EXPECT_TRUE(sim.scheduler().empty());
  EXPECT_EQ(sim.blocks().used_blocks(), 0);
}

TEST(SchedulerTest, DecodesComeFirstAndGetOneTokenEach) {
  Sim sim(Config(32, 8), 100);
  std::vector<Sequence*> decoders;
  for (int i = 0; i < 3; ++i) decoders.push_back(sim.Add(Iota(5, 10 * i + 1)));
  sim.Step();
  // A long prompt arrives while three streams decode.
  Sequence* prompt = sim.Add(Iota(60, 1000));
  std::vector<ScheduledChunk> plan = sim.Step();
  ASSERT_EQ(plan.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(plan[i].sequence, decoders[i]);
    EXPECT_EQ(plan[i].n_tokens, 1);
    EXPECT_TRUE(plan[i].wants_logits);
  }
  EXPECT_EQ(plan[3].sequence, prompt);
  EXPECT_EQ(plan[3].n_tokens, 29);  // what the decodes left of the budget
  EXPECT_FALSE(plan[3].wants_logits);
}

TEST(SchedulerTest, LongPromptIsChunkedWhileDecodesKeepStreaming) {
  constexpr int kBudget = 16;
  Sim sim(Config(kBudget, 8), 1000);
  std::vector<Sequence*> decoders;
  for (int i = 0; i < 3; ++i) decoders.push_back(sim.Add(Iota(3, 10 * i + 1)));
  sim.Step();
  Sequence* prompt = sim.Add(Iota(100, 1000));

  int prompt_steps = 0;
  while (prompt->computed < 100) {
    const int64_t computed_before = prompt->computed;
    const std::vector<int64_t> before = {decoders[0]->length(), decoders[1]->length(),
                                         decoders[2]->length()};
    const std::vector<ScheduledChunk> plan = sim.Step();
    ++prompt_steps;
    // The budget is used up, never exceeded.
    EXPECT_EQ(PlannedTokens(plan), std::min<int64_t>(kBudget, 3 + 100 - computed_before));
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(plan[i].sequence, decoders[i]);
      EXPECT_EQ(decoders[i]->length(), before[i] + 1) << "a stream stalled behind the prompt";
    }
    ASSERT_EQ(plan.size(), 4u);
    EXPECT_EQ(plan[3].sequence, prompt);
    EXPECT_EQ(plan[3].wants_logits, prompt->computed == 100);
    ASSERT_LT(prompt_steps, 100);
  }
  EXPECT_EQ(prompt_steps, (100 + 12) / 13);  // 13 prompt tokens a step
  EXPECT_EQ(prompt->generated(), 1);
  // Then the prompt decodes like the others.
  const std::vector<ScheduledChunk> plan = sim.Step();
  ASSERT_EQ(plan.size(), 4u);
  for (const ScheduledChunk& c : plan) EXPECT_EQ(c.n_tokens, 1);
  EXPECT_EQ(plan[3].sequence, prompt);
}

TEST(SchedulerTest, StepNeverExceedsTokenBudget) {
  constexpr int kBudget = 24;
  Sim sim(Config(kBudget, 6), 1000);
  std::mt19937 rng(7);
  for (int i = 0; i < 20; ++i) {
    const int length = 1 + static_cast<int>(rng() % 70);
    sim.Add(Iota(length, 1000 * i), 0, /*target_length=*/length + 5);
  }
  int64_t max_seen = 0;
  for (int step = 0; step < 1000 && !sim.scheduler().empty(); ++step) {
    const std::vector<ScheduledChunk> plan = sim.Step();
    ASSERT_FALSE(plan.empty());
    max_seen = std::max(max_seen, PlannedTokens(plan));
    EXPECT_LE(PlannedTokens(plan), kBudget);
  }
  EXPECT_TRUE(sim.scheduler().empty());
  EXPECT_EQ(sim.finished().size(), 20u);
  EXPECT_EQ(max_seen, kBudget);
}

// ---------------------------------------------------------------------------------------
// Admission.

TEST(SchedulerTest, AdmissionBoundedByMaxSequences) {
  Sim sim(Config(64, 2), 100);
  Sequence* a = sim.Add(Iota(4, 1), 0, 6);
  Sequence* b = sim.Add(Iota(4, 11), 0, 10);
  Sequence* c = sim.Add(Iota(4, 21), 0, 10);
  std::vector<ScheduledChunk> plan = sim.Step();
  EXPECT_EQ(plan.size(), 2u);
  EXPECT_TRUE(sim.Running(a));
  EXPECT_TRUE(sim.Running(b));
  EXPECT_TRUE(sim.Waiting(c));
  sim.Step();  // a reaches 6 tokens and finishes
  EXPECT_TRUE(sim.Finished(a));
  EXPECT_TRUE(sim.Waiting(c));
  plan = sim.Step();  // a's slot goes to c
  EXPECT_TRUE(sim.Running(c));
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].sequence, b);
  EXPECT_EQ(plan[1].sequence, c);
  EXPECT_EQ(plan[1].n_tokens, 4);
  sim.RunToCompletion();
}

TEST(SchedulerTest, AdmissionWithNothingRunningMayTakeEveryBlock) {
  Sim sim(Config(1024, 8), 200);
  Sequence* s = sim.Add(Iota(200 * kBlockTokens));
  const std::vector<ScheduledChunk> plan = sim.Plan();
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].sequence, s);
  EXPECT_EQ(sim.blocks().available_blocks(), 0);
}

// With something running, admission keeps about 1 % of the blocks (2 of 200) free.
TEST(SchedulerTest, AdmissionKeepsWatermarkWhileSomethingRuns) {
  for (const int64_t extra : {-1, 0}) {
    SCOPED_TRACE(extra);
    Sim sim(Config(1024, 8), 200);
    sim.Add(Iota(10 * kBlockTokens));  // 10 blocks; its first decode takes an 11th
    sim.Step();
    // 189 blocks will be available when admission runs; 2 must stay free.
    const int64_t blocks = 187 - extra;
    Sequence* w = sim.Add(Iota(static_cast<int>(blocks * kBlockTokens), 5000));
    sim.Plan();
    EXPECT_EQ(sim.Running(w), extra == 0);
    EXPECT_EQ(sim.blocks().available_blocks(), extra == 0 ? 2 : 189);
  }
}

TEST(SchedulerTest, AdmissionBoundedByFreeBlocks) {
  Sim sim(Config(1024, 8), 20);
  Sequence* a = sim.Add(Iota(10 * kBlockTokens), 0, 10 * kBlockTokens + 2);
  sim.Step();
  Sequence* b = sim.Add(Iota(9 * kBlockTokens, 5000), 0, 9 * kBlockTokens + 1);
  sim.Step();  // a grows to 11 blocks: 9 are left, b needs 9 + the watermark
  EXPECT_TRUE(sim.Waiting(b));
  EXPECT_TRUE(sim.Finished(a));
  sim.Plan();  // a's blocks came back
  EXPECT_TRUE(sim.Running(b));
}

TEST(SchedulerTest, HeadOfLineBlocksLaterSequencesOfEqualPriority) {
  Sim sim(Config(1024, 8), 10);
  Sequence* r = sim.Add(Iota(16), 0, 20);  // 4 blocks, growing to 5
  sim.Step();
  Sequence* big = sim.Add(Iota(28, 100), 0, 30);  // 7 blocks: does not fit next to r
  Sequence* small = sim.Add(Iota(4, 200), 0, 6);  // 1 block: would fit
  std::vector<ScheduledChunk> plan = sim.Step();
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_TRUE(sim.Waiting(big));
  EXPECT_TRUE(sim.Waiting(small)) << "a later sequence overtook the head of the queue";
  EXPECT_EQ(sim.scheduler().waiting()[0].get(), big);
  sim.Step();
  EXPECT_TRUE(sim.Waiting(small));
  // r finishes; the queue goes in order.
  while (!sim.Finished(r)) sim.Step();
  sim.Step();
  EXPECT_TRUE(sim.Running(big));
  sim.RunToCompletion();
  EXPECT_TRUE(sim.Finished(small));
}

// ---------------------------------------------------------------------------------------
// Priorities and preemption.

TEST(SchedulerTest, HigherPriorityIsAdmittedFirst) {
  Sim sim(Config(64, 1), 100);
  Sequence* low = sim.Add(Iota(4, 1), 0, 6);
  Sequence* high = sim.Add(Iota(4, 11), 1, 6);
  sim.Step();
  EXPECT_TRUE(sim.Running(high));
  EXPECT_TRUE(sim.Waiting(low));
  sim.Step();
  EXPECT_TRUE(sim.Finished(high));
  EXPECT_TRUE(sim.Waiting(low));
  sim.RunToCompletion();
  EXPECT_TRUE(sim.Finished(low));
  EXPECT_EQ(sim.finished()[0].get(), high);
  EXPECT_EQ(sim.finished()[1].get(), low);
}

TEST(SchedulerTest, HigherPriorityJumpsTheHeadOfLine) {
  Sim sim(Config(1024, 8), 10);
  sim.Add(Iota(16), 0, 20);
  sim.Step();
  Sequence* big = sim.Add(Iota(28, 100), 0, 30);   // blocked
  Sequence* small = sim.Add(Iota(4, 200), 0, 6);   // blocked behind big
  Sequence* urgent = sim.Add(Iota(4, 300), 1, 6);
  sim.Step();
  EXPECT_TRUE(sim.Running(urgent));
  EXPECT_TRUE(sim.Waiting(big));
  EXPECT_TRUE(sim.Waiting(small));
  sim.RunToCompletion();
}

TEST(SchedulerTest, PlansInServingOrder) {
  Sim sim(Config(64, 8), 100);
  Sequence* a = sim.Add(Iota(3, 1), 0);
  Sequence* b = sim.Add(Iota(3, 11), 2);
  Sequence* c = sim.Add(Iota(3, 21), 1);
  Sequence* d = sim.Add(Iota(3, 31), 2);
  for (int i = 0; i < 2; ++i) {
    const std::vector<ScheduledChunk> plan = sim.Step();
    ASSERT_EQ(plan.size(), 4u);
    EXPECT_EQ(plan[0].sequence, b);
    EXPECT_EQ(plan[1].sequence, d);
    EXPECT_EQ(plan[2].sequence, c);
    EXPECT_EQ(plan[3].sequence, a);
  }
}

// Three decoding streams outgrow the cache: the first victim is the lowest priority,
// even though it arrived first. It loses its blocks, goes back to waiting, and later
// recomputes and finishes.
TEST(SchedulerTest, PreemptsLowestPriorityFirst) {
  Sim sim(Config(64, 8), 6, /*prefix_caching=*/false);
  Sequence* low = sim.Add(Iota(3, 1), 0, 12);
  Sequence* mid = sim.Add(Iota(3, 11), 1, 12);
  Sequence* high = sim.Add(Iota(3, 21), 2, 12);
  while (sim.scheduler().preemptions() == 0) {
    ASSERT_LT(sim.steps(), 20);
    sim.Step();
  }
  EXPECT_EQ(sim.scheduler().preemptions(), 1u);
  EXPECT_TRUE(sim.Waiting(low));
  EXPECT_TRUE(sim.Running(mid));
  EXPECT_TRUE(sim.Running(high));
  EXPECT_EQ(low->computed, 0);
  EXPECT_TRUE(low->block_table.empty());
  EXPECT_EQ(low->result.preemptions, 1);
  EXPECT_EQ(mid->result.preemptions, 0);
  EXPECT_EQ(high->result.preemptions, 0);
  const int64_t low_length = low->length();
  EXPECT_GT(low->generated(), 0);
  sim.CheckIdle();

  sim.RunToCompletion();
  for (const Sequence* s : {low, mid, high}) {
    ASSERT_TRUE(sim.Finished(s));
    EXPECT_EQ(s->length(), 12);
  }
  EXPECT_GE(low->length(), low_length);  // nothing generated was dropped
  EXPECT_EQ(sim.finished().back().get(), low);
  EXPECT_EQ(sim.blocks().used_blocks(), 0);
}

TEST(SchedulerTest, PreemptsLatestArrivalAmongEqualPriorities) {
  Sim sim(Config(64, 8), 6, /*prefix_caching=*/false);
  Sequence* first = sim.Add(Iota(3, 1), 0, 12);
  Sequence* second = sim.Add(Iota(3, 11), 0, 12);
  Sequence* third = sim.Add(Iota(3, 21), 0, 12);
  while (sim.scheduler().preemptions() == 0) {
    ASSERT_LT(sim.steps(), 20);
    sim.Step();
  }
  EXPECT_TRUE(sim.Running(first));
  EXPECT_TRUE(sim.Running(second));
  EXPECT_TRUE(sim.Waiting(third));
  EXPECT_EQ(third->result.preemptions, 1);
  // It goes back ahead of sequences that arrived after it.
  sim.Add(Iota(3, 31), 0, 12);
  EXPECT_EQ(sim.scheduler().waiting().front().get(), third);
  sim.RunToCompletion();
  EXPECT_EQ(sim.finished().size(), 4u);
}

// The lowest sequence needs a block while everyone else is already planned: it
// preempts itself.
TEST(SchedulerTest, LowestSequencePreemptsItself) {
  for (const bool caching : {false, true}) {
    SCOPED_TRACE(caching);
    Sim sim(Config(64, 8), 3, caching);
    Sequence* high = sim.Add(Iota(4, 1), 1, 10);  // its first decode takes a 2nd block
    Sequence* low = sim.Add(Iota(3, 11), 0, 8);   // its second decode wants a 2nd block
    sim.Step();
    EXPECT_EQ(sim.blocks().available_blocks(), 1);  // the watermark
    sim.Step();
    EXPECT_EQ(sim.blocks().available_blocks(), 0);
    EXPECT_EQ(low->length(), 5);
    const std::vector<ScheduledChunk> plan = sim.Plan();
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_EQ(plan[0].sequence, high);
    EXPECT_TRUE(sim.Waiting(low));
    EXPECT_EQ(low->computed, 0);
    EXPECT_TRUE(low->block_table.empty());
    EXPECT_EQ(low->result.preemptions, 1);
    EXPECT_EQ(sim.scheduler().preemptions(), 1u);
    sim.Run(plan);

    sim.RunToCompletion();
    ASSERT_TRUE(sim.Finished(low));
    ASSERT_TRUE(sim.Finished(high));
    EXPECT_EQ(low->length(), 8);
    EXPECT_EQ(high->result.preemptions, 0);
    EXPECT_EQ(low->result.cached_prompt_tokens, 0);  // its own blocks do not count
    EXPECT_EQ(sim.blocks().used_blocks(), 0);
    EXPECT_EQ(sim.blocks().available_blocks(), 3);
  }
}

// A decode that needs a block preempts itself rather than a higher-priority prompt that
// is not planned yet.
TEST(SchedulerTest, LowestDecodePreemptsItselfRatherThanHigherPrompt) {
  Sim sim(Config(16, 8), 7, /*prefix_caching=*/false);
  Sequence* first = sim.Add(Iota(3, 1), 0, 10);
  Sequence* second = sim.Add(Iota(3, 11), 0, 10);
  sim.Step();  // one block each
  Sequence* high = sim.Add(Iota(16, 100), 1, 18);
  sim.Step();  // high gets 14 tokens in 4 blocks, its last 2 fit in the 4th; 1 block is left
  EXPECT_EQ(sim.blocks().available_blocks(), 1);
  // Both decodes now need a second block: first takes the last one, second has only
  // high (unplanned, but higher) to take from.
  const std::vector<ScheduledChunk> plan = sim.Plan();
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].sequence, first);
  EXPECT_EQ(plan[1].sequence, high);
  EXPECT_EQ(plan[1].n_tokens, 2);
  EXPECT_TRUE(sim.Waiting(second));
  EXPECT_EQ(second->result.preemptions, 1);
  EXPECT_EQ(high->result.preemptions, 0);
  sim.Run(plan);
  sim.RunToCompletion();
  EXPECT_EQ(sim.finished().size(), 3u);
}

// ---------------------------------------------------------------------------------------
// Prefix caching.

TEST(SchedulerTest, SharedPrefixIsTakenFromCache) {
  Sim sim(Config(64, 8), 100);
  std::vector<int32_t> prompt = Iota(10);
  Sequence* a = sim.Add(prompt);
  sim.Step();  // a computed 10 tokens: blocks 0 and 1 are full and published
  std::vector<int32_t> other = Iota(9);
  other.push_back(77);
  other.push_back(78);
  Sequence* b = sim.Add(other);
  const std::vector<ScheduledChunk> plan = sim.Plan();
  ASSERT_NE(Find(plan, b), nullptr);
  EXPECT_EQ(b->computed, 8);  // whole blocks of the shared prefix
  EXPECT_EQ(Find(plan, b)->n_tokens, 3);
  EXPECT_EQ(b->result.cached_prompt_tokens, 8);
  EXPECT_EQ(b->block_table[0], a->block_table[0]);
  EXPECT_EQ(b->block_table[1], a->block_table[1]);
  EXPECT_NE(b->block_table[2], a->block_table[2]);
  sim.Run(plan);
  EXPECT_EQ(a->result.cached_prompt_tokens, 0);
}

TEST(SchedulerTest, SamePromptStillComputesItsLastToken) {
  for (const int length : {8, 9, 10}) {
    SCOPED_TRACE(length);
    Sim sim(Config(64, 8), 100);
    sim.Add(Iota(length));
    sim.Step();
    Sequence* b = sim.Add(Iota(length));
    const std::vector<ScheduledChunk> plan = sim.Plan();
    const ScheduledChunk* c = Find(plan, b);
    ASSERT_NE(c, nullptr);
    const int64_t expected = (length - 1) / kBlockTokens * kBlockTokens;
    EXPECT_EQ(b->computed, expected);
    EXPECT_EQ(b->result.cached_prompt_tokens, expected);
    EXPECT_EQ(c->n_tokens, length - expected);
    EXPECT_GE(c->n_tokens, 1);
    EXPECT_TRUE(c->wants_logits);
    sim.Run(plan);
  }
}

TEST(SchedulerTest, CacheSurvivesTheFirstSequence) {
  Sim sim(Config(64, 8), 100);
  Sequence* a = sim.Add(Iota(12), 0, 13);
  sim.Step();
  ASSERT_TRUE(sim.Finished(a));
  Sequence* b = sim.Add(Iota(13));
  sim.Plan();
  EXPECT_EQ(b->computed, 12);
  EXPECT_EQ(b->result.cached_prompt_tokens, 12);
}

TEST(SchedulerTest, NoCacheHitsWithCachingOff) {
  Sim sim(Config(64, 8), 100, /*prefix_caching=*/false);
  sim.Add(Iota(10));
  sim.Step();
  Sequence* b = sim.Add(Iota(10));
  const std::vector<ScheduledChunk> plan = sim.Plan();
  ASSERT_NE(Find(plan, b), nullptr);
  EXPECT_EQ(b->computed, 0);
  EXPECT_EQ(Find(plan, b)->n_tokens, 10);
  EXPECT_EQ(b->result.cached_prompt_tokens, 0);
}

// ---------------------------------------------------------------------------------------
// Removal.

TEST(SchedulerTest, RemoveReleasesBlocksWhereverTheSequenceIs) {
  Sim sim(Config(64, 1), 100);
  Sequence* running = sim.Add(Iota(9, 1));
  Sequence* waiting = sim.Add(Iota(9, 100));
  sim.Step();
  ASSERT_TRUE(sim.Running(running));
  ASSERT_TRUE(sim.Waiting(waiting));
  EXPECT_EQ(sim.blocks().used_blocks(), 3);
  sim.Cancel(waiting);
  sim.Cancel(running);
  EXPECT_TRUE(sim.scheduler().empty());
  EXPECT_EQ(sim.blocks().used_blocks(), 0);
  EXPECT_EQ(sim.blocks().available_blocks(), 100);
  EXPECT_EQ(sim.scheduler().Remove(running), nullptr);
  EXPECT_TRUE(sim.scheduler().Schedule().empty());
}

// ---------------------------------------------------------------------------------------
// No request is ever lost.

struct RandomRun {
  uint64_t preemptions = 0;
  int64_t cached_tokens = 0;
  int finished = 0;
  int cancelled = 0;
};

void RunRandom(uint32_t seed, RandomRun* out) {
  SCOPED_TRACE(seed);
  std::mt19937 rng(seed);
  auto uniform = [&rng](int lo, int hi) {  // [lo, hi]
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  constexpr int64_t kBlocks = 24;
  constexpr int kSequences = 120;
  const SchedulerConfig config = Config(uniform(8, 48), uniform(2, 8));
  Sim sim(config, kBlocks, /*prefix_caching=*/uniform(0, 3) != 0);
  // A small vocabulary makes generated tokens collide too, so prefix hits happen past
  // the prompts as well.
  sim.set_sampler([&rng] { return static_cast<int32_t>(rng() % 3); });
  // A few shared system prompts.
  std::vector<std::vector<int32_t>> heads;
  for (int i = 0; i < 3; ++i) heads.push_back(Iota(4 * i + 6, 1000 * (i + 1)));

  std::vector<Sequence*> all;
  int added = 0;
  for (int step = 0; step < 200000; ++step) {
    // Arrivals.
    if (added < kSequences && uniform(0, 2) == 0) {
      for (int k = uniform(1, 4); k > 0 && added < kSequences; --k, ++added) {
        std::vector<int32_t> prompt;
        if (uniform(0, 1) == 0) prompt = heads[uniform(0, 2)];
        for (int n = uniform(prompt.empty() ? 1 : 0, 30); n > 0; --n) {
          prompt.push_back(uniform(0, 5));
        }
        const int64_t length = static_cast<int64_t>(prompt.size());
        // Everything fits alone: the last token needs no KV.
        const int64_t target =
            std::min<int64_t>(length + uniform(1, 40), kBlocks * kBlockTokens + 1);
        all.push_back(sim.Add(std::move(prompt), uniform(0, 2), target));
      }
    }
    // Cancellations, wherever the sequence is.
    if (uniform(0, 19) == 0) {
      std::vector<Sequence*> live;
      for (const auto* list : {&sim.scheduler().running(), &sim.scheduler().waiting()}) {
        for (const auto& s : *list) live.push_back(s.get());
      }
      if (!live.empty()) sim.Cancel(live[uniform(0, static_cast<int>(live.size()) - 1)]);
    }
    if (sim.scheduler().empty()) {
      if (added == kSequences) break;
      continue;
    }
    ASSERT_FALSE(sim.Step().empty()) << "nothing scheduled with work pending, step " << step;
    sim.CheckIdle();
    if (::testing::Test::HasFailure()) return;
  }

  ASSERT_TRUE(sim.scheduler().empty());
  ASSERT_EQ(added, kSequences);
  EXPECT_EQ(sim.finished().size() + sim.cancelled().size(), all.size());
  uint64_t preemptions = 0;
  for (const auto& s : sim.finished()) {
    EXPECT_EQ(s->length(), sim.target(s.get()));
    EXPECT_EQ(s->generated(), static_cast<int64_t>(s->result.tokens.size()));
    preemptions += s->result.preemptions;
    out->cached_tokens += s->result.cached_prompt_tokens;
    EXPECT_LT(s->result.cached_prompt_tokens, s->prompt_length);
  }
  for (const auto& s : sim.cancelled()) preemptions += s->result.preemptions;
  EXPECT_EQ(preemptions, sim.scheduler().preemptions());
  EXPECT_EQ(sim.blocks().used_blocks(), 0);
  EXPECT_EQ(sim.blocks().available_blocks(), sim.blocks().total_blocks());
  out->preemptions += sim.scheduler().preemptions();
  out->finished += static_cast<int>(sim.finished().size());
  out->cancelled += static_cast<int>(sim.cancelled().size());
}

TEST(SchedulerTest, RandomLoadLosesNoRequest) {
  RandomRun total;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    RunRandom(seed, &total);
    if (HasFailure()) return;
  }
  // The block budget is small enough to force preemptions, and the shared heads give
  // cache hits: the run exercised what it means to.
  EXPECT_GT(total.preemptions, 100u);
  EXPECT_GT(total.cached_tokens, 0);
  EXPECT_GT(total.finished, 0);
  EXPECT_GT(total.cancelled, 0);
}

TEST(SchedulerTest, HigherPriorityPromptPreemptsAPlannedLowerPriorityDecode) {
  Sim sim(Config(16, 8), 7, /*prefix_caching=*/false);
  Sequence* low = sim.Add(Iota(4, 1), 0, 28);
  sim.Step();
  Sequence* high = sim.Add(Iota(24, 100), 1, 26);
  sim.Step();
  ASSERT_EQ(sim.blocks().available_blocks(), 1);
  sim.Plan();
  EXPECT_EQ(high->result.preemptions, 0);
  EXPECT_EQ(low->result.preemptions, 1);
  EXPECT_TRUE(sim.Running(high));
}

TEST(SchedulerTest, BlockedHeadOfLineCountsItsPrefixLookupOnce) {
  Sim sim(Config(1024, 8), 10);
  sim.Add(Iota(16), 0, 20);
  sim.Step();
  sim.Add(Iota(28, 100), 0, 30);
  for (int i = 0; i < 3; ++i) sim.Step();
  EXPECT_EQ(sim.scheduler().prefix_queried_tokens(), 16u);  // the second is not admitted yet
}

}  // namespace
}  // namespace hearth
