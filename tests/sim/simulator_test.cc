#include "hearth/simulator.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hearth/scaling_policies.h"
#include "lib/sim/simulator_stats.h"
#include "nlohmann/json.hpp"

namespace hearth {
namespace {

// A small replica with round numbers: 2 s cold load, 4 sequences, 256-token steps.
ReplicaProfile TestProfile() {
  ReplicaProfile p;
  p.name = "test";
  p.hardware = "test";
  p.load_cold_s = 2.0;
  p.load_warm_s = 0.5;
  p.first_token_s = 0.02;
  p.weights_bytes = 100'000'000;
  p.kv_cache_bytes = 100'000'000;
  p.kv_bytes_per_token = 1000;
  p.max_sequences = 4;
  p.max_batch_tokens = 256;
  p.context_length = 2048;
  p.prefill = {{64, 1000}, {256, 2000}};
  p.decode = {{1, 50}, {4, 160}};
  return p;
}

SimulationConfig BaseConfig() {
  SimulationConfig c;
  c.models.push_back({.name = "m", .profile = TestProfile()});
  c.max_instances = 4;
  c.scaling_policies = {"none"};
  c.keep_alive = "fixed";
  c.price_catalog_path = HEARTH_SOURCE_DIR "/data/prices/catalog-2026.json";
  return c;
}

TraceRequest Req(double arrival_s, int prompt, int output, std::string model = "m",
                 std::string tenant = "t") {
  return {.arrival_s = arrival_s,
          .model = std::move(model),
          .tenant = std::move(tenant),
          .prompt_tokens = prompt,
          .output_tokens = output};
}

void ExpectConserved(const SimulationResult& r, int64_t n) {
  EXPECT_EQ(r.overall.requests, n);
  EXPECT_EQ(r.overall.served + r.overall.rejected_total(), n);
  int64_t per_model = 0;
  for (const auto& [name, t] : r.models) per_model += t.served + t.rejected_total();
  EXPECT_EQ(per_model, n);
}

TEST(SimulatorTest, WarmRequestTtftIsItsPrefillTime) {
  SimulationConfig c = BaseConfig();
  c.models[0].min_warm = 1;
  const std::vector<TraceRequest> trace = {Req(10, 600, 10)};
  absl::StatusOr<SimulationResult> r = Simulate(c, trace);
  ASSERT_TRUE(r.ok()) << r.status();
  const ReplicaProfile p = TestProfile();
  // Chunks of 256, 256, 88 tokens, one step each; the model is step-exact here.
  const double prefill = 2 * p.PrefillSeconds(256) + p.PrefillSeconds(88);
  EXPECT_NEAR(prefill, UncontendedPrefillS(p, 600), 1e-12);
  EXPECT_EQ(r->overall.served, 1);
  EXPECT_EQ(r->overall.cold_starts, 0);
  EXPECT_NEAR(r->overall.ttft_p50_s, prefill, 1e-6);
  EXPECT_NEAR(r->overall.e2e_p50_s, prefill + 9 * p.DecodeStepSeconds(1), 1e-6);
  EXPECT_EQ(r->overall.slo_met, 1);
}

TEST(SimulatorTest, ColdStartAddsExactlyTheLoadTime) {
  SimulationConfig c = BaseConfig();
  c.provisioning_overhead = absl::Milliseconds(1500);
  const std::vector<TraceRequest> trace = {Req(5, 600, 10)};
  absl::StatusOr<SimulationResult> r = Simulate(c, trace);
  ASSERT_TRUE(r.ok()) << r.status();
  const ReplicaProfile p = TestProfile();
  EXPECT_EQ(r->overall.cold_starts, 1);
  EXPECT_DOUBLE_EQ(r->overall.cold_start_rate, 1.0);
  EXPECT_NEAR(r->overall.ttft_p50_s, 2.0 + 1.5 + UncontendedPrefillS(p, 600), 1e-6);
  // 2 s + 1.5 s of cold start is beyond the 2 s SLO plus the prefill.
  EXPECT_EQ(r->overall.slo_met, 0);
  EXPECT_EQ(r->overall.instances_started, 1);
}

TEST(SimulatorTest, WarmLoadUsesThePageCacheTime) {
  SimulationConfig c = BaseConfig();
  c.models[0].load_from_disk = false;
  const std::vector<TraceRequest> trace = {Req(5, 100, 1)};
  absl::StatusOr<SimulationResult> r = Simulate(c, trace);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->overall.ttft_p50_s, 0.5 + TestProfile().PrefillSeconds(100), 1e-6);
}

TEST(SimulatorTest, TwoRequestsShareDecodeAsTheProfileSays) {
  SimulationConfig c = BaseConfig();
  c.models[0].min_warm = 1;
  const std::vector<TraceRequest> trace = {Req(10, 100, 20), Req(10, 100, 20)};
  absl::StatusOr<SimulationResult> r = Simulate(c, trace);
  ASSERT_TRUE(r.ok()) << r.status();
  const ReplicaProfile p = TestProfile();
  const double p100 = p.PrefillSeconds(100), d1 = p.DecodeStepSeconds(1),
               d2 = p.DecodeStepSeconds(2);
  // The first runs alone for one step; the second's prompt joins the first's decode;
  // then both decode at batch 2 (each at DecodeTokensPerS(2) / 2 tokens/s).
  const double first_done = p100 + (d1 + p100) + 18 * d2;
  const double second_done = first_done + d1;
  EXPECT_NEAR(r->overall.e2e_p50_s, first_done + 0.5 * (second_done - first_done), 1e-6);
  EXPECT_NEAR(r->overall.ttft_p99_s, p100 + 0.99 * (d1 + p100), 1e-6);
  EXPECT_EQ(r->overall.output_tokens, 40);
}

TEST(SimulatorTest, ScalesToZeroThenWakesOnTheNextRequest) {
  SimulationConfig c = BaseConfig();
  c.scaling_policies = {"kpa"};
  c.keep_alive = "fixed:5";
  const std::vector<TraceRequest> trace = {Req(1, 100, 5), Req(300, 100, 5)};
  absl::StatusOr<SimulationResult> r = Simulate(c, trace);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->overall.served, 2);
  EXPECT_EQ(r->overall.cold_starts, 2);
  EXPECT_EQ(r->overall.instances_started, 2);
  bool was_up = false, went_to_zero = false;
  for (const TimelinePoint& t : r->timeline) {
    if (t.time_s < 300 && t.ready > 0) was_up = true;
    if (was_up && t.time_s < 300 && t.ready == 0 && t.starting == 0) went_to_zero = true;
  }
  EXPECT_TRUE(was_up);
  EXPECT_TRUE(went_to_zero);
  // Billed: two lives, each shorter than the gap.
  EXPECT_LT(r->overall.instance_seconds, 200);
  EXPECT_GT(r->overall.idle_instance_seconds, 0);
}

