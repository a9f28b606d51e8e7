// The C ABI's AutoScaler part: policies by name with their main parameters, samples
// stamped with the autoscaler's clock, decisions out.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "c_api_internal.h"
#include "hearth/autoscaler.h"
#include "hearth/c_api.h"
#include "hearth/scaling_policies.h"

struct hearth_autoscaler {
  std::shared_ptr<hearth::Clock> clock;  // first: outlives the autoscaler that reads it
  std::unique_ptr<hearth::AutoScaler> autoscaler;
};

namespace hearth_capi {
namespace {

// Durations of the params, each checked and named; the first bad one is kept.
class Seconds {
 public:
  absl::Duration operator()(double seconds, absl::string_view what) {
    absl::StatusOr<absl::Duration> d = ToDuration(seconds, what);
    if (!d.ok()) {
      if (status_.ok()) status_ = d.status();
      return absl::ZeroDuration();
    }
    return *d;
  }
  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
};

absl::StatusOr<std::unique_ptr<hearth::ScalingPolicy>> MakePolicy(
    absl::string_view name, const hearth_autoscaler_params& p) {
  Seconds seconds;
  absl::StatusOr<std::unique_ptr<hearth::ScalingPolicy>> policy;
  if (name == "hpa") {
    hearth::HpaConfig config;
    config.metrics = {{hearth::HpaMetric::kConcurrency, p.hpa_target_per_replica}};
    config.tolerance = p.hpa_tolerance;
    config.sync_period = seconds(p.hpa_sync_period_s, "hpa_sync_period_s");
    config.scale_down.stabilization_window =
        seconds(p.hpa_scale_down_window_s, "hpa_scale_down_window_s");
    config.min_replicas = p.hpa_min_replicas;
    policy = hearth::MakeHpaPolicy(config);
  } else if (name == "kpa") {
    hearth::KpaConfig config;
    config.container_concurrency = p.kpa_container_concurrency;
    config.target_utilization = p.kpa_target_utilization;
    config.stable_window = seconds(p.kpa_stable_window_s, "kpa_stable_window_s");
    config.panic_threshold = p.kpa_panic_threshold;
    config.scale_to_zero_grace = seconds(p.kpa_scale_to_zero_grace_s, "kpa_scale_to_zero_grace_s");
    policy = hearth::MakeKpaPolicy(config);
  } else if (name == "queue_depth") {
    hearth::QueueDepthConfig config;
    config.target_queue_depth = p.queue_target_depth;
    config.cooldown = seconds(p.queue_cooldown_s, "queue_cooldown_s");
    policy = hearth::MakeQueueDepthPolicy(config);
  } else if (name == "load_score") {
    hearth::LoadScoreConfig config;
    config.rps_capacity_per_replica = p.load_score_rps_capacity;
    config.interval = seconds(p.load_score_interval_s, "load_score_interval_s");
    policy = hearth::MakeLoadScorePolicy(config);
  } else if (name == "predictive") {
    hearth::PredictiveConfig config;
    config.target_concurrency = p.predictive_target_concurrency;
    config.headroom = p.predictive_headroom;
    config.bin = seconds(p.predictive_bin_s, "predictive_bin_s");
    config.season_period = seconds(p.predictive_season_s, "predictive_season_s");
    config.cold_start = seconds(p.predictive_cold_start_s, "predictive_cold_start_s");
    policy = hearth::MakePredictivePolicy(config);
  } else if (name == "static") {
    policy = hearth::MakeStaticPolicy({.replicas = p.static_replicas});
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown scaling policy '", name,
                     "' (known: hpa, kpa, queue_depth, load_score, predictive, static)"));
  }
  if (!seconds.status().ok()) return seconds.status();
  if (!policy.ok()) return Within(absl::StrCat("policy ", name), policy.status());
  return policy;
}

