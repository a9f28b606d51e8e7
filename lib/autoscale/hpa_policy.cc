// Kubernetes HPA v2 as pkg/controller/podautoscaler computes it: replica calculator
// (ratio, tolerance, not-ready pods on scale-up), then stabilisation
// (stabilizeRecommendationWithBehaviors), then rate policies
// (convertDesiredReplicasWithBehaviorRate), once per sync period.
#include <algorithm>
#include <climits>
#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hearth/scaling_policies.h"
#include "lib/autoscale/recommendation_window.h"
#include "lib/autoscale/replica_count.h"
#include "lib/autoscale/sample_history.h"

namespace hearth {
namespace {

const char* MetricName(HpaMetric metric) {
  switch (metric) {
    case HpaMetric::kConcurrency:
      return "concurrency";
    case HpaMetric::kUtilization:
      return "utilization";
    case HpaMetric::kMemoryUtilization:
      return "memory_utilization";
    case HpaMetric::kTokensPerSecond:
      return "tokens_per_s";
    case HpaMetric::kArrivalRate:
      return "arrival_rate";
  }
  return "unknown";
}

// The metric summed over the ready replicas. Utilizations are means over the ready
// replicas, so their total is mean x ready.
double MetricTotal(HpaMetric metric, const LoadSample& s) {
  switch (metric) {
    case HpaMetric::kConcurrency:
      return s.in_flight + s.queue_depth;
    case HpaMetric::kUtilization:
      return s.utilization * s.ready_replicas;
    case HpaMetric::kMemoryUtilization:
      return s.memory_utilization * s.ready_replicas;
    case HpaMetric::kTokensPerSecond:
      return s.tokens_per_s;
    case HpaMetric::kArrivalRate:
      return s.arrival_rate;
  }
  return 0;
}

absl::Status ValidateRules(const HpaScalingRules& rules, const char* field) {
  if (rules.stabilization_window < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HpaConfig.", field,
        ".stabilization_window is negative: ", absl::FormatDuration(rules.stabilization_window)));
  }
  if (rules.select != HpaSelectPolicy::kDisabled && rules.policies.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("HpaConfig.", field, ".policies is empty but select is not Disabled"));
  }
  for (size_t i = 0; i < rules.policies.size(); ++i) {
    const HpaRatePolicy& p = rules.policies[i];
    if (p.value <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("HpaConfig.", field, ".policies[", i, "].value must be > 0, got ", p.value));
    }
    if (p.period <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("HpaConfig.", field, ".policies[", i,
                                                     "].period must be > 0, got ",
                                                     absl::FormatDuration(p.period)));
    }
  }
  return absl::OkStatus();
}

class HpaPolicy final : public ScalingPolicy {
 public:
  explicit HpaPolicy(HpaConfig config) : config_(std::move(config)) {
    for (const HpaScalingRules* rules : {&config_.scale_up, &config_.scale_down}) {
      for (const HpaRatePolicy& p : rules->policies) {
        longest_period_ = std::max(longest_period_, p.period);
      }
    }
  }

  std::string_view name() const override { return "hpa"; }

  absl::Status Observe(const LoadSample& sample) override {
    if (absl::Status s = history_.Add(sample); !s.ok()) return s;
    history_.DropUntil(sample.time - config_.sync_period);
    return absl::OkStatus();
  }

  ScalingDecision Recommend(absl::Time now) override {
    if (history_.empty()) return {0, "hpa: no samples yet"};
    if (synced_ && now - last_sync_ < config_.sync_period) return last_;
    synced_ = true;
    last_sync_ = now;
    last_ = Sync(now);
    return last_;
  }

 private:
  struct ScaleEvent {
    absl::Time time;
    int change;  // > 0
  };

  ScalingDecision Sync(absl::Time now) {
    const LoadSample& latest = history_.latest();
    const int ready = latest.ready_replicas;
    const int current = ready + latest.starting_replicas;
    std::string why;
    int desired;
    if (current < config_.min_replicas) {
      desired = config_.min_replicas;
      why = absl::StrCat("below minReplicas ", config_.min_replicas);
    } else {
      desired = ComputeReplicas(now, latest, &why);
      desired = Stabilize(now, current, desired, &why);
      desired = LimitRate(now, current, desired, &why);
    }
    if (desired > current) up_events_.push_back({now, desired - current});
    if (desired < current) down_events_.push_back({now, current - desired});
    for (std::deque<ScaleEvent>* events : {&up_events_, &down_events_}) {
      while (!events->empty() && events->front().time <= now - longest_period_) {
        events->pop_front();
      }
    }
    return {desired, absl::StrCat("hpa: ", current, " -> ", desired, " (", why, ")")};
  }

  // The replica calculator, per metric, then the largest (computeReplicasForMetrics).
  int ComputeReplicas(absl::Time now, const LoadSample& latest, std::string* why) const {
    const int ready = latest.ready_replicas;
    const int starting = latest.starting_replicas;
    const int current = ready + starting;
    if (ready == 0) {
      *why = "no ready replica to measure";
      return current;
    }
    int best = -1;
    for (const HpaMetricTarget& m : config_.metrics) {
      const double total = history_
                               .Mean(now - config_.sync_period, now,
                                     [&](const LoadSample& s) { return MetricTotal(m.metric, s); })
                               .value_or(MetricTotal(m.metric, latest));
      const double ratio = total / ready / m.target_per_replica;
      int replicas;
      if (!(starting > 0 && ratio > 1)) {
        replicas = std::abs(1 - ratio) <= config_.tolerance ? current
                                                            : ToReplicas(std::ceil(ratio * ready));
      } else {
        // Starting replicas take no load yet: count them as idle and recheck that the
        // scale-up still holds (calcPlainMetricReplicas with unready pods).
        const double new_ratio = total / current / m.target_per_replica;
        if (std::abs(1 - new_ratio) <= config_.tolerance || new_ratio < 1) {
          replicas = current;
        } else {
          replicas = std::max(current, ToReplicas(std::ceil(new_ratio * current)));
        }
      }
      if (replicas > best) {
        best = replicas;
        *why = absl::StrFormat("%s %.3g/replica vs target %.3g, ratio %.3f", MetricName(m.metric),
                               total / ready, m.target_per_replica, ratio);
      }
    }
    return best;
  }

