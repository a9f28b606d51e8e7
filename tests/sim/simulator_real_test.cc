// Replays the real Azure LLM conversation trace (one hour, about 19,000 requests) with
// the committed replica profile: requests are conserved under real load, and the replay
// is fast (events/s printed, not asserted: the machine varies).
#include <iostream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "hearth/replica_profile.h"
#include "hearth/scaling_policies.h"
#include "hearth/simulator.h"
#include "hearth/trace.h"

namespace hearth {
namespace {

TEST(SimulatorRealTraceTest, AzureConvReplaysAndConservesRequests) {
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadTrace(
      HEARTH_SOURCE_DIR "/data/traces/AzureLLMInferenceTrace_conv_2023.csv", {.model = "conv"});
  ASSERT_TRUE(trace.ok()) << trace.status();
  absl::StatusOr<ReplicaProfile> profile =
      ReplicaProfile::Load(HEARTH_SOURCE_DIR "/data/profiles/smollm2-135m-q4_1-cpu.json");
  ASSERT_TRUE(profile.ok()) << profile.status();

  // The pool alone, and KPA with a concurrency the CPU replica can serve (8 per instance).
  for (const std::string policy : {"none", "kpa"}) {
    SimulationConfig config;
    config.models.push_back({.name = "conv", .profile = *profile});
    config.scaling_policies = {policy};
    if (policy == "kpa") {
      config.models[0].max_leases = 8;
      config.policy_factory = [](std::string_view, std::string_view) {
        return MakeKpaPolicy({.container_concurrency = 8});
      };
    }
    config.price_catalog_path = HEARTH_SOURCE_DIR "/data/prices/catalog-2026.json";
    const absl::Time start = absl::Now();
    absl::StatusOr<SimulationResult> r = Simulate(config, *trace);
    ASSERT_TRUE(r.ok()) << r.status();
    r->wall_s = absl::ToDoubleSeconds(absl::Now() - start);
    const SimulationTotals& t = r->overall;
    EXPECT_EQ(t.requests, static_cast<int64_t>(trace->size()));
    EXPECT_EQ(t.served + t.rejected_total(), t.requests);
    EXPECT_GT(t.served, 0);
    std::cout << policy << ": " << trace->size() << " requests, " << t.served << " served, "
              << t.rejected_total() << " rejected (prompt too long "
              << t.rejected[static_cast<int>(RejectReason::kPromptTooLong)] << ", timeout "
              << t.rejected[static_cast<int>(RejectReason::kQueueTimeout)] << "), TTFT p50 "
              << t.ttft_p50_s << " s p99 " << t.ttft_p99_s << " s, SLO " << t.slo_attainment
              << ", cold starts " << t.cold_starts << ", instance-s " << t.instance_seconds
              << ", cost $" << t.cost << "; " << r->events << " events in " << r->wall_s
              << " s = " << r->events_per_s() << " events/s\n";
  }
}

}  // namespace
}  // namespace hearth
