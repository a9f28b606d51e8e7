// hearth::Simulate — replays a request trace through the real control plane.
//
// A discrete-event simulation on a virtual clock (a ManualClock): the trace's requests
// arrive at their times and acquire a lease from a real WarmPool; instances come from a
// simulated provisioner whose cold start is the replica profile's measured load time plus
// a provisioning overhead; leased requests are served by a model of the Engine's
// scheduler driven by the measured profile (lib/sim/sim_replica.h states its error);
// every `tick` each model's load is sampled into a real AutoScaler whose decision goes to
// WarmPool::SetDesiredInstances; the pool is ticked whenever NextWakeup() says; every
// instance's life (Start to gone, loading and idle included) and every served request
// are recorded in a real CostLedger. No policy is reimplemented here.
//
// Usage:
//   hearth::SimulationConfig config;
//   config.models.push_back({.name = "conv",
//                            .profile = hearth::ReplicaProfile::Load(path).value()});
//   config.scaling_policies = {"kpa"};
//   config.keep_alive = "fixed";
//   config.price_catalog_path = "data/prices/catalog-2026.json";
//   auto trace = hearth::ReadTrace("data/traces/AzureLLMInferenceTrace_conv_2023.csv",
//                                  {.model = "conv"}).value();
//   absl::Time start = absl::Now();                  // the caller measures wall time
//   absl::StatusOr<hearth::SimulationResult> r = hearth::Simulate(config, trace);
//   if (!r.ok()) return r.status();                  // names the field or request at fault
//   r->wall_s = absl::ToDoubleSeconds(absl::Now() - start);
//   WriteSimulationJson("out.json", *r); WriteTimelineCsv("out.csv", *r);
//
// Replica model: each instance runs the Engine scheduler's steps (decodes first, then
// prompt chunks FIFO within max_batch_tokens, at most max_sequences running); a step
// with d decodes and p prompt tokens takes DecodeStepSeconds(d) + PrefillSeconds(p) of
// the profile. Runs of identical steps are jumped over analytically, so step counts and
// boundaries are exact for that scheduler. Its error against the real Engine: the step
// time is additive where the Engine runs decodes and prefill in one forward pass (plus
// the profile's interpolation error); no KV-block limit, preemption or prefix cache
// (TTFTs are an upper bound for shared prefixes); overheads only as the profile measured.
//
// Semantics stated:
//   - Request outcomes: every trace request ends exactly once, served or rejected with a
//     reason (RejectReason); Simulate checks the sum before returning (Internal if not).
//     A prompt of context_length tokens or more, or an empty one, is rejected at arrival;
//     an output that would overrun the context is cut to fit (counted as truncated, still
//     served). A request for 0 output tokens is served by its prefill (the step that ends
//     the prompt samples one token, as the Engine's does) and billed for 0 output tokens.
//   - Deadline: a request waits at most max_queue_wait for a lease (the WarmPool's
//     acquire deadline); then it is rejected as kQueueTimeout.
//   - TTFT = first token time − arrival (waiting for a lease and any cold start
//     included); end-to-end = last token time − arrival.
//   - Cold start (per request): the request's lease is on an instance that became ready
//     after the request arrived, i.e. the request waited for a starting instance.
//   - SLO: TTFT <= slo_ttft + slo_prefill_slack × the request's own uncontended prefill
//     time on the profile (its prompt alone, in max_batch_tokens chunks), so long prompts
//     are not failed by physics. Default 2 s + 1.0 × prefill. Attainment = requests that
//     met it / all requests (rejected ones miss).
//   - Billing: each instance is one billed interval from Provisioner::Start until its
//     handle is destroyed (or the end of the run), at `offering`; a configuration whose
//     only scaling policy is "static" runs always-on and is billed at
//     `always_on_offering` (on-demand hourly), as a user would run it; so are a model's
//     first always_on_replicas live instances (its always-on base). Served requests are
//     recorded with their tenant and tokens (the per-request fee of the offering of the
//     instance that served them applies).
//   - End of the run: after the last request ends and the virtual time reaches
//     max(last arrival, horizon_s) (rounded up to a whole tick); instances still alive
//     are billed up to then.
//
// Thread-safety: Simulate is reentrant (no shared state); each call owns its objects.
#ifndef HEARTH_SIMULATOR_H_
#define HEARTH_SIMULATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "hearth/autoscaler.h"
#include "hearth/cost_ledger.h"
#include "hearth/replica_profile.h"
#include "hearth/trace.h"