TEST(SimulatorTest, AutoScalerDecisionsReachThePool) {
  SimulationConfig c = BaseConfig();
  c.scaling_policies = {"static"};
  c.policy_factory = [](std::string_view model, std::string_view policy) {
    EXPECT_EQ(model, "m");
    EXPECT_EQ(policy, "static");
    return MakeStaticPolicy({.replicas = 3});
  };
  c.horizon_s = 20;
  absl::StatusOr<SimulationResult> r = Simulate(c, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->overall.instances_started, 3);
  ASSERT_FALSE(r->timeline.empty());
  // Sampled before the decision: at 1 s nothing yet; at 2 s loading (2 s); then ready.
  ASSERT_GE(r->timeline.size(), 3u);
  EXPECT_EQ(r->timeline[0].desired, 3);
  EXPECT_EQ(r->timeline[0].starting, 0);
  EXPECT_EQ(r->timeline[1].starting, 3);
  EXPECT_EQ(r->timeline[2].ready, 3);
  EXPECT_EQ(r->timeline.back().ready, 3);
  // Started at the first tick (1 s), billed to the end (20 s), on-demand.
  EXPECT_NEAR(r->overall.instance_seconds, 3 * 19, 1e-6);
}

TEST(SimulatorTest, MaxLeasesSpreadsRequestsOverInstances) {
  SimulationConfig c = BaseConfig();
  c.models[0].max_leases = 1;
  const std::vector<TraceRequest> trace = {Req(1, 100, 50), Req(1, 100, 50), Req(1, 100, 50)};
  absl::StatusOr<SimulationResult> r = Simulate(c, trace);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->overall.instances_started, 3);
  // Each alone on its instance: all three see the same lone-request times.
  EXPECT_NEAR(r->overall.e2e_p50_s, r->overall.e2e_p99_s, 1e-9);
}

TEST(SimulatorTest, RejectsLongPromptsAndTruncatesLongOutputs) {
  SimulationConfig c = BaseConfig();
  const std::vector<TraceRequest> trace = {Req(1, 2048, 5), Req(2, 2000, 100)};
  absl::StatusOr<SimulationResult> r = Simulate(c, trace);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->overall.rejected[static_cast<int>(RejectReason::kPromptTooLong)], 1);
  EXPECT_EQ(r->overall.served, 1);
  EXPECT_EQ(r->overall.truncated, 1);
  EXPECT_EQ(r->overall.output_tokens, 48);
}

