#include "hearth/policy_presets.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "hearth/autoscaler.h"
#include "hearth/scaling_policies.h"

namespace hearth {
namespace {

// The one utilisation target every preset that has one aims at (Knative's default).
constexpr double kTargetUtilization = 0.7;
constexpr double kMinuteS = 60;

struct PresetSpec {
  std::vector<std::string> policies;  // MakeScalingPolicy names, or {"none"}
  std::string keep_alive;
  int min_replicas = 0;
  bool limit_leases = false;  // cap leases per instance at the target concurrency
};

const std::map<std::string, PresetSpec, std::less<>>& Specs() {
  static const auto* specs = new std::map<std::string, PresetSpec, std::less<>>{
      {"static_peak", {{"static"}, "immediate", 0, false}},
      {"static_mean", {{"static"}, "immediate", 0, false}},
      {"hpa", {{"hpa"}, "immediate", 1, false}},
      {"kpa", {{"kpa"}, "immediate", 0, false}},
      {"queue_depth", {{"queue_depth"}, "immediate", 0, false}},
      {"load_score", {{"load_score"}, "immediate", 0, false}},
      {"keepalive_10m", {{"none"}, "fixed", 0, true}},
      {"hearth", {{"predictive", "kpa"}, "hybrid", 0, false}},
  };
  return *specs;
}

int CeilReplicas(double demand) {
  return std::max(1, static_cast<int>(std::ceil(demand / kTargetUtilization - 1e-9)));
}

// Builds policy `policy` of preset `preset` for one model from its sizing.
absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakeSizedPolicy(std::string_view preset,
                                                               std::string_view policy,
                                                               const ReplicaSizing& sizing) {
  const double target = kTargetUtilization * sizing.concurrency;
  if (policy == "static") {
    const double demand = preset == "static_peak" ? sizing.peak_demand : sizing.mean_demand;
    return MakeStaticPolicy({.replicas = CeilReplicas(demand)});
  }
  if (policy == "hpa") {
    HpaConfig hpa;
    hpa.metrics = {{HpaMetric::kConcurrency, target}};
    return MakeHpaPolicy(hpa);
  }
  if (policy == "kpa") {
    KpaConfig kpa;
    kpa.container_concurrency = sizing.concurrency;
    kpa.target_utilization = kTargetUtilization;
    return MakeKpaPolicy(kpa);
  }
  if (policy == "queue_depth") {
    QueueDepthConfig queue;
    queue.target_queue_depth = target;
    return MakeQueueDepthPolicy(queue);
  }
  if (policy == "load_score") {
    LoadScoreConfig score;
    score.rps_capacity_per_replica = sizing.capacity_rps;
    return MakeLoadScorePolicy(score);
  }
  if (policy == "predictive") {
    PredictiveConfig predictive;
    predictive.target_concurrency = target;
    return MakePredictivePolicy(predictive);
  }
  return absl::InvalidArgumentError(absl::StrCat("no sized policy named '", std::string(policy), "'"));
}

}  // namespace

absl::StatusOr<ReplicaSizing> SizeReplicas(const ReplicaProfile& profile,
                                           absl::Span<const TraceRequest> requests) {
  if (requests.empty()) return absl::InvalidArgumentError("no requests to size replicas for");
  if (absl::Status valid = profile.Validate(); !valid.ok()) return valid;
  const double batch = profile.max_sequences;
  const double token_step_s = profile.DecodeStepSeconds(batch);  // one token of each of batch
  double work_sum = 0, latency_sum = 0;
  ReplicaSizing sizing;
  const double origin = requests.front().arrival_s;
  for (const TraceRequest& r : requests) {
    const double prefill_s = profile.PrefillSeconds(r.prompt_tokens);
    const double work = prefill_s + r.output_tokens * token_step_s / batch;
    work_sum += work;
    latency_sum += prefill_s + r.output_tokens * token_step_s;
    const size_t minute = static_cast<size_t>((r.arrival_s - origin) / kMinuteS);
    if (sizing.demand.size() <= minute) sizing.demand.resize(minute + 1, 0);
    sizing.demand[minute] += work / kMinuteS;
  }
  const double n = static_cast<double>(requests.size());
  sizing.capacity_rps = n / work_sum;
  sizing.concurrency = std::min(batch, latency_sum / work_sum);
  for (double d : sizing.demand) {
    sizing.peak_demand = std::max(sizing.peak_demand, d);
    sizing.mean_demand += d;
  }
  sizing.mean_demand /= static_cast<double>(sizing.demand.size());
  return sizing;
}

const std::vector<std::string>& PolicyPresetNames() {
  static const auto* names = new std::vector<std::string>{
      "static_peak", "static_mean", "hpa", "kpa", "queue_depth", "load_score",
      "keepalive_10m", "hearth"};
  return *names;
}

absl::Status ApplyPolicyPreset(std::string_view name, absl::Span<const TraceRequest> trace,
                               SimulationConfig* config) {
  const auto spec = Specs().find(name);
  if (spec == Specs().end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown policy '", std::string(name), "'; known: ",
                                                   absl::StrJoin(PolicyPresetNames(), ", ")));
  }
  auto sizings = std::make_shared<std::map<std::string, ReplicaSizing, std::less<>>>();
  for (SimModelConfig& model : config->models) {
    std::vector<TraceRequest> own;
    for (const TraceRequest& r : trace) {
      if (r.model == model.name) own.push_back(r);
    }
    absl::StatusOr<ReplicaSizing> sizing = SizeReplicas(model.profile, own);
    if (!sizing.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", model.name, "': ", sizing.status().message()));
    }
    model.max_leases =
        spec->second.limit_leases
            ? std::max(1, static_cast<int>(kTargetUtilization * sizing->concurrency))
            : 0;
    model.min_warm = 0;
    (*sizings)[model.name] = *std::move(sizing);
  }
  config->scaling_policies = spec->second.policies;
  config->keep_alive = spec->second.keep_alive;
  config->min_replicas = spec->second.min_replicas;
  const std::string preset(name);
  config->policy_factory = [sizings, preset](std::string_view model, std::string_view policy)
      -> absl::StatusOr<std::unique_ptr<ScalingPolicy>> {
    const auto sizing = sizings->find(model);
    if (sizing == sizings->end()) {
      return absl::InvalidArgumentError(absl::StrCat("no sizing for model '", std::string(model), "'"));
    }
    return MakeSizedPolicy(preset, policy, sizing->second);
  };
  return absl::OkStatus();
}

}  // namespace hearth