  int Stabilize(absl::Time now, int current, int desired, std::string* why) {
    if (!window_started_) {
      // As maybeInitScaleDownStabilizationWindow: a new HPA starts with the current count
      // in its window, so it does not scale down before a whole window has passed.
      window_started_ = true;
      if (config_.scale_down.stabilization_window > absl::ZeroDuration()) {
        window_.Record(now, current);
      }
    }
    const int up = std::min(
        desired, window_.MinAfter(now - config_.scale_up.stabilization_window).value_or(desired));
    const int down = std::max(
        desired, window_.MaxAfter(now - config_.scale_down.stabilization_window).value_or(desired));
    window_.Record(now, desired);
    window_.DropUntil(now - std::max(config_.scale_up.stabilization_window,
                                     config_.scale_down.stabilization_window));
    const int stabilized = std::clamp(current, up, down);
    if (stabilized != desired) absl::StrAppend(why, "; stabilized to ", stabilized);
    return stabilized;
  }

  static int ChangeInPeriod(const std::deque<ScaleEvent>& events, absl::Time now,
                            absl::Duration period) {
    int change = 0;
    for (const ScaleEvent& e : events) {
      if (e.time > now - period) change += e.change;
    }
    return change;
  }

  int LimitRate(absl::Time now, int current, int desired, std::string* why) const {
    if (desired > current) {
      int limit = Limit(now, current, config_.scale_up, /*up=*/true);
      limit = std::max(limit, current);  // wait for old events to expire, never shrink
      if (desired > limit) {
        absl::StrAppend(why, "; scale-up rate limit ", limit);
        return limit;
      }
    } else if (desired < current) {
      int limit = Limit(now, current, config_.scale_down, /*up=*/false);
      limit = std::max(std::min(limit, current), config_.min_replicas);
      if (desired < limit) {
        absl::StrAppend(why, "; scale-down rate limit ", limit);
        return limit;
      }
    }
    return desired;
  }

  // calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors.
  int Limit(absl::Time now, int current, const HpaScalingRules& rules, bool up) const {
    if (rules.select == HpaSelectPolicy::kDisabled) return current;
    // Max picks the policy allowing the biggest change: the highest limit going up, the
    // lowest going down.
    const bool take_higher = (rules.select == HpaSelectPolicy::kMax) == up;
    int64_t result = take_higher ? INT64_MIN : INT64_MAX;
    for (const HpaRatePolicy& p : rules.policies) {
      const int64_t period_start = int64_t{current} - ChangeInPeriod(up_events_, now, p.period) +
                                   ChangeInPeriod(down_events_, now, p.period);
      int64_t proposed;
      if (p.type == HpaRateType::kPods) {
        proposed = up ? period_start + p.value : period_start - p.value;
      } else if (up) {
        // Rounded up so that a small count can still grow.
        proposed = static_cast<int64_t>(
            std::ceil(static_cast<double>(period_start) * (1 + p.value / 100.0)));
      } else {
        proposed = static_cast<int64_t>(static_cast<double>(period_start) * (1 - p.value / 100.0));
      }
      result = take_higher ? std::max(result, proposed) : std::min(result, proposed);
    }
    return static_cast<int>(std::clamp<int64_t>(result, 0, INT_MAX));
  }

  const HpaConfig config_;
  absl::Duration longest_period_;
  SampleHistory history_;
  RecommendationWindow window_;
  bool window_started_ = false;
  std::deque<ScaleEvent> up_events_;
  std::deque<ScaleEvent> down_events_;
  bool synced_ = false;
  absl::Time last_sync_;
  ScalingDecision last_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakeHpaPolicy(const HpaConfig& config) {
  if (config.metrics.empty()) {
    return absl::InvalidArgumentError("HpaConfig.metrics is empty");
  }
  for (size_t i = 0; i < config.metrics.size(); ++i) {
    const double target = config.metrics[i].target_per_replica;
    if (!(target > 0) || std::isinf(target)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "HpaConfig.metrics[", i, "].target_per_replica must be > 0 and finite, got ", target));
    }
  }
  if (!(config.tolerance >= 0 && config.tolerance < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("HpaConfig.tolerance must be in [0, 1), got ", config.tolerance));
  }
  if (config.sync_period <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("HpaConfig.sync_period must be > 0, got ",
                                                   absl::FormatDuration(config.sync_period)));
  }
  if (absl::Status s = ValidateRules(config.scale_up, "scale_up"); !s.ok()) return s;
  if (absl::Status s = ValidateRules(config.scale_down, "scale_down"); !s.ok()) return s;
  if (config.min_replicas < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("HpaConfig.min_replicas is negative: ", config.min_replicas));
  }
  return std::make_unique<HpaPolicy>(config);
}

}  // namespace hearth