TEST(SimulatorTest, EmptyPromptIsRejectedAndZeroOutputIsServedByItsPrefill) {
  SimulationConfig c = BaseConfig();
  c.models[0].min_warm = 1;
  const std::vector<TraceRequest> trace = {Req(5, 0, 5), Req(6, 300, 0)};
  absl::StatusOr<SimulationResult> r = Simulate(c, trace);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectConserved(*r, 2);
  EXPECT_EQ(r->overall.rejected[static_cast<int>(RejectReason::kEmptyPrompt)], 1);
  EXPECT_EQ(r->overall.served, 1);
  EXPECT_EQ(r->overall.output_tokens, 0);
  EXPECT_NEAR(r->overall.e2e_p50_s, UncontendedPrefillS(TestProfile(), 300), 1e-6);
}

TEST(SimulatorTest, QueueTimeoutWhenNoInstanceFrees) {
  SimulationConfig c = BaseConfig();
  c.max_instances = 1;
  c.max_queue_wait = absl::Seconds(3);
  std::vector<TraceRequest> trace;
  // The instance is ready at 7 s and takes four; each decodes 1000 tokens (25 s or more),
  // so the other four time out at 8 s.
  for (int i = 0; i < 8; ++i) trace.push_back(Req(5, 100, 1000));
  absl::StatusOr<SimulationResult> r = Simulate(c, trace);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectConserved(*r, 8);
  EXPECT_EQ(r->overall.served, 4);
  EXPECT_EQ(r->overall.rejected[static_cast<int>(RejectReason::kQueueTimeout)], 4);
}

TEST(SimulatorTest, ProvisionerErrorsRejectTheirWaiters) {
  SimulationConfig c = BaseConfig();
  c.provision_failure_rate = 0.9;
  c.seed = 3;
  std::vector<TraceRequest> trace;
  for (int i = 0; i < 40; ++i) trace.push_back(Req(i * 30.0, 50, 2));
  absl::StatusOr<SimulationResult> r = Simulate(c, trace);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectConserved(*r, 40);
  EXPECT_GT(r->overall.rejected[static_cast<int>(RejectReason::kProvisionerError)], 0);
}

TEST(SimulatorTest, CostThroughTheLedger) {
  SimulationConfig c = BaseConfig();
  c.models[0].min_warm = 1;
  c.horizon_s = 100;
  const std::vector<TraceRequest> trace = {Req(10, 100, 5, "m", "acme"),
                                           Req(20, 100, 5, "m", "globex")};
  absl::StatusOr<SimulationResult> r = Simulate(c, trace);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->billed_offering, "modal-cpu-8core");
  // One instance alive from 0 to the end of the run (100 s), at 8 vCPU × 1.31e-5 $/s.
  EXPECT_NEAR(r->overall.instance_seconds, 100, 1e-6);
  EXPECT_NEAR(r->overall.cost, 100 * 8 * 1.31e-5, 1e-9);
  EXPECT_NEAR(r->overall.cost_per_1k_requests, r->overall.cost / 2 * 1000, 1e-12);
  ASSERT_EQ(r->cost.tenants.size(), 2u);
  EXPECT_NEAR(r->cost.tenants[0].total, r->cost.tenants[1].total, 1e-12);

  c.scaling_policies = {"static"};
  r = Simulate(c, trace);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->billed_offering, "aws-ec2-m7g.large");
  EXPECT_NEAR(r->overall.cost, 100 * 0.0816 / 3600, 1e-9);
}

std::vector<TraceRequest> RandomTrace(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  std::vector<TraceRequest> trace;
  double t = 0;
  for (int i = 0; i < n; ++i) {
    // Bursts and gaps: mostly short gaps, sometimes a minute of silence.
    t += std::bernoulli_distribution(0.05)(rng) ? 60.0
                                                : std::exponential_distribution<double>(4.0)(rng);
    trace.push_back(Req(t, std::uniform_int_distribution<int>(1, 2300)(rng),
                        std::uniform_int_distribution<int>(1, 200)(rng),
                        std::bernoulli_distribution(0.3)(rng) ? "b" : "m",
                        std::bernoulli_distribution(0.5)(rng) ? "x" : "y"));
  }
  return trace;
}

