// hearth policy presets — the control-plane configurations compared side by side.
//
// `hearth simulate --policy NAME` and the policy comparison replay one trace under each
// of these. Every preset drives the same real objects (WarmPool, AutoScaler,
// CostOptimizer); a preset only chooses their policies and parameters. All of them size
// replicas with the same figures, measured on the replica model itself so that they
// differ by policy, not by tuning (ReplicaSizing):
//
//   capacity    = the highest Poisson arrival rate of the model's own request sizes
//                 (those that fit the context) at which a fleet of 8 warm replicas still
//                 meets the SLO for 95 % of them, per replica: found by bisection, each
//                 probe a 1,600-request simulation of 8 always-on replicas (the same
//                 Simulate, profile and SLO as the run; a fleet, so that least-loaded
//                 placement pools the load as it does in the runs);
//   concurrency = the mean requests in the system (in flight + waiting) per replica at
//                 that rate, at least 1: what one replica holds while meeting the SLO;
//   demand(t)   = requests arriving in minute t / 60 s / capacity: replicas the minute
//                 needs.
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
//   hybrid_keepalive  as keepalive_10m, with the hybrid-histogram keep-alive of Shahrad
//                  et al. (per-model idle-time histogram: pre-warm and keep-alive windows)
//   predictive     arrivals forecast (Holt-Winters over a day, Holt's trend before),
//                  provisioned ahead by the measured cold start, target as hpa
//   hearth         an always-on base of the size the CostOptimizer's CapacityPlanner
//                  finds cheapest for the trace's demand (hybrid: reserved base +
//                  serverless burst), billed on demand, and KPA as above for the burst;
//                  instances above the AutoScaler's count go at once
// Everything but the static presets and hearth's base is billed per second at the
// serverless offering.
//
// Thread-safety: pure functions.
#ifndef HEARTH_POLICY_PRESETS_H_
#define HEARTH_POLICY_PRESETS_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hearth/capacity_planner.h"
#include "hearth/replica_profile.h"
#include "hearth/simulator.h"
#include "hearth/trace.h"

namespace hearth {

// The figures above for one model's requests.
struct ReplicaSizing {
  double capacity_rps = 0;         // requests/s one replica serves within the SLO
  double concurrency = 0;          // requests it then holds (in flight + waiting)
  double latency_p95_s = 0;        // end-to-end p95 at that rate (the seeds' reserved rule)
  std::vector<double> demand;      // replicas needed per minute
  std::vector<double> requests;    // requests arriving per minute
  double peak_demand = 0;
  double mean_demand = 0;
};

// Sizes `model`'s replicas for `requests` (its own requests), simulating with `base`'s
// prices, SLO and seed. InvalidArgument for no requests (or none that fits the context)
// or an invalid profile; FailedPrecondition when one replica cannot meet the SLO even
// at a trickle.
absl::StatusOr<ReplicaSizing> SizeReplicas(const SimulationConfig& base,
                                           const SimModelConfig& model,
                                           absl::Span<const TraceRequest> requests);

// Prices serving the model's demand (busy replicas = demand / 0.7 per minute) always-on,
// serverless and hybrid with the CostOptimizer's CapacityPlanner: config's serverless
// `offering` against its `always_on_offering` (also taken as the reserved price, the
// catalog listing no reserved one), a cold start of the profile's load time plus the
// provisioning overhead. NotFound for a missing catalog or offering.
absl::StatusOr<PlanResult> PlanCapacity(const SimulationConfig& config,
                                        const SimModelConfig& model,
                                        const ReplicaSizing& sizing);

// The preset names, in comparison order.
const std::vector<std::string>& PolicyPresetNames();

// Every model's sizing, by model name.
using ModelSizings = std::map<std::string, ReplicaSizing, std::less<>>;

// Sizes each of config.models from its requests in `trace` (SizeReplicas), once for all
// presets. The errors of SizeReplicas, naming the model.
absl::StatusOr<ModelSizings> SizeModels(const SimulationConfig& config,
                                        absl::Span<const TraceRequest> trace);

// Sets the policy fields of `config` (scaling policies and their factory, keep-alive,
// per-instance leases, min replicas, warm floors and always-on base) for preset `name`
// from `sizings`. Other fields (prices, SLO, limits) are left as they are.
// InvalidArgument for an unknown name (listing the known ones) or a model without a
// sizing; the planner's errors for hearth's base.
absl::Status ApplyPolicyPreset(std::string_view name, const ModelSizings& sizings,
                               SimulationConfig* config);

}  // namespace hearth

#endif  // HEARTH_POLICY_PRESETS_H_