namespace hearth {

// One model of the simulation: the trace's requests for `name` go to its replicas.
struct SimModelConfig {
  std::string name;        // as in TraceRequest::model; non-empty, unique
  ReplicaProfile profile;  // valid (ReplicaProfile::Validate)
  // Cold start loads the model file from disk (load_cold_s) or from the page cache
  // (load_warm_s, e.g. a machine that keeps the file cached).
  bool load_from_disk = true;
  int min_warm = 0;  // WarmPool floor (provisioned concurrency), >= 0
  // Leases one instance takes at once (Knative's containerConcurrency, Modal's
  // max_inputs), in [1, profile.max_sequences]; 0: profile.max_sequences.
  int max_leases = 0;
  // Always-on base (hybrid capacity): this many of the model's live instances are billed
  // at always_on_offering for their whole life, busy or idle; the rest per second at
  // `offering`. The base is kept warm: at most min_warm. >= 0.
  int always_on_replicas = 0;
};

// Makes the scaling policy `policy` for `model`, e.g. a "static" one with the peak count.
using ScalingPolicyFactory = std::function<absl::StatusOr<std::unique_ptr<ScalingPolicy>>(
    std::string_view model, std::string_view policy)>;

struct SimulationConfig {
  std::vector<SimModelConfig> models;  // at least one; every trace model must be here

  // WarmPool limits. memory_budget_bytes 0: max_instances × the largest replica memory.
  int max_instances = 64;            // > 0
  int64_t memory_budget_bytes = 0;   // >= 0
  std::string keep_alive = "fixed";  // a MakeKeepAlivePolicy name ("fixed", "hybrid", ...)

  // AutoScaler per model: MakeScalingPolicy names (several: the max of them), or
  // {"none"} (or empty): no AutoScaler, the pool reacts alone with its keep-alive.
  std::vector<std::string> scaling_policies = {"kpa"};
  ScalingPolicyFactory policy_factory;  // empty: MakeScalingPolicy(policy)
  int min_replicas = 0;                 // >= 0
  int max_replicas = 100;               // >= max(1, min_replicas)

  // Prices. The catalog file must exist and name both offerings.
  std::string price_catalog_path;
  std::string offering = "modal-cpu-8core";              // serverless, per second
  std::string always_on_offering = "aws-ec2-m7g.large";  // on-demand hourly
  CostLedgerConfig ledger;
  std::map<std::string, TenantBudget> budgets;  // by tenant; alerts land in the result