TEST(SimulatorTest, ConservesRequestsForEveryPolicyCombination) {
  const std::vector<std::vector<std::string>> policies = {
      {"none"},        {"hpa"},        {"kpa"},
      {"queue_depth"}, {"load_score"}, {"predictive"},
      {"static"},      {"hpa", "kpa"}, {"queue_depth", "predictive"}};
  const std::vector<std::string> keep_alives = {"fixed", "fixed:10", "hybrid", "immediate"};
  uint32_t seed = 0;
  for (const auto& scaling : policies) {
    for (const std::string& keep_alive : keep_alives) {
      ++seed;
      SimulationConfig c = BaseConfig();
      c.models.push_back({.name = "b", .profile = TestProfile(), .min_warm = int(seed % 2)});
      c.scaling_policies = scaling;
      c.keep_alive = keep_alive;
      c.max_instances = 3;
      c.max_replicas = 3;
      c.max_queue_wait = absl::Seconds(5);
      c.provision_failure_rate = 0.05;
      c.seed = seed;
      const std::vector<TraceRequest> trace = RandomTrace(seed, 150);
      absl::StatusOr<SimulationResult> r = Simulate(c, trace);
      ASSERT_TRUE(r.ok()) << scaling[0] << "/" << keep_alive << ": " << r.status();
      SCOPED_TRACE(scaling[0] + "/" + keep_alive);
      ExpectConserved(*r, 150);
      EXPECT_GT(r->overall.served, 0);
      EXPECT_GT(r->overall.rejected[static_cast<int>(RejectReason::kPromptTooLong)], 0);
      EXPECT_GE(r->overall.slo_met, 0);
      EXPECT_LE(r->overall.slo_met, r->overall.served);
      EXPECT_LE(r->overall.idle_instance_seconds, r->overall.loaded_instance_seconds + 1e-9);
      EXPECT_LE(r->overall.loaded_instance_seconds, r->overall.instance_seconds + 1e-9);
      EXPECT_GT(r->overall.cost, 0);
    }
  }
}

TEST(SimulatorTest, SameInputsGiveTheSameJson) {
  SimulationConfig c = BaseConfig();
  c.scaling_policies = {"kpa"};
  c.keep_alive = "hybrid";
  c.provision_failure_rate = 0.1;
  const std::vector<TraceRequest> trace = RandomTrace(42, 300);
  c.models.push_back({.name = "b", .profile = TestProfile()});
  absl::StatusOr<SimulationResult> a = Simulate(c, trace);
  absl::StatusOr<SimulationResult> b = Simulate(c, trace);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(SimulationJson(*a), SimulationJson(*b));
  EXPECT_EQ(TimelineCsv(*a), TimelineCsv(*b));
  c.seed = 43;
  absl::StatusOr<SimulationResult> other = Simulate(c, trace);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(SimulationJson(*a), SimulationJson(*other));
}

