// The in-process provisioner with real Engines from the tiny test model.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "hearth/clock.h"
#include "hearth/engine.h"
#include "hearth/keep_alive.h"
#include "hearth/warm_pool.h"

namespace hearth {
namespace {

constexpr int64_t kKvBytes = 1 << 20;

EngineConfig TinyModel() {
  EngineConfig config;
  config.model_path = std::string(HEARTH_SOURCE_DIR) + "/tests/data/models/stories260K.gguf";
  config.threads = 1;
  config.kv_cache_bytes = kKvBytes;
  return config;
}

TEST(EngineProvisionerTest, LeaseServesAnEngineUntilKeepAliveExpires) {
  ManualClock clock(absl::FromUnixSeconds(100));
  absl::StatusOr<std::unique_ptr<Provisioner>> provisioner =
      MakeEngineProvisioner({{"stories", TinyModel()}});
  ASSERT_TRUE(provisioner.ok()) << provisioner.status();
  WarmPoolConfig config;
  config.models = {{"stories", 0, 4, 0}};  // memory learned from the Engine
  config.memory_budget_bytes = int64_t{1} << 30;
  config.max_instances = 2;
  absl::StatusOr<std::unique_ptr<WarmPool>> pool = WarmPool::Create(
      config, *std::move(provisioner), MakeKeepAlivePolicy("fixed:60").value(), &clock);
  ASSERT_TRUE(pool.ok()) << pool.status();

  {
    // The Engine loads on the provisioner's thread; Acquire waits for it.
    absl::StatusOr<Lease> lease = (*pool)->Acquire("stories", absl::InfiniteFuture());
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_NE(lease->engine(), nullptr);
    GenerateRequest request;
    request.prompt = "Once upon a time";
    request.max_tokens = 8;
    request.sampling.temperature = 0;
    absl::StatusOr<GenerateResult> result = lease->engine()->Generate(request);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_GT(result->completion_tokens, 0);

    WarmPoolMetrics m = (*pool)->metrics();
    EXPECT_EQ(m.models.at("stories").busy, 1);
    EXPECT_GT(m.models.at("stories").memory_bytes, kKvBytes);  // file + KV
    EXPECT_EQ(m.cold_start_ms.count, 1u);
  }
  EXPECT_EQ((*pool)->metrics().models.at("stories").idle, 1);
  clock.Advance(absl::Seconds(60));
  (*pool)->Tick();
  WarmPoolMetrics m = (*pool)->metrics();
  EXPECT_EQ(m.instances, 0);  // the Engine was destroyed
  EXPECT_EQ(m.memory_bytes, 0);
}

TEST(EngineProvisionerTest, BadConfigsAndMissingFiles) {
  EXPECT_EQ(MakeEngineProvisioner({}).status().code(), absl::StatusCode::kInvalidArgument);
  EngineConfig no_kv = TinyModel();
  no_kv.kv_cache_bytes = 0;
  EXPECT_EQ(MakeEngineProvisioner({{"m", no_kv}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EngineConfig no_path = TinyModel();
  no_path.model_path.clear();
  EXPECT_EQ(MakeEngineProvisioner({{"m", no_path}}).status().code(),
            absl::StatusCode::kInvalidArgument);

  EngineConfig missing = TinyModel();
  missing.model_path += ".missing";
  ManualClock clock;
  WarmPoolConfig config;
  config.models = {{"m", 1 << 20, 1, 0}, {"unmapped", 1 << 20, 1, 0}};
  config.memory_budget_bytes = int64_t{1} << 30;
  config.max_instances = 2;
  absl::StatusOr<std::unique_ptr<WarmPool>> pool =
      WarmPool::Create(config, MakeEngineProvisioner({{"m", missing}}).value(),
                       MakeKeepAlivePolicy("immediate").value(), &clock);
  ASSERT_TRUE(pool.ok());
  // The Engine's own error reaches the waiter.
  EXPECT_EQ((*pool)->Acquire("m", absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ((*pool)->Acquire("unmapped", absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ((*pool)->metrics().failed_provisioner, 2u);
}

}  // namespace
}  // namespace hearth