absl::StatusOr<std::vector<std::unique_ptr<hearth::ScalingPolicy>>> MakePolicies(
    const hearth_autoscaler_params& p) {
  if (p.n_policies > 0 && p.policies == nullptr) {
    return absl::InvalidArgumentError("n_policies > 0 but policies is NULL");
  }
  std::vector<std::unique_ptr<hearth::ScalingPolicy>> policies;
  std::vector<absl::string_view> names;
  for (size_t i = 0; i < p.n_policies; ++i) {
    const std::string at = absl::StrCat("policies[", i, "]");
    if (absl::Status s = CheckText(p.policies[i], at); !s.ok()) return s;
    // Twice the same policy only doubles its work: the largest recommendation wins anyway.
    if (std::find(names.begin(), names.end(), p.policies[i]) != names.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": policy '", p.policies[i], "' is named twice"));
    }
    names.push_back(p.policies[i]);
    absl::StatusOr<std::unique_ptr<hearth::ScalingPolicy>> policy = MakePolicy(p.policies[i], p);
    if (!policy.ok()) return policy.status();
    policies.push_back(*std::move(policy));
  }
  return policies;
}

}  // namespace
}  // namespace hearth_capi

using hearth_capi::CheckHandle;
using hearth_capi::CheckNotNull;
using hearth_capi::CheckSize;
using hearth_capi::Fail;
using hearth_capi::Guard;

extern "C" {

void hearth_autoscaler_params_init(hearth_autoscaler_params* params) {
  if (params == nullptr) return;
  std::memset(params, 0, sizeof(*params));
  const hearth::AutoScalerConfig scaler;
  const hearth::HpaConfig hpa;
  const hearth::KpaConfig kpa;
  const hearth::QueueDepthConfig queue;
  const hearth::LoadScoreConfig load_score;
  const hearth::PredictiveConfig predictive;
  params->struct_size = sizeof(hearth_autoscaler_params);
  params->min_replicas = scaler.min_replicas;
  params->max_replicas = scaler.max_replicas;
  params->hpa_target_per_replica = hpa.metrics.front().target_per_replica;
  params->hpa_tolerance = hpa.tolerance;
  params->hpa_sync_period_s = absl::ToDoubleSeconds(hpa.sync_period);
  params->hpa_scale_down_window_s = absl::ToDoubleSeconds(hpa.scale_down.stabilization_window);
  params->hpa_min_replicas = hpa.min_replicas;
  params->kpa_container_concurrency = kpa.container_concurrency;
  params->kpa_target_utilization = kpa.target_utilization;
  params->kpa_stable_window_s = absl::ToDoubleSeconds(kpa.stable_window);
  params->kpa_panic_threshold = kpa.panic_threshold;
  params->kpa_scale_to_zero_grace_s = absl::ToDoubleSeconds(kpa.scale_to_zero_grace);
  params->queue_target_depth = queue.target_queue_depth;
  params->queue_cooldown_s = absl::ToDoubleSeconds(queue.cooldown);
  params->load_score_rps_capacity = load_score.rps_capacity_per_replica;
  params->load_score_interval_s = absl::ToDoubleSeconds(load_score.interval);
  params->predictive_target_concurrency = predictive.target_concurrency;
  params->predictive_headroom = predictive.headroom;
  params->predictive_bin_s = absl::ToDoubleSeconds(predictive.bin);
  params->predictive_season_s = absl::ToDoubleSeconds(predictive.season_period);
  params->predictive_cold_start_s = absl::ToDoubleSeconds(predictive.cold_start);
  params->static_replicas = hearth::StaticConfig{}.replicas;
}

int hearth_autoscaler_create(const hearth_autoscaler_params* params, hearth_autoscaler** out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    *out = nullptr;
    HEARTH_CAPI_CHECK(CheckNotNull(params, "params"));
    HEARTH_CAPI_CHECK(CheckSize(params->struct_size, sizeof(hearth_autoscaler_params),
                                "hearth_autoscaler_params"));
    absl::StatusOr<std::vector<std::unique_ptr<hearth::ScalingPolicy>>> policies =
        hearth_capi::MakePolicies(*params);
    if (!policies.ok()) return Fail(policies.status());
    absl::StatusOr<std::shared_ptr<hearth::Clock>> clock = hearth_capi::ClockOf(params->clock);
    if (!clock.ok()) return Fail(clock.status());
    auto handle = std::make_unique<hearth_autoscaler>();
    handle->clock = *std::move(clock);
    absl::StatusOr<std::unique_ptr<hearth::AutoScaler>> autoscaler = hearth::AutoScaler::Create(
        {.min_replicas = params->min_replicas, .max_replicas = params->max_replicas},
        *std::move(policies), handle->clock.get());
    if (!autoscaler.ok()) return Fail(autoscaler.status());
    handle->autoscaler = *std::move(autoscaler);
    *out = hearth_capi::Publish(std::move(handle));
    return static_cast<int>(HEARTH_OK);
  });
}

