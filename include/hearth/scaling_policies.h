// The scaling policies an AutoScaler composes: typed configs (defaults as the anchors
// document them) and factories that validate them.
//
// Every factory returns InvalidArgument naming the field at fault (a zero or negative
// target, window, period or capacity; a tolerance or fraction out of range; min > max),
// else a policy owned by the caller. Policies are not thread-safe on their own (see
// autoscaler.h).
//
// Usage:
//   hearth::KpaConfig kpa;
//   kpa.container_concurrency = 64;   // one Engine's max_sequences
//   auto policy = hearth::MakeKpaPolicy(kpa);
//   if (!policy.ok()) return policy.status();
//   policies.push_back(*std::move(policy));
#ifndef HEARTH_SCALING_POLICIES_H_
#define HEARTH_SCALING_POLICIES_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hearth/autoscaler.h"

namespace hearth {

// ---------------------------------------------------------------------------------
// Kubernetes HPA v2 (autoscaling/v2), as its "algorithm details" documentation and the
// controller compute it. Every sync period:
//   per metric: ratio = (metric total / ready) / target; within the tolerance
//     (|ratio - 1| <= tolerance) the count stays; else desired = ceil(ratio x ready).
//     Starting replicas count as 0 load when scaling up (the controller's not-ready
//     pods); if that flips the direction or lands in the tolerance, the count stays.
//   several metrics -> the largest desired.
//   stabilisation: up = min of the recommendations in the up window, down = max of
//     those in the down window.
//   rate policies per direction, relative to the count at the start of each period.
// current replicas = ready + starting. Metrics are averaged over the samples of the
// last sync period.
enum class HpaMetric {
  kConcurrency,        // in_flight + queue_depth
  kUtilization,        // utilization (busy fraction), per ready replica
  kMemoryUtilization,  // memory_utilization, per ready replica
  kTokensPerSecond,    // tokens_per_s
  kArrivalRate,        // arrival_rate (requests/s)
};

struct HpaMetricTarget {
  HpaMetric metric = HpaMetric::kConcurrency;
  double target_per_replica = 70;  // > 0; average per ready replica
};

enum class HpaRateType { kPods, kPercent };

struct HpaRatePolicy {
  HpaRateType type = HpaRateType::kPercent;
  int value = 100;                            // > 0: pods, or percent of the period start
  absl::Duration period = absl::Seconds(15);  // > 0
};

// Max: the policy allowing the largest change; Min: the smallest; Disabled: no change
// in this direction.
enum class HpaSelectPolicy { kMax, kMin, kDisabled };

struct HpaScalingRules {
  absl::Duration stabilization_window;  // >= 0
  HpaSelectPolicy select = HpaSelectPolicy::kMax;
  std::vector<HpaRatePolicy> policies;  // non-empty unless select is kDisabled
};

struct HpaConfig {
  std::vector<HpaMetricTarget> metrics = {HpaMetricTarget{}};  // non-empty
  double tolerance = 0.1;                                      // [0, 1)
  absl::Duration sync_period = absl::Seconds(15);              // > 0
  HpaScalingRules scale_up = {absl::ZeroDuration(),
                              HpaSelectPolicy::kMax,
                              {{HpaRateType::kPercent, 100, absl::Seconds(15)},
                               {HpaRateType::kPods, 4, absl::Seconds(15)}}};
  HpaScalingRules scale_down = {
      absl::Seconds(300), HpaSelectPolicy::kMax, {{HpaRateType::kPercent, 100, absl::Seconds(15)}}};
  // Kubernetes' minReplicas (>= 0; 1 by default, as Kubernetes requires unless its
  // HPAScaleToZero gate is on). Below it the HPA recommends it at once, also from 0.
  int min_replicas = 1;
};

absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakeHpaPolicy(const HpaConfig& config);

// ---------------------------------------------------------------------------------
// Knative's KPA (pkg/autoscaler/scaling), once per tick:
//   observed = mean of (in_flight + queue_depth) over the samples in each window;
//   target = container_concurrency x target_utilization;
//   stable = ceil(observed_stable / target), panic = ceil(observed_panic / target), each
//     kept within [floor(ready / max_scale_down_rate), ceil(ready x max_scale_up_rate)]
//     (ready counted as at least 1);
//   panic starts when panic / ready >= panic_threshold (unclamped panic count), and
//     ends after a whole stable window without crossing it; in panic the count is
//     max(stable, panic) and never goes down;
//   0 only once the stable window saw no requests and scale_to_zero_grace has passed
//     since the last non-zero recommendation; until then the current count is held.
//     (In Knative the grace is an upper bound on waiting for the activator to be put in
//     the request path; a simulation has no network to program, so it is modelled as
//     this fixed hold, the most the last replica can linger.)
struct KpaConfig {
  double container_concurrency = 100;                // > 0 (Knative's default target)
  double target_utilization = 0.7;                   // (0, 1]
  absl::Duration tick = absl::Seconds(2);            // > 0
  absl::Duration stable_window = absl::Seconds(60);  // > 0
  double panic_window_percentage = 10;               // (0, 100]: the panic window's share of stable
  double panic_threshold = 2.0;                      // > 1 (Knative's 200 %)
  double max_scale_up_rate = 1000;                   // > 1
  double max_scale_down_rate = 2;                    // > 1
  absl::Duration scale_to_zero_grace = absl::Seconds(30);  // >= 0
};

absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakeKpaPolicy(const KpaConfig& config);

// ---------------------------------------------------------------------------------
// The seed's queue-depth rule: queue_depth (total requests waiting) above
// scale_up_fraction x target -> add max(1, floor(queue_depth / target)) replicas; below
// scale_down_fraction x target -> remove 1; no change within `cooldown` of the last.
// target is the number of waiting requests one more replica is meant to absorb.
struct QueueDepthConfig {
  double target_queue_depth = 10;               // > 0
  double scale_up_fraction = 0.8;               // > scale_down_fraction
  double scale_down_fraction = 0.2;             // >= 0
  absl::Duration cooldown = absl::Seconds(60);  // >= 0
};

absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakeQueueDepthPolicy(const QueueDepthConfig& config);

// ---------------------------------------------------------------------------------
// The seed's load-score rule (a baseline). Once per interval:
//   raw = cpu_weight x utilization + memory_weight x memory_utilization
//         + rps_weight x arrival_rate / (max(1, ready) x rps_capacity_per_replica),
//   each signal the mean of the samples of the last interval;
//   score = alpha x raw + (1 - alpha) x previous score  (alpha weights the NEW value;
//           the first score is the first raw value);
//   score > scale_up_score -> ceil(n x 2^((score - scale_up_score) x growth));
//   score < scale_down_score -> floor(sqrt(n)); n = ready + starting.
struct LoadScoreConfig {
  double cpu_weight = 0.4;                      // >= 0; the three weights sum > 0
  double memory_weight = 0.3;                   // >= 0
  double rps_weight = 0.3;                      // >= 0
  double rps_capacity_per_replica = 10;         // > 0, requests/s one replica serves
  double alpha = 0.7;                           // (0, 1]
  double scale_up_score = 0.8;                  // > scale_down_score
  double scale_down_score = 0.3;                // >= 0
  double growth = 10;                           // > 0
  absl::Duration interval = absl::Seconds(15);  // > 0
};

absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakeLoadScorePolicy(const LoadScoreConfig& config);

// ---------------------------------------------------------------------------------
// Predictive: forecasts the arrival rate and provisions ahead by the cold-start time.
//   arrival_rate samples are averaged into bins; an additive Holt-Winters model over a
//   season of season_period / bin bins forecasts them, falling back to Holt's level +
//   trend while less than one season is seen;
//   service time W = smoothed in_flight / smoothed arrival_rate (Little's law; before
//   any request, initial_service_time);
//   need(rate) = rate x W x headroom / target_concurrency;
//   desired = ceil(max(need(forecast at now + lead), need(latest rate),
//                      (in_flight + queue_depth) x headroom / target_concurrency))
//   with lead = the cold-start time (SetColdStart; cold_start until measured), and the
//   max of these over the last scale_down_delay (no flapping on a forecast's dip).
struct PredictiveConfig {
  double target_concurrency = 70;                          // > 0, requests in flight per replica
  double headroom = 1.1;                                   // >= 1
  absl::Duration bin = absl::Seconds(60);                  // > 0
  absl::Duration season_period = absl::Hours(24);          // >= 2 bins, a whole number of bins
  double level_smoothing = 0.5;                            // Holt-Winters alpha, (0, 1]
  double trend_smoothing = 0.1;                            // beta, [0, 1]
  double season_smoothing = 0.3;                           // gamma, [0, 1]
  double service_time_smoothing = 0.05;                    // per sample, (0, 1]
  absl::Duration initial_service_time = absl::Seconds(5);  // > 0
  absl::Duration cold_start = absl::Seconds(10);           // >= 0, lead until SetColdStart
  absl::Duration scale_down_delay = absl::Seconds(60);     // >= 0
};

absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakePredictivePolicy(const PredictiveConfig& config);

// ---------------------------------------------------------------------------------
// A fixed count, whatever the load.
struct StaticConfig {
  int replicas = 1;  // >= 0
};

absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakeStaticPolicy(const StaticConfig& config);

}  // namespace hearth

#endif  // HEARTH_SCALING_POLICIES_H_
