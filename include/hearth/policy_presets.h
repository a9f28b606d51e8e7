// hearth policy presets — the control-plane configurations compared side by side.
//
// `hearth simulate --policy NAME` and the policy comparison replay one trace under each
// of these. Every preset drives the same real objects (WarmPool, AutoScaler,
// CostOptimizer); a preset only chooses their policies and parameters. All of them size
// replicas with the same two figures, derived from the trace and the measured replica
// profile (ReplicaSizing), so that they differ by policy, not by tuning:
//
//   work(r)   = the replica-seconds request r costs at full efficiency: its prompt alone
//               (PrefillSeconds) + its output tokens at the full batch's per-token cost
//               (DecodeStepSeconds(max_sequences) / max_sequences);
//   latency(r) = its time on a replica running a full batch: PrefillSeconds(prompt) +
//               output x DecodeStepSeconds(max_sequences);
//   capacity  = 1 / mean(work): requests/s one replica completes when saturated;
//   concurrency = mean(latency) / mean(work): requests in flight on a saturated replica
//               (Little's law), at most max_sequences;
//   demand(t) = sum of work(r) over requests arriving in minute t / 60 s: replicas the
//               minute needs at 100 % utilisation.
//
// Presets (in comparison order; utilisation target 0.7 where a policy has one):
//   static_peak    always on, ceil(max demand / 0.7) replicas, billed on demand
//   static_mean    always on, ceil(mean demand / 0.7) replicas, billed on demand
//   hpa            Kubernetes HPA v2 on concurrency, target 0.7 x concurrency per
//                  replica, its default windows and rates, minReplicas 1
//   kpa            Knative KPA, container concurrency = concurrency, target 70 %,
//                  scale to zero after its grace
//   queue_depth    the seed's queue-depth rule, target depth = 0.7 x concurrency
//   load_score     the seed's load-score rule, rps capacity = capacity
//   keepalive_10m  no autoscaler: the pool starts an instance when every slot is taken
//                  (max 0.7 x concurrency leases each) and keeps idle ones 10 minutes
//   hearth         predictive (seasonal forecast, provisioned ahead by the measured cold
//                  start) together with KPA, hybrid-histogram keep-alive
// Everything but the static presets is billed per second at the serverless offering.
//
// Thread-safety: pure functions.
#ifndef HEARTH_POLICY_PRESETS_H_
#define HEARTH_POLICY_PRESETS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hearth/replica_profile.h"
#include "hearth/simulator.h"
#include "hearth/trace.h"

namespace hearth {

// The figures above for one model's requests.
struct ReplicaSizing {
  double capacity_rps = 0;         // requests/s of one saturated replica
  double concurrency = 0;          // requests in flight on a saturated replica
  std::vector<double> demand;      // replicas needed per minute at 100 % utilisation
  double peak_demand = 0;
  double mean_demand = 0;
};

// InvalidArgument for an empty trace or an invalid profile.
absl::StatusOr<ReplicaSizing> SizeReplicas(const ReplicaProfile& profile,
                                           absl::Span<const TraceRequest> requests);

// The preset names, in comparison order.
const std::vector<std::string>& PolicyPresetNames();

// Sets the policy fields of `config` (scaling policies and their factory, keep-alive,
// per-instance leases, min replicas and warm floors) for preset `name`, sizing each of
// config->models from its requests in `trace`. Other fields (prices, SLO, limits) are
// left as they are. InvalidArgument for an unknown name (listing the known ones) or a
// model without requests.
absl::Status ApplyPolicyPreset(std::string_view name, absl::Span<const TraceRequest> trace,
                               SimulationConfig* config);

}  // namespace hearth

#endif  // HEARTH_POLICY_PRESETS_H_
