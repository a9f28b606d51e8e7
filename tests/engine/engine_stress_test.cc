// Many client threads submit with random arrivals and lengths, stream, cancel and set
// deadlines, against a KV cache small enough to force preemptions. Every request must be
// accounted for, each with a finish reason its client can explain, and every KV block
// must be back when the Engine stops. Runs under ThreadSanitizer in CI.
#include <atomic>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "hearth/engine.h"

namespace hearth {
namespace {

const std::string kTinyModel =
    std::string(HEARTH_SOURCE_DIR) + "/tests/data/models/stories260K.gguf";

enum class Mode { kCallback, kCallbackStops, kNext, kCancel, kDeadline, kNumModes };

TEST(EngineStressTest, EveryRequestAccountedForAndEveryBlockReturned) {
  EngineConfig config;
  config.model_path = kTinyModel;
  config.threads = 2;
  config.context_length = 256;
  config.max_sequences = 12;
  config.max_batch_tokens = 48;
  config.kv_block_tokens = 8;
  // 40 blocks of 8 tokens (5 KiB each on this model, float16) for up to 12 requests of up
  // to ~130 tokens: preemption is the rule, not the exception.
  config.kv_cache_bytes = 40 * 5120;
  absl::StatusOr<std::unique_ptr<Engine>> created = Engine::Create(config);
  ASSERT_TRUE(created.ok()) << created.status();
  Engine& engine = **created;

  constexpr int kClients = 16, kRequestsPerClient = 8;
  const std::vector<std::string> prompts = {"Once upon a time", "The little dog",
                                            "Lily and Ben went to the park. They",
                                            "One day, a big bird"};
  std::atomic<int> submitted{0}, completed{0};
  std::mutex live_mu;
  std::vector<RequestId> live;  // ids a meddling thread cancels at random

  auto client = [&](int seed) {
    std::mt19937 rng(seed);
    for (int i = 0; i < kRequestsPerClient; ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(
          std::exponential_distribution<double>(1.0 / 2000)(rng))));
      GenerateRequest r;
      r.prompt = prompts[rng() % prompts.size()];
      r.max_tokens = 1 + static_cast<int>(rng() % 120);
      r.sampling.temperature = (rng() % 2) ? 0.0f : 0.9f;
      r.sampling.seed = rng();
      r.priority = static_cast<int>(rng() % 3);
      r.ignore_eos = true;
      const Mode mode = static_cast<Mode>(rng() % static_cast<int>(Mode::kNumModes));
      if (mode == Mode::kDeadline) {
        r.deadline = absl::Now() + absl::Milliseconds(rng() % 40);
      }
      std::string streamed;
      int pieces = 0;
      TokenCallback callback;
      if (mode == Mode::kCallback || mode == Mode::kCallbackStops) {
        callback = [&, mode](std::string_view piece) {
          streamed.append(piece);
          return !(mode == Mode::kCallbackStops && ++pieces == 3);
        };
      }
      absl::StatusOr<RequestId> id = engine.Submit(r, callback);
      ASSERT_TRUE(id.ok()) << id.status();
      ++submitted;
      {
        std::lock_guard lock(live_mu);
        live.push_back(*id);
      }
      if (mode == Mode::kNext) {
        while (true) {
          absl::StatusOr<std::optional<StreamPiece>> piece = engine.Next(*id);
          ASSERT_TRUE(piece.ok()) << piece.status();
          if (!piece->has_value()) break;
          streamed += (*piece)->text;
        }
      }
      if (mode == Mode::kCancel) {
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 5000));
        const absl::Status s = engine.Cancel(*id);
        EXPECT_TRUE(s.ok() || s.code() == absl::StatusCode::kFailedPrecondition) << s;
      }
      absl::StatusOr<GenerateResult> result = engine.Wait(*id);
      ASSERT_TRUE(result.ok()) << result.status();
      ++completed;
      const FinishReason reason = result->finish_reason;
      EXPECT_NE(reason, FinishReason::kError) << result->error;
      EXPECT_LE(result->completion_tokens, r.max_tokens);
      if (reason == FinishReason::kLength) {
        EXPECT_EQ(result->completion_tokens, r.max_tokens);
      }
      EXPECT_NE(reason, FinishReason::kStop) << "no EOS or stop string was possible";
      // Cancelled requests end early, by the caller, the callback or the meddler; a
      // deadline only ends requests that set one.
      if (reason == FinishReason::kDeadline) {
        EXPECT_EQ(mode, Mode::kDeadline);
      }
      if (mode == Mode::kNext || (mode == Mode::kCallback && reason != FinishReason::kCancelled)) {
        EXPECT_EQ(streamed, result->text);
      }
    }
  };
  std::atomic<bool> done{false};
  std::thread meddler([&] {
    std::mt19937 rng(99);
    while (!done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
      RequestId victim = 0;
      {
        std::lock_guard lock(live_mu);
        if (!live.empty()) victim = live[rng() % live.size()];
      }
      if (victim == 0 || rng() % 4 != 0) continue;
      const absl::Status s = engine.Cancel(victim);
      EXPECT_TRUE(s.ok() || s.code() == absl::StatusCode::kNotFound ||
                  s.code() == absl::StatusCode::kFailedPrecondition)
          << s;
      (void)engine.metrics();  // metrics are read while the scheduler writes them
    }
  });
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) clients.emplace_back(client, c + 1);
  for (std::thread& t : clients) t.join();
  done = true;
  meddler.join();

  engine.Shutdown();
  const EngineMetrics m = engine.metrics();
  EXPECT_EQ(submitted.load(), kClients * kRequestsPerClient);
  EXPECT_EQ(completed.load(), submitted.load());
  EXPECT_EQ(m.requests_submitted, static_cast<uint64_t>(submitted.load()));
  EXPECT_EQ(m.requests_finished, m.requests_submitted);
  EXPECT_EQ(m.requests_failed, 0u);
  EXPECT_EQ(m.waiting, 0);
  EXPECT_EQ(m.running, 0);
  EXPECT_EQ(m.kv_blocks_used, 0);
  EXPECT_EQ(m.kv_blocks_cached + m.kv_blocks_free, m.kv_blocks_total);
  EXPECT_GT(m.preemptions, 0u);
  RecordProperty("preemptions", std::to_string(m.preemptions));
}

}  // namespace
}  // namespace hearth
