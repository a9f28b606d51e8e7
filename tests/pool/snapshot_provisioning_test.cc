// The WarmPool's in-process provisioner on a .hearth snapshot, with the real clock: the
// pool measures each instance's cold start (Engine::Create on the provisioner's thread),
// and that figure, not an assumed one, becomes the AutoScaler's predictive lead time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hearth/autoscaler.h"
#include "hearth/clock.h"
#include "hearth/engine.h"
#include "hearth/keep_alive.h"
#include "hearth/warm_pool.h"
#include "lib/snapshot/snapshot.h"

namespace hearth {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kKvBytes = 4 << 20;
const std::string kSource = HEARTH_SOURCE_DIR;

// SmolLM2 where it has been extracted (several chunks, a real load), else the tiny model.
std::string SourceModel() {
  const std::string smol = kSource + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  struct stat st {};
  return ::stat(smol.c_str(), &st) == 0 ? smol
                                        : kSource + "/tests/data/models/stories260K.gguf";
}

class SnapshotProvisioningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    snapshot_ = ::testing::TempDir() + "/hearth_pool_" + std::to_string(::getpid()) + ".hearth";
    absl::StatusOr<PackResult> packed = PackSnapshot(SourceModel(), snapshot_);
    ASSERT_TRUE(packed.ok()) << packed.status();
  }
  void TearDown() override { ::unlink(snapshot_.c_str()); }

  absl::StatusOr<std::unique_ptr<WarmPool>> MakePool() {
    EngineConfig engine;
    engine.model_path = snapshot_;
    engine.threads = 2;
    engine.kv_cache_bytes = kKvBytes;
    absl::StatusOr<std::unique_ptr<Provisioner>> provisioner =
        MakeEngineProvisioner({{"model", engine}});
    if (!provisioner.ok()) return provisioner.status();
    WarmPoolConfig config;
    config.models = {{"model", 0, 4, 0}};  // memory learned from the Engine
    config.memory_budget_bytes = int64_t{4} << 30;
    config.max_instances = 2;
    return WarmPool::Create(config, *std::move(provisioner), MakeKeepAlivePolicy("fixed").value(),
                            RealClock());
  }

  std::string snapshot_;
};

TEST_F(SnapshotProvisioningTest, ThePoolMeasuresTheSnapshotsColdStart) {
  absl::StatusOr<std::unique_ptr<WarmPool>> pool = MakePool();
  ASSERT_TRUE(pool.ok()) << pool.status();
  absl::StatusOr<Lease> lease = (*pool)->Acquire("model", absl::InfiniteFuture());
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_NE(lease->engine(), nullptr);
  GenerateRequest request;
  request.prompt = "Once upon a time";
  request.max_tokens = 4;
  request.sampling.temperature = 0;
  absl::StatusOr<GenerateResult> result = lease->engine()->Generate(request);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(result->completion_tokens, 0);

  const WarmPoolMetrics m = (*pool)->metrics();
  EXPECT_EQ(m.cold_start_ms.count, 1u);
  const double measured_ms = m.models.at("model").last_cold_start_ms;
  // The pool's figure is Start → loaded, so it covers the whole Engine::Create.
  const double create_ms = lease->engine()->load_timings().total_ms;
  EXPECT_GT(create_ms, 0);
  EXPECT_GE(measured_ms, create_ms);
  EXPECT_LT(measured_ms, create_ms + 5000);  // and not some unrelated span
  ASSERT_TRUE(MeasuredColdStart(m).has_value());
  EXPECT_EQ(*MeasuredColdStart(m), absl::Microseconds(measured_ms * 1000));
  EXPECT_EQ(MeasuredColdStart(m, "model"), MeasuredColdStart(m));
}

TEST_F(SnapshotProvisioningTest, TheAutoScalersLeadTimeIsThePoolsMeasurement) {
  absl::StatusOr<std::unique_ptr<WarmPool>> pool = MakePool();
  ASSERT_TRUE(pool.ok()) << pool.status();
  ASSERT_TRUE((*pool)->Acquire("model", absl::InfiniteFuture()).ok());

  ManualClock clock(absl::FromUnixSeconds(1000));
  std::vector<std::unique_ptr<ScalingPolicy>> policies;
  policies.push_back(MakeScalingPolicy("predictive").value());
  absl::StatusOr<std::unique_ptr<AutoScaler>> scaler =
      AutoScaler::Create({0, 10}, std::move(policies), &clock);
  ASSERT_TRUE(scaler.ok()) << scaler.status();

  // The composition a server runs each control tick: one line.
  if (auto cold = MeasuredColdStart((*pool)->metrics())) (*scaler)->SetColdStart(*cold);

  const std::optional<absl::Duration> cold = MeasuredColdStart((*pool)->metrics());
  ASSERT_TRUE(cold.has_value());
  LoadSample sample;
  sample.time = clock.Now();
  sample.ready_replicas = 1;
  sample.arrival_rate = 2;
  sample.in_flight = 1;
  ASSERT_TRUE((*scaler)->Observe(sample).ok());
  const ScalingDecision decision = (*scaler)->Decide();
  EXPECT_THAT(decision.reason, HasSubstr("at +" + absl::FormatDuration(*cold)));
}

TEST_F(SnapshotProvisioningTest, ADamagedSnapshotFailsTheStartAndRecordsNoColdStart) {
  std::vector<char> bytes;
  {
    std::ifstream in(snapshot_, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 8192u);
  // A random byte of the image's last page: tensor data or padding, verified in the
  // parallel read-in (or at the open, for a one-chunk model).
  std::mt19937 rng(99);
  const size_t at = bytes.size() - 1 - rng() % 4096;
  bytes[at] = static_cast<char>(bytes[at] ^ (1 + rng() % 255));
  {
    std::ofstream out(snapshot_, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  absl::StatusOr<std::unique_ptr<WarmPool>> pool = MakePool();
  ASSERT_TRUE(pool.ok()) << pool.status();
  absl::StatusOr<Lease> lease = (*pool)->Acquire("model", absl::InfiniteFuture());
  ASSERT_EQ(lease.status().code(), absl::StatusCode::kDataLoss) << lease.status();
  EXPECT_THAT(lease.status().message(), HasSubstr("chunk"));
  const WarmPoolMetrics m = (*pool)->metrics();
  EXPECT_EQ(m.instances_failed, 1u);
  EXPECT_EQ(m.instances, 0);
  EXPECT_EQ(m.cold_start_ms.count, 0u);
  EXPECT_EQ(MeasuredColdStart(m), std::nullopt);
}

}  // namespace
}  // namespace hearth
