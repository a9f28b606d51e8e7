// A request's output does not depend on the company it keeps: 64 mixed requests (chat
// and raw prompts with shared prefixes, greedy and seeded sampling, stop strings,
// different lengths) give the same tokens run one at a time and submitted all at once —
// with prefix caching on and off, and with a KV cache so small that requests are
// preempted and recomputed; and in the 8-bit activation mode. On the real SmolLM2-135M
// model.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hearth/engine.h"

namespace hearth {
namespace {

const std::string kSmolLm2 =
    std::string(HEARTH_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";

std::vector<GenerateRequest> MixedRequests() {
  const std::vector<std::string> questions = {
      "What is the capital of France? Answer in one word.",
      "Name three colours.",
      "Write a haiku about the sea.",
      "How many legs does a spider have?",
      "Explain what a CPU does in one sentence.",
      "Give me a synonym for happy.",
      "What is 12 times 12?",
      "Translate 'good morning' into Spanish.",
  };
  std::vector<GenerateRequest> requests;
  for (int i = 0; i < 64; ++i) {
    GenerateRequest r;
    const std::string& q = questions[i % questions.size()];
    if (i % 4 == 3) {
      r.prompt = "Once upon a time, " + q;  // raw text, shares a prefix with its kind
    } else {
      r.messages = {{"user", q}};  // the chat template's system prompt is a shared prefix
      if (i % 8 == 5) r.messages.insert(r.messages.begin(), {"system", "Be brief."});
    }
    r.max_tokens = 8 + (i * 7) % 17;
    if (i % 3 == 0) {
      r.sampling.temperature = 0;
    } else {
      r.sampling.temperature = 0.8f;
      r.sampling.seed = 1000 + i;
    }
    if (i % 5 == 0) r.stop = {"."};
    r.ignore_eos = i % 6 == 0;
    requests.push_back(std::move(r));
  }
  return requests;
}

std::unique_ptr<Engine> MustCreate(
    bool prefix_caching, int64_t kv_cache_bytes = 0,
    ActivationPrecision precision = ActivationPrecision::k16Bit) {
  EngineConfig config;
  config.model_path = kSmolLm2;
  config.threads = 2;
  config.prefix_caching = prefix_caching;
  config.kv_cache_bytes = kv_cache_bytes;
  config.activation_precision = precision;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(config);
  EXPECT_TRUE(engine.ok()) << engine.status() << " (run scripts/setup.sh to extract the model)";
  return engine.ok() ? *std::move(engine) : nullptr;
}

std::vector<GenerateResult> RunAllAtOnce(Engine& engine, const std::vector<GenerateRequest>& rs) {
  std::vector<RequestId> ids;
  for (const GenerateRequest& r : rs) {
    absl::StatusOr<RequestId> id = engine.Submit(r);
    EXPECT_TRUE(id.ok()) << id.status();
    ids.push_back(id.value_or(0));
  }
  std::vector<GenerateResult> results;
  for (RequestId id : ids) {
    absl::StatusOr<GenerateResult> result = engine.Wait(id);
    EXPECT_TRUE(result.ok()) << result.status();
    results.push_back(result.ok() ? *std::move(result) : GenerateResult{});
  }
  return results;
}

class BatchInvarianceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto engine = MustCreate(/*prefix_caching=*/false);
    if (engine == nullptr) return;
    for (const GenerateRequest& r : MixedRequests()) {
      absl::StatusOr<GenerateResult> result = engine->Generate(r);
      ASSERT_TRUE(result.ok()) << result.status();
      alone_->push_back(*std::move(result));
    }
  }

  static void ExpectSameAsAlone(const std::vector<GenerateResult>& batched,
                                const std::vector<GenerateResult>& alone = *alone_) {
    ASSERT_EQ(alone.size(), batched.size());
    for (size_t i = 0; i < batched.size(); ++i) {
      EXPECT_EQ(batched[i].tokens, alone[i].tokens) << "request " << i;
      EXPECT_EQ(batched[i].text, alone[i].text) << "request " << i;
      EXPECT_EQ(batched[i].finish_reason, alone[i].finish_reason) << "request " << i;
    }
  }

  static inline auto* alone_ = new std::vector<GenerateResult>();
};

TEST_F(BatchInvarianceTest, SameTokensInABatchOf64WithPrefixCaching) {
  auto engine = MustCreate(/*prefix_caching=*/true);
  ASSERT_NE(engine, nullptr);
  ExpectSameAsAlone(RunAllAtOnce(*engine, MixedRequests()));
  EXPECT_GT(engine->metrics().prefix_cache_hit_tokens, 0u);
}

TEST_F(BatchInvarianceTest, SameTokensInABatchOf64WithoutPrefixCaching) {
  auto engine = MustCreate(/*prefix_caching=*/false);
  ASSERT_NE(engine, nullptr);
  ExpectSameAsAlone(RunAllAtOnce(*engine, MixedRequests()));
  EXPECT_EQ(engine->metrics().prefix_cache_hit_tokens, 0u);
}

TEST_F(BatchInvarianceTest, SameTokensWhenPreemptedAndRecomputed) {
  // 40 blocks of 16 tokens for 64 requests of ~40-90 tokens: most are preempted.
  const int64_t block_bytes = 2 * 30 * 16 * 192 * int64_t{sizeof(uint16_t)};  // float16
  auto engine = MustCreate(/*prefix_caching=*/true, 40 * block_bytes);
  ASSERT_NE(engine, nullptr);
  ExpectSameAsAlone(RunAllAtOnce(*engine, MixedRequests()));
  engine->Shutdown();
  const EngineMetrics m = engine->metrics();
  EXPECT_GT(m.preemptions, 0u);
  EXPECT_EQ(m.kv_blocks_used, 0);
  EXPECT_EQ(m.requests_finished, 64u);
}

TEST_F(BatchInvarianceTest, SameTokensInABatchOf64WithEightBitActivations) {
  auto engine = MustCreate(/*prefix_caching=*/true, 0, ActivationPrecision::k8Bit);
  ASSERT_NE(engine, nullptr);
  std::vector<GenerateResult> alone;
  for (const GenerateRequest& r : MixedRequests()) {
    absl::StatusOr<GenerateResult> result = engine->Generate(r);
    ASSERT_TRUE(result.ok()) << result.status();
    alone.push_back(*std::move(result));
  }
  ExpectSameAsAlone(RunAllAtOnce(*engine, MixedRequests()), alone);
}

}  // namespace
}  // namespace hearth
