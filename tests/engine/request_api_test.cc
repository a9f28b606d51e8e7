// The request API: Submit / Next / Cancel / Wait, deadlines, priorities, metrics, and the
// clear errors for misuse. On the tiny stories260K model.
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hearth/engine.h"

namespace hearth {
namespace {

using ::testing::HasSubstr;

const std::string kTinyModel = std::string(HEARTH_SOURCE_DIR) + "/tests/data/models/stories260K.gguf";

std::unique_ptr<Engine> MustCreate(EngineConfig config = {}) {
  config.model_path = kTinyModel;
  config.threads = 2;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(config);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
}

GenerateRequest Greedy(const std::string& prompt, int max_tokens) {
  GenerateRequest r;
  r.prompt = prompt;
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0;
  r.ignore_eos = true;
  return r;
}

TEST(RequestApiTest, NextStreamsTheWholeAnswerThenEnds) {
  auto engine = MustCreate();
  ASSERT_NE(engine, nullptr);
  absl::StatusOr<RequestId> id = engine->Submit(Greedy("Once upon a time", 30));
  ASSERT_TRUE(id.ok()) << id.status();
  std::string text;
  std::vector<int32_t> tokens;
  while (true) {
    absl::StatusOr<std::optional<StreamPiece>> piece = engine->Next(*id);
    ASSERT_TRUE(piece.ok()) << piece.status();
    if (!piece->has_value()) break;
    text += (*piece)->text;
    tokens.insert(tokens.end(), (*piece)->tokens.begin(), (*piece)->tokens.end());
  }
  absl::StatusOr<GenerateResult> result = engine->Wait(*id);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(text, result->text);
  EXPECT_EQ(tokens, result->tokens);
  EXPECT_EQ(result->completion_tokens, 30);
  // The id is forgotten once its result was taken.
  EXPECT_EQ(engine->Wait(*id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine->Next(*id).status().code(), absl::StatusCode::kNotFound);
}

TEST(RequestApiTest, UnknownIdsAndLateCancelsAreClearErrors) {
  auto engine = MustCreate();
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->Cancel(12345).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine->Wait(12345).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine->Next(12345).status().code(), absl::StatusCode::kNotFound);

  absl::StatusOr<RequestId> id = engine->Submit(Greedy("Once upon a time", 4));
  ASSERT_TRUE(id.ok());
  while (engine->Next(*id).value().has_value()) {
  }
  const absl::Status late = engine->Cancel(*id);
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(late.message(), HasSubstr("already finished"));
  absl::StatusOr<GenerateResult> result = engine->Wait(*id);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->finish_reason, FinishReason::kLength);
  EXPECT_EQ(engine->Cancel(*id).code(), absl::StatusCode::kNotFound);
}

TEST(RequestApiTest, BadRequestsFailAtSubmit) {
  auto engine = MustCreate();
  ASSERT_NE(engine, nullptr);
  for (int max_tokens : {0, -5}) {
    const absl::Status s = engine->Submit(Greedy("hi", max_tokens)).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("max_tokens"));
  }
  GenerateRequest both = Greedy("hi", 4);
  both.messages = {{"user", "hi"}};
  EXPECT_EQ(engine->Submit(both).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RequestApiTest, NextOnACallbackRequestIsRefused) {
  auto engine = MustCreate();
  ASSERT_NE(engine, nullptr);
  absl::StatusOr<RequestId> id =
      engine->Submit(Greedy("Once upon a time", 8), [](std::string_view) { return true; });
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(engine->Next(*id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(engine->Wait(*id).ok());
}

TEST(RequestApiTest, CancelStopsARunningRequest) {
  auto engine = MustCreate();
  ASSERT_NE(engine, nullptr);
  absl::StatusOr<RequestId> id = engine->Submit(Greedy("Once upon a time", 400));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(engine->Next(*id).value().has_value());  // it is running
  ASSERT_TRUE(engine->Cancel(*id).ok());
  absl::StatusOr<GenerateResult> result = engine->Wait(*id);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->finish_reason, FinishReason::kCancelled);
  EXPECT_LT(result->completion_tokens, 400);
  EXPECT_EQ(engine->metrics().requests_cancelled, 1u);
}

TEST(RequestApiTest, PassedDeadlineEndsTheRequest) {
  auto engine = MustCreate();
  ASSERT_NE(engine, nullptr);
  GenerateRequest r = Greedy("Once upon a time", 400);
  r.deadline = absl::Now() - absl::Seconds(1);
  absl::StatusOr<GenerateResult> expired = engine->Generate(r);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->finish_reason, FinishReason::kDeadline);
  EXPECT_EQ(expired->completion_tokens, 0);

  r.deadline = absl::Now() + absl::Milliseconds(30);
  r.max_tokens = 100000;
  r.ignore_eos = true;
  absl::StatusOr<GenerateResult> cut = engine->Generate(r);
  ASSERT_TRUE(cut.ok());
  EXPECT_THAT(cut->finish_reason,
              ::testing::AnyOf(FinishReason::kDeadline, FinishReason::kLength));
  EXPECT_EQ(engine->metrics().requests_deadline, cut->finish_reason == FinishReason::kDeadline ? 2u : 1u);
}

TEST(RequestApiTest, HigherPriorityIsServedFirst) {
  EngineConfig config;
  config.max_sequences = 1;
  auto engine = MustCreate(config);
  ASSERT_NE(engine, nullptr);
  // The first request occupies the only slot while the others queue behind it.
  absl::StatusOr<RequestId> busy = engine->Submit(Greedy("Once upon a time", 200));
  ASSERT_TRUE(busy.ok());
  ASSERT_TRUE(engine->Next(*busy).value().has_value());
  GenerateRequest low = Greedy("The dog", 5), high = Greedy("The cat", 5);
  high.priority = 10;
  absl::StatusOr<RequestId> low_id = engine->Submit(low);
  absl::StatusOr<RequestId> high_id = engine->Submit(high);
  ASSERT_TRUE(low_id.ok() && high_id.ok());
  absl::StatusOr<GenerateResult> low_result = engine->Wait(*low_id);
  absl::StatusOr<GenerateResult> high_result = engine->Wait(*high_id);
  ASSERT_TRUE(low_result.ok() && high_result.ok());
  EXPECT_LT(high_result->timings.queue_ms, low_result->timings.queue_ms);
  EXPECT_TRUE(engine->Wait(*busy).ok());
}

TEST(RequestApiTest, SharedPrefixHitsTheCacheAndGivesTheSameTokens) {
  auto engine = MustCreate();
  ASSERT_NE(engine, nullptr);
  const std::string prompt =
      "Once upon a time there was a little girl named Lily. She loved to play outside in the "
      "sun with her friends and her dog";
  absl::StatusOr<GenerateResult> first = engine->Generate(Greedy(prompt, 20));
  absl::StatusOr<GenerateResult> second = engine->Generate(Greedy(prompt, 20));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->cached_prompt_tokens, 0);
  EXPECT_GT(second->cached_prompt_tokens, 0);
  EXPECT_LT(second->cached_prompt_tokens, second->prompt_tokens);
  EXPECT_EQ(first->tokens, second->tokens);
  const EngineMetrics m = engine->metrics();
  EXPECT_EQ(m.prefix_cache_hit_tokens, static_cast<uint64_t>(second->cached_prompt_tokens));
  EXPECT_GT(m.prefix_cache_hit_rate, 0);
}

