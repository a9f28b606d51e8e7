// hearth::CapacityPlanner — always-on, serverless or both, priced on a demand series.
//
// A DemandSeries is, per fixed interval, the busy replicas (mean concurrent replicas
// needed, fractional: requests x seconds each / interval / requests per replica) and the
// requests that arrived. FromRequests() builds it from request counts.
//
// Three ways to serve it, over the series' whole span T = intervals x interval:
//   always-on   ceil(peak busy) replicas for all of T at an hourly offering (on-demand or
//               reserved);
//   serverless  per-second billing of exactly the busy replica-seconds, plus the
//               per-request fee, plus a cold start (cold_start seconds billed) for every
//               replica added: sum over intervals of max(0, ceil(busy_i) - ceil(busy_i-1));
//   hybrid(R)   R reserved replicas for all of T, and the excess max(0, busy_i - R) served
//               serverless as above (fees for the excess share of requests, cold starts
//               for increases of ceil(excess)).
// hybrid(0) is all-serverless and hybrid(ceil(peak)) is all-reserved, so the cheapest R
// over [0, ceil(peak)] is never worse than either, nor than any other R, the seeds' rule
// included (above the peak a replica more only adds cost).
//
// The seeds' rule: reserved = ceil(daily requests x P95 latency (s) / 86,400), the mean
// concurrency by Little's law.
//
// Crossover: for requests of d seconds on a replica serving c at once, serverless costs
// r x (d / c x p_serverless + fee) per day for r requests per day and one always-on
// replica 86,400 x p_always_on; they are equal at
//   r* = 86,400 x p_always_on / (d / c x p_serverless + fee),
// valid while one replica can serve r* (r* x d / c <= 86,400), i.e. while the always-on
// price per second is below the serverless one plus the fee per busy second.
//
// The replica of the serverless offering and of the hourly offering are assumed to serve
// equally fast (same shape, same throughput); price per-request rounding to the billing
// granularity separately where requests are much shorter than it.
//
// Usage:
//   hearth::CapacityPlanner planner = hearth::CapacityPlanner::Create(
//       {.serverless = *catalog.Find("modal-cpu-8core").value(),
//        .always_on = *catalog.Find("aws-ec2-m7g.large").value(),
//        .reserved = my_reserved_offering, .cold_start = absl::Seconds(20)}).value();
//   auto series = hearth::DemandSeries::FromRequests(per_minute, absl::Minutes(1),
//                                                    absl::Seconds(2.5), 8).value();
//   hearth::PlanResult plan = planner.Plan(series, absl::Seconds(6)).value();
//   plan.best_reserved, plan.best_cost, plan.seed_reserved, plan.seed_cost ...
//
// Thread-safety: a planner is immutable; its methods may run from any thread.
#ifndef HEARTH_CAPACITY_PLANNER_H_
#define HEARTH_CAPACITY_PLANNER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "hearth/price_catalog.h"

namespace hearth {

struct DemandSeries {
  absl::Duration interval = absl::Minutes(1);  // > 0
  std::vector<double> busy_replicas;           // per interval, finite, >= 0
  std::vector<double> requests;                // per interval, finite, >= 0; same length

  // busy_i = requests_i x request_duration / interval / concurrency_per_replica.
  // InvalidArgument for a non-positive interval, duration or concurrency, or a request
  // count that is NaN or negative (naming its index).
  static absl::StatusOr<DemandSeries> FromRequests(absl::Span<const double> requests,
                                                   absl::Duration interval,
                                                   absl::Duration request_duration,
                                                   int concurrency_per_replica);
  // InvalidArgument naming the first bad interval, or mismatched lengths.
  absl::Status Validate() const;
};

struct CapacityPlannerConfig {
  Offering serverless;               // kind serverless
  Offering always_on;                // an hourly kind: the always-on (on-demand) price
  Offering reserved;                 // an hourly kind: the hybrid's base replicas
  absl::Duration cold_start = absl::ZeroDuration();  // billed per replica added, >= 0
};

struct HybridCost {
  int reserved = 0;
  double reserved_cost = 0;
  double serverless_cost = 0;   // compute + cold starts
  double request_fees = 0;
  double total = 0;
};

struct PlanResult {
  double always_on_cost = 0;     // ceil(peak) replicas at always_on for the span
  int always_on_replicas = 0;
  double serverless_cost = 0;    // hybrid(0)
  std::vector<HybridCost> hybrid;  // for R = 0 .. ceil(peak)
  int best_reserved = 0;         // the cheapest R
  double best_cost = 0;
  int seed_reserved = 0;         // the seeds' rule
  double seed_cost = 0;          // hybrid(seed_reserved)
  double daily_requests = 0;     // requests scaled to 24 h
  // The cheapest of: "always_on" (always_on_cost), "serverless" (best R = 0), "reserved"
  // (best R = always_on_replicas) or "hybrid" (any other best R).
  std::string recommendation;
};

struct Crossover {
  double requests_per_day = 0;   // r*
  double always_on_cost_per_day = 0;
  bool valid = false;            // false: serverless stays cheaper up to one replica's capacity
};

struct ModelDemand {
  std::string model;
  DemandSeries series;
  absl::Duration p95_latency;    // for the seeds' reserved rule
};

struct Placement {
  std::string model;
  double mean_qps = 0;
  PlanResult plan;
  std::string by_cost;           // plan.recommendation
  std::string by_seed_threshold; // "always_on" when mean QPS > the threshold, else "serverless"
  double seed_choice_cost = 0;   // what the threshold's choice costs on this series
};

class CapacityPlanner {
 public:
  // InvalidArgument for offerings of the wrong kind or a negative cold start.
  static absl::StatusOr<CapacityPlanner> Create(CapacityPlannerConfig config);

  // hybrid(reserved) on a series that passed Validate(): the reserved replicas for the
  // span plus the serverless cost of the part above them.
  HybridCost PriceHybrid(const DemandSeries& series, int reserved) const;
  // Every price above. InvalidArgument for a bad series or a negative p95 latency.
  absl::StatusOr<PlanResult> Plan(const DemandSeries& series, absl::Duration p95_latency) const;
  // The closed form above. InvalidArgument for a non-positive duration or concurrency.
  absl::StatusOr<Crossover> FindCrossover(absl::Duration request_duration,
                                          int concurrency_per_replica) const;
  // Where each model should live, by cost and by the seeds' fixed QPS threshold (default
  // 1 QPS ≈ 86,400 requests/day, inside the seeds' 70k-100k band).
  absl::StatusOr<std::vector<Placement>> Place(absl::Span<const ModelDemand> models,
                                               double seed_qps_threshold = 1.0) const;

 private:
  explicit CapacityPlanner(CapacityPlannerConfig config) : config_(std::move(config)) {}
  CapacityPlannerConfig config_;
};

}  // namespace hearth

#endif  // HEARTH_CAPACITY_PLANNER_H_