  // Container/VM start before the model loads. Default 0: the replica is a process on a
  // machine that is already up, as the profile was measured.
  absl::Duration provisioning_overhead = absl::ZeroDuration();  // >= 0
  // Fraction of instance starts that fail (the provisioner's error), drawn with `seed`.
  double provision_failure_rate = 0;                  // [0, 1)
  absl::Duration max_queue_wait = absl::Seconds(60);  // > 0
  absl::Duration slo_ttft = absl::Seconds(2);         // > 0
  double slo_prefill_slack = 1.0;                     // >= 0
  absl::Duration tick = absl::Seconds(1);             // > 0: AutoScaler period
  double horizon_s = 0;                               // >= 0, see above
  uint64_t seed = 1;
};

enum class RejectReason {
  kQueueTimeout,      // no lease before the deadline (max_queue_wait)
  kPromptTooLong,     // prompt_tokens >= the profile's context_length
  kProvisionerError,  // the instance started for it failed
  kPoolError,         // any other WarmPool answer (e.g. ResourceExhausted)
  kEmptyPrompt,       // prompt_tokens == 0: the Engine refuses an empty prompt
};
inline constexpr int kRejectReasonCount = 5;
// "queue_timeout", "prompt_too_long", "provisioner_error", "pool_error", "empty_prompt".
std::string_view RejectReasonName(RejectReason reason);

// Totals of one model, or of all of them.
struct SimulationTotals {
  int64_t requests = 0;
  int64_t served = 0;
  int64_t rejected[kRejectReasonCount] = {};  // by RejectReason
  int64_t truncated = 0;                      // served with the output cut to the context
  int64_t cold_starts = 0;                    // served requests that waited for a starting instance
  double cold_start_rate = 0;                 // cold_starts / served
  double ttft_p50_s = 0, ttft_p99_s = 0;      // over served requests (exact order statistics)
  double e2e_p50_s = 0, e2e_p95_s = 0, e2e_p99_s = 0;
  int64_t slo_met = 0;
  double slo_attainment = 0;                     // slo_met / requests
  int64_t prompt_tokens = 0, output_tokens = 0;  // of served requests
  int64_t instances_started = 0;
  double instance_seconds = 0;         // Start → gone: what is billed
  double loaded_instance_seconds = 0;  // ready → gone
  double idle_instance_seconds = 0;    // loaded with no lease out
  double cost = 0;                     // the ledger's instance cost + request fees
  double cost_per_1k_requests = 0;     // cost / requests × 1000

  int64_t rejected_total() const;
};

// One model's state sampled at one tick, before that tick's decision (desired) acts.
struct TimelinePoint {
  double time_s = 0;
  std::string model;
  int64_t arrivals = 0;     // in the tick
  int64_t in_flight = 0;    // requests holding a lease
  int64_t queue_depth = 0;  // requests waiting for a lease
  int ready = 0;            // loaded instances
  int starting = 0;         // instances started, not yet loaded
  int desired = 0;          // the AutoScaler's decision (0 without one)
};

struct SimulationResult {
  SimulationTotals overall;
  std::map<std::string, SimulationTotals> models;
  std::vector<TimelinePoint> timeline;  // per tick, models in config order
  CostReport cost;                      // the ledger's report
  std::vector<BudgetAlert> alerts;
  std::string billed_offering;
  double duration_s = 0;                              // virtual time simulated
  uint64_t events = 0;                                // events processed
  uint64_t pool_cold_starts = 0, pool_warm_hits = 0;  // as the WarmPool counts them
  double wall_s = 0;  // set by the caller (Simulate never reads the real clock)

  double events_per_s() const { return wall_s > 0 ? static_cast<double>(events) / wall_s : 0; }
};

// Runs the simulation. `trace` must be sorted by arrival_s (finite, >= 0), every model
// named in config.models, token counts >= 0. InvalidArgument
// naming the config field or the request index at fault; NotFound for a missing price
// catalog or offering; Internal if requests were not conserved (a bug).
absl::StatusOr<SimulationResult> Simulate(const SimulationConfig& config,
                                          absl::Span<const TraceRequest> trace);

// The summary (everything but the timeline) as a JSON object, with events/s when wall_s
// is set.
std::string SimulationJson(const SimulationResult& result);
// The timeline as CSV: time_s,model,arrivals,in_flight,queue_depth,ready,starting,desired.
std::string TimelineCsv(const SimulationResult& result);
// Write the two above to files; the I/O error's code naming the path.
absl::Status WriteSimulationJson(const std::string& path, const SimulationResult& result);
absl::Status WriteTimelineCsv(const std::string& path, const SimulationResult& result);

}  // namespace hearth

#endif  // HEARTH_SIMULATOR_H_