TEST(RequestApiTest, MetricsCountTheWork) {
  auto engine = MustCreate();
  ASSERT_NE(engine, nullptr);
  std::vector<RequestId> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(engine->Submit(Greedy("Once upon a time", 12)).value());
  for (RequestId id : ids) ASSERT_TRUE(engine->Wait(id).ok());
  engine->Shutdown();  // the scheduler has published its last state
  const EngineMetrics m = engine->metrics();
  EXPECT_EQ(m.requests_submitted, 6u);
  EXPECT_EQ(m.requests_finished, 6u);
  EXPECT_EQ(m.waiting, 0);
  EXPECT_EQ(m.running, 0);
  EXPECT_EQ(m.kv_blocks_used, 0);
  EXPECT_EQ(m.kv_blocks_cached + m.kv_blocks_free, m.kv_blocks_total);
  EXPECT_EQ(m.generated_tokens, 6u * 12u);
  EXPECT_GT(m.generated_tokens_per_s, 0);
  EXPECT_EQ(m.time_to_first_token_ms.count, 6u);
  EXPECT_EQ(m.inter_token_latency_ms.count, 6u * 11u);
  EXPECT_GT(m.inter_token_latency_ms.Quantile(0.5), 0);
}

TEST(RequestApiTest, SubmitAfterShutdownFailsAndResultsSurvive) {
  auto engine = MustCreate();
  ASSERT_NE(engine, nullptr);
  absl::StatusOr<RequestId> id = engine->Submit(Greedy("Once upon a time", 100000));
  ASSERT_TRUE(id.ok());
  engine->Shutdown();
  engine->Shutdown();  // idempotent
  const absl::Status late = engine->Submit(Greedy("hi", 4)).status();
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(late.message(), HasSubstr("shut down"));
  absl::StatusOr<GenerateResult> result = engine->Wait(*id);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->finish_reason, FinishReason::kCancelled);
}

TEST(RequestApiTest, RejectsBadSchedulerConfig) {
  EngineConfig config;
  config.model_path = kTinyModel;
  config.max_sequences = 0;
  EXPECT_THAT(Engine::Create(config).status().message(), HasSubstr("max_sequences"));
  config.max_sequences = 64;
  config.max_batch_tokens = 32;
  EXPECT_THAT(Engine::Create(config).status().message(), HasSubstr("max_batch_tokens"));
  config.max_batch_tokens = 256;
  config.kv_block_tokens = 0;
  EXPECT_THAT(Engine::Create(config).status().message(), HasSubstr("kv_block_tokens"));
  config.kv_block_tokens = 16;
  config.kv_cache_bytes = 10;
  EXPECT_THAT(Engine::Create(config).status().message(), HasSubstr("kv_cache_bytes"));
}

}  // namespace
}  // namespace hearth