TEST(SimulatorTest, WritersGiveJsonAndCsv) {
  SimulationConfig c = BaseConfig();
  const std::vector<TraceRequest> trace = {Req(1, 100, 5), Req(2.5, 100, 5)};
  absl::StatusOr<SimulationResult> r = Simulate(c, trace);
  ASSERT_TRUE(r.ok()) << r.status();
  r->wall_s = 0.5;
  const nlohmann::json json = nlohmann::json::parse(SimulationJson(*r));
  EXPECT_EQ(json["overall"]["served"], 2);
  EXPECT_EQ(json["models"]["m"]["requests"], 2);
  EXPECT_EQ(json["overall"]["rejected_by_reason"]["queue_timeout"], 0);
  EXPECT_DOUBLE_EQ(json["events_per_s"].get<double>(), static_cast<double>(r->events) / 0.5);
  const std::string csv = TimelineCsv(*r);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "time_s,model,arrivals,in_flight,queue_depth,ready,starting,desired");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), static_cast<long>(r->timeline.size()) + 1);
  int64_t arrivals = 0;
  for (const TimelinePoint& p : r->timeline) arrivals += p.arrivals;
  EXPECT_EQ(arrivals, 2);
  EXPECT_EQ(WriteTimelineCsv("/nonexistent-dir/x.csv", *r).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(SimulatorTest, BadConfigsNameTheField) {
  const std::vector<TraceRequest> trace = {Req(1, 10, 1)};
  struct Case {
    std::string field;
    std::function<void(SimulationConfig&)> break_it;
    absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  };
  const std::vector<Case> cases = {
      {"models", [](SimulationConfig& c) { c.models.clear(); }},
      {"models[0].name", [](SimulationConfig& c) { c.models[0].name.clear(); }},
      {"appears twice", [](SimulationConfig& c) { c.models.push_back(c.models[0]); }},
      {"models[0].profile", [](SimulationConfig& c) { c.models[0].profile.max_sequences = 0; }},
      {"models[0].min_warm", [](SimulationConfig& c) { c.models[0].min_warm = -1; }},
      {"models[0].max_leases", [](SimulationConfig& c) { c.models[0].max_leases = 5; }},
      {"max_instances", [](SimulationConfig& c) { c.max_instances = 0; }},
      {"memory_budget_bytes", [](SimulationConfig& c) { c.memory_budget_bytes = -1; }},
      // Limits the WarmPool itself refuses.
      {"memory_budget_bytes", [](SimulationConfig& c) { c.memory_budget_bytes = 1; }},
      {"min_warm", [](SimulationConfig& c) { c.models[0].min_warm = 5; }},
      {"min_replicas", [](SimulationConfig& c) { c.min_replicas = 5, c.max_replicas = 2; }},
      {"scaling_policies",
       [](SimulationConfig& c) {
         c.scaling_policies = {"kpa", "none"};
       }},
      {"scaling_policies", [](SimulationConfig& c) { c.scaling_policies = {"magic"}; }},
      {"keep_alive", [](SimulationConfig& c) { c.keep_alive = "forever"; }},
      {"price_catalog_path", [](SimulationConfig& c) { c.price_catalog_path.clear(); }},
      {"missing.json", [](SimulationConfig& c) { c.price_catalog_path = "missing.json"; },
       absl::StatusCode::kNotFound},
      {"offering", [](SimulationConfig& c) { c.offering = "nope"; }, absl::StatusCode::kNotFound},
      {"provision_failure_rate", [](SimulationConfig& c) { c.provision_failure_rate = 1; }},
      {"provision_failure_rate",
       [](SimulationConfig& c) { c.provision_failure_rate = std::nan(""); }},
      {"provisioning_overhead",
       [](SimulationConfig& c) { c.provisioning_overhead = absl::Seconds(-1); }},
      {"max_queue_wait", [](SimulationConfig& c) { c.max_queue_wait = absl::ZeroDuration(); }},
      {"slo_ttft", [](SimulationConfig& c) { c.slo_ttft = absl::InfiniteDuration(); }},
      {"slo_prefill_slack", [](SimulationConfig& c) { c.slo_prefill_slack = -1; }},
      {"tick", [](SimulationConfig& c) { c.tick = absl::ZeroDuration(); }},
      {"horizon_s", [](SimulationConfig& c) { c.horizon_s = std::nan(""); }},
      {"budgets[acme]", [](SimulationConfig& c) { c.budgets["acme"] = {.amount = 0}; }},
  };
  for (const Case& k : cases) {
    SimulationConfig c = BaseConfig();
    k.break_it(c);
    absl::StatusOr<SimulationResult> r = Simulate(c, trace);
    EXPECT_EQ(r.status().code(), k.code) << k.field << ": " << r.status();
    EXPECT_NE(r.status().message().find(k.field), std::string::npos)
        << k.field << ": " << r.status();
  }
}

TEST(SimulatorTest, BadTracesNameTheRequest) {
  const SimulationConfig c = BaseConfig();
  const std::vector<std::vector<TraceRequest>> traces = {
      {Req(2, 10, 1), Req(1, 10, 1)},
      {Req(1, 10, 1), Req(std::nan(""), 10, 1)},
      {Req(-1, 10, 1)},
      {Req(1, 10, 1), Req(1, 10, 1, "unknown")},
      {Req(1, -1, 1)},
      {Req(1, 10, -1)},
  };
  for (size_t i = 0; i < traces.size(); ++i) {
    absl::StatusOr<SimulationResult> r = Simulate(c, traces[i]);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << i;
    EXPECT_NE(r.status().message().find("trace["), std::string::npos) << r.status();
  }
}

TEST(SimulatorTest, EmptyTraceEndsAtTheHorizon) {
  SimulationConfig c = BaseConfig();
  c.models[0].min_warm = 2;
  c.horizon_s = 30;
  absl::StatusOr<SimulationResult> r = Simulate(c, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->overall.requests, 0);
  EXPECT_NEAR(r->duration_s, 30, 1e-9);
  EXPECT_NEAR(r->overall.instance_seconds, 60, 1e-6);
  EXPECT_NEAR(r->overall.idle_instance_seconds, 56, 1e-6);  // loaded after 2 s each
}

}  // namespace
}  // namespace hearth
