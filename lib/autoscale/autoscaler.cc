#include "hearth/autoscaler.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "hearth/scaling_policies.h"

namespace hearth {

absl::Status ValidateLoadSample(const LoadSample& s) {
  if (s.time == absl::InfinitePast() || s.time == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError("LoadSample.time is infinite");
  }
  if (s.ready_replicas < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoadSample.ready_replicas is negative: ", s.ready_replicas));
  }
  if (s.starting_replicas < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoadSample.starting_replicas is negative: ", s.starting_replicas));
  }
  if (int64_t{s.ready_replicas} + s.starting_replicas > INT_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoadSample.ready_replicas + starting_replicas overflows: ", s.ready_replicas,
                     " + ", s.starting_replicas));
  }
  const std::pair<double, const char*> fields[] = {
      {s.in_flight, "in_flight"},       {s.queue_depth, "queue_depth"},
      {s.arrival_rate, "arrival_rate"}, {s.tokens_per_s, "tokens_per_s"},
      {s.utilization, "utilization"},   {s.memory_utilization, "memory_utilization"},
      {s.ttft_p50_ms, "ttft_p50_ms"},   {s.ttft_p99_ms, "ttft_p99_ms"},
  };
  for (const auto& [value, field] : fields) {
    if (!std::isfinite(value) || value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("LoadSample.", field, " must be finite and >= 0, got ", value));
    }
  }
  if (s.utilization > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoadSample.utilization must be in [0, 1], got ", s.utilization));
  }
  if (s.memory_utilization > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "LoadSample.memory_utilization must be in [0, 1], got ", s.memory_utilization));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakeScalingPolicy(std::string_view name) {
  if (name == "hpa") return MakeHpaPolicy(HpaConfig());
  if (name == "kpa") return MakeKpaPolicy(KpaConfig());
  if (name == "queue_depth") return MakeQueueDepthPolicy(QueueDepthConfig());
  if (name == "load_score") return MakeLoadScorePolicy(LoadScoreConfig());
  if (name == "predictive") return MakePredictivePolicy(PredictiveConfig());
  if (name == "static") return MakeStaticPolicy(StaticConfig());
  return absl::InvalidArgumentError(
      absl::StrCat("unknown scaling policy \"", std::string(name),
                   "\" (known: hpa, kpa, queue_depth, load_score, predictive, static)"));
}

absl::StatusOr<std::unique_ptr<AutoScaler>> AutoScaler::Create(
    AutoScalerConfig config, std::vector<std::unique_ptr<ScalingPolicy>> policies, Clock* clock) {
  if (config.min_replicas < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("AutoScalerConfig.min_replicas is negative: ", config.min_replicas));
  }
  if (config.max_replicas < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("AutoScalerConfig.max_replicas must be >= 1, got ", config.max_replicas));
  }
  if (config.min_replicas > config.max_replicas) {
    return absl::InvalidArgumentError(absl::StrCat("AutoScalerConfig.min_replicas (",
                                                   config.min_replicas, ") > max_replicas (",
                                                   config.max_replicas, ")"));
  }
  if (policies.empty()) return absl::InvalidArgumentError("AutoScaler needs a policy");
  for (size_t i = 0; i < policies.size(); ++i) {
    if (policies[i] == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("AutoScaler policy ", i, " is null"));
    }
  }
  if (clock == nullptr) return absl::InvalidArgumentError("AutoScaler clock is null");
  return std::unique_ptr<AutoScaler>(new AutoScaler(config, std::move(policies), clock));
}

AutoScaler::AutoScaler(AutoScalerConfig config,
                       std::vector<std::unique_ptr<ScalingPolicy>> policies, Clock* clock)
    : config_(config), clock_(clock), policies_(std::move(policies)) {}

absl::Status AutoScaler::Observe(const LoadSample& sample) {
  if (absl::Status s = ValidateLoadSample(sample); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  // Checked here so that a sample no policy accepts reaches none of them.
  if (has_sample_ && sample.time < last_sample_.time) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoadSample.time ", absl::FormatTime(sample.time),
                     " is before the previous sample's ", absl::FormatTime(last_sample_.time)));
  }
  for (const std::unique_ptr<ScalingPolicy>& policy : policies_) {
    // Cannot fail after the checks above; a policy that still refuses is a bug worth
    // surfacing rather than hiding.
    if (absl::Status s = policy->Observe(sample); !s.ok()) {
      return absl::InternalError(absl::StrCat("policy ", std::string(policy->name()),
                                              " refused a valid sample: ", s.message()));
    }
  }
  has_sample_ = true;
  last_sample_ = sample;
  return absl::OkStatus();
}

ScalingDecision AutoScaler::Decide() {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_->Now();  // under the lock: policies see time in order
  ScalingDecision best;
  bool first = true;
  for (const std::unique_ptr<ScalingPolicy>& policy : policies_) {
    ScalingDecision d = policy->Recommend(now);
    if (first || d.desired_replicas > best.desired_replicas) best = std::move(d);
    first = false;
  }
  const int recommended = best.desired_replicas;
  int desired = std::clamp(recommended, config_.min_replicas, config_.max_replicas);
  if (desired != recommended) {
    absl::StrAppend(&best.reason, "; clamped to [", config_.min_replicas, ", ",
                    config_.max_replicas, "]");
  }
  const bool none_up =
      has_sample_ && last_sample_.ready_replicas + last_sample_.starting_replicas == 0;
  if (none_up && desired < 1 && (last_sample_.queue_depth > 0 || last_sample_.in_flight > 0)) {
    desired = 1;  // max_replicas >= 1
    absl::StrAppend(&best.reason, "; waking from zero for ",
                    last_sample_.queue_depth + last_sample_.in_flight, " waiting request(s)");
  }
  best.desired_replicas = desired;
  return best;
}

void AutoScaler::SetColdStart(absl::Duration measured) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::unique_ptr<ScalingPolicy>& policy : policies_) policy->SetColdStart(measured);
}

}  // namespace hearth
