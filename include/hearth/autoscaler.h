// hearth::AutoScaler — load signals in, desired replicas and a reason out.
//
// The AutoScaler is pure decision: it never starts or stops a replica. It is fed one
// LoadSample per tick for one model (from the Engine's and the WarmPool's metrics, or
// from the simulator), asks each of its ScalingPolicies for a recommendation, takes the
// largest, clamps it to [min_replicas, max_replicas] and hands the result to whoever owns
// replicas (WarmPool::SetDesiredInstances in one process; Kubernetes beyond one).
//
// Policies (include/hearth/scaling_policies.h has their configs and typed factories):
//   "hpa"         Kubernetes HPA v2 target tracking (ratio, tolerance, stabilisation
//                 windows, Pods/Percent rate policies, 15 s sync period)
//   "kpa"         Knative's KPA (stable and panic windows, scale-to-zero grace, 2 s tick)
//   "queue_depth" the seed's queue-depth thresholds with a cooldown
//   "load_score"  the seed's weighted CPU/memory/request-rate score (baseline)
//   "predictive"  seasonal arrival forecast, provisioned ahead by the cold-start time
//   "static"      a fixed count (static-peak and static-mean baselines)
//
// Scale to zero and wake-up: with min_replicas = 0 a policy may bring the count to 0;
// while nothing is ready or starting, the first sample that shows a request (queued or
// in flight) makes Decide() return at least 1 at once, whatever the policies say (the
// job of Knative's activator).
//
// Usage:
//   hearth::ManualClock clock;
//   std::vector<std::unique_ptr<hearth::ScalingPolicy>> policies;
//   policies.push_back(hearth::MakeScalingPolicy("kpa").value());
//   hearth::AutoScalerConfig config;
//   config.max_replicas = 8;
//   auto scaler = hearth::AutoScaler::Create(config, std::move(policies), &clock).value();
//   for (;;) {                                  // every 1-2 s of (virtual) time
//     hearth::LoadSample s;
//     s.time = clock.Now();
//     s.ready_replicas = 2;
//     s.in_flight = 130;
//     if (absl::Status st = scaler->Observe(s); !st.ok()) return st;  // bad sample
//     hearth::ScalingDecision d = scaler->Decide();
//     pool->SetDesiredInstances("model", d.desired_replicas);
//     clock.Advance(absl::Seconds(2));
//   }
//
// Thread-safety: AutoScaler's methods may be called from any thread (one internal
// lock). A ScalingPolicy on its own is not thread-safe; inside an AutoScaler it is only
// called under the AutoScaler's lock.
#ifndef HEARTH_AUTOSCALER_H_
#define HEARTH_AUTOSCALER_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hearth/clock.h"

namespace hearth {

// One observation of one model's replicas. Counts and rates are totals over the model's
// replicas unless said otherwise.
struct LoadSample {
  absl::Time time;
  int ready_replicas = 0;         // serving
  int starting_replicas = 0;      // provisioning or loading
  double in_flight = 0;           // requests being served
  double queue_depth = 0;         // requests waiting (incl. held for a cold start)
  double arrival_rate = 0;        // requests/s over the sampling interval
  double tokens_per_s = 0;        // generated tokens/s
  double utilization = 0;         // [0,1] mean busy fraction of ready replicas
  double memory_utilization = 0;  // [0,1] mean memory fraction of ready replicas
  double ttft_p50_ms = 0;
  double ttft_p99_ms = 0;
};

// OK, or InvalidArgument naming the first field that is NaN, infinite, negative, or
// (utilization, memory_utilization) above 1; also for an infinite time.
absl::Status ValidateLoadSample(const LoadSample& sample);

struct ScalingDecision {
  int desired_replicas = 0;
  std::string reason;  // which rule decided, with its numbers; for logs and reports
};

// One scaling rule. Implementations keep their own state (windows, smoothing, periods)
// and their own clock of decisions: Recommend() may be called more often than the
// policy's period, and returns its last recommendation between periods.
// Not thread-safe (see the file comment).
class ScalingPolicy {
 public:
  virtual ~ScalingPolicy() = default;

  // The policy's name as MakeScalingPolicy knows it ("hpa", "kpa", ...).
  virtual std::string_view name() const = 0;

  // Records a sample. InvalidArgument (naming the field) for a sample that fails
  // ValidateLoadSample or is older than the previous one; the policy is then unchanged.
  virtual absl::Status Observe(const LoadSample& sample) = 0;

  // The desired replica count at `now` (never negative) and why. Before any sample, 0
  // (static: its count). The caller clamps to its own [min, max].
  virtual ScalingDecision Recommend(absl::Time now) = 0;

  // The measured time from deciding to start a replica until it serves. Only the
  // predictive policy uses it (its lead time); others ignore it. Negative is ignored.
  virtual void SetColdStart(absl::Duration /*measured*/) {}
};

// A policy by name with the defaults documented in scaling_policies.h: "hpa", "kpa",
// "queue_depth", "load_score", "predictive", "static" (1 replica). InvalidArgument for
// any other name.
absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakeScalingPolicy(std::string_view name);

struct AutoScalerConfig {
  int min_replicas = 0;    // 0 allows scale to zero
  int max_replicas = 100;  // at least 1 and at least min_replicas
};

class AutoScaler {
 public:
  // InvalidArgument for min < 0, max < 1, min > max, no policies, a null policy or a
  // null clock. Takes ownership of the policies; `clock` is not owned and must outlive
  // the AutoScaler.
  static absl::StatusOr<std::unique_ptr<AutoScaler>> Create(
      AutoScalerConfig config, std::vector<std::unique_ptr<ScalingPolicy>> policies, Clock* clock);

  // Validates the sample (ValidateLoadSample; InvalidArgument also for a time before the
  // previous sample's) and passes it to every policy. A rejected sample changes nothing.
  absl::Status Observe(const LoadSample& sample);

  // The decision at clock->Now(): the largest policy recommendation (the reason names
  // the winning policy and its numbers), clamped to [min_replicas, max_replicas], and at
  // least 1 (within max) while nothing is ready or starting but the latest sample shows
  // requests.
  ScalingDecision Decide();

  // Passes the measured cold-start time to every policy (predictive lead time).
  void SetColdStart(absl::Duration measured);

  const AutoScalerConfig& config() const { return config_; }

 private:
  AutoScaler(AutoScalerConfig config, std::vector<std::unique_ptr<ScalingPolicy>> policies,
             Clock* clock);

  const AutoScalerConfig config_;
  Clock* const clock_;
  // std::mutex rather than absl::Mutex: visible to ThreadSanitizer with the system's
  // (uninstrumented) Abseil. Guards everything below.
  std::mutex mu_;
  std::vector<std::unique_ptr<ScalingPolicy>> policies_;
  bool has_sample_ = false;
  LoadSample last_sample_;
};

}  // namespace hearth

#endif  // HEARTH_AUTOSCALER_H_