void hearth_autoscaler_destroy(hearth_autoscaler* autoscaler) {
  hearth_capi::Destroy(autoscaler);
}

void hearth_load_sample_init(hearth_load_sample* sample) {
  if (sample == nullptr) return;
  std::memset(sample, 0, sizeof(*sample));
  sample->struct_size = sizeof(hearth_load_sample);
}

int hearth_autoscaler_observe(hearth_autoscaler* autoscaler, const hearth_load_sample* sample) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(autoscaler, "autoscaler"));
    HEARTH_CAPI_CHECK(CheckNotNull(sample, "sample"));
    HEARTH_CAPI_CHECK(
        CheckSize(sample->struct_size, sizeof(hearth_load_sample), "hearth_load_sample"));
    hearth::LoadSample s;
    s.time = autoscaler->clock->Now();
    s.ready_replicas = sample->ready_replicas;
    s.starting_replicas = sample->starting_replicas;
    s.in_flight = sample->in_flight;
    s.queue_depth = sample->queue_depth;
    s.arrival_rate = sample->arrival_rate;
    s.tokens_per_s = sample->tokens_per_s;
    s.utilization = sample->utilization;
    s.memory_utilization = sample->memory_utilization;
    s.ttft_p50_ms = sample->ttft_p50_ms;
    s.ttft_p99_ms = sample->ttft_p99_ms;
    HEARTH_CAPI_CHECK(autoscaler->autoscaler->Observe(s));
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_autoscaler_decide(hearth_autoscaler* autoscaler, int32_t* desired, char* reason,
                             size_t reason_size) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(autoscaler, "autoscaler"));
    HEARTH_CAPI_CHECK(CheckNotNull(desired, "desired"));
    if (reason == nullptr && reason_size > 0) {
      return Fail(HEARTH_INVALID_ARGUMENT, "reason is NULL but reason_size > 0");
    }
    const hearth::ScalingDecision decision = autoscaler->autoscaler->Decide();
    *desired = decision.desired_replicas;
    if (reason_size > 0) {
      size_t n = std::min(decision.reason.size(), reason_size - 1);
      // Cut before a whole character: the caller gets valid UTF-8 however short.
      while (n > 0 && n < decision.reason.size() &&
             (static_cast<unsigned char>(decision.reason[n]) & 0xC0) == 0x80) {
        --n;
      }
      std::memcpy(reason, decision.reason.data(), n);
      reason[n] = '\0';
    }
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_autoscaler_set_cold_start(hearth_autoscaler* autoscaler, double seconds) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(autoscaler, "autoscaler"));
    absl::StatusOr<absl::Duration> d = hearth_capi::ToDuration(seconds, "seconds");
    if (!d.ok()) return Fail(d.status());
    autoscaler->autoscaler->SetColdStart(*d);
    return static_cast<int>(HEARTH_OK);
  });
}

}  // extern "C"
