#include "hearth/policy_presets.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "hearth/autoscaler.h"
#include "hearth/capacity_planner.h"
#include "hearth/price_catalog.h"
#include "hearth/scaling_policies.h"

namespace hearth {
namespace {

// The one utilisation target every preset that has one aims at (Knative's default).
constexpr double kTargetUtilization = 0.7;
constexpr double kMinuteS = 60;
// Calibration of one replica: Poisson arrivals of the trace's request sizes, after a
// warm-up, bisected on the rate until the SLO attainment target is bracketed finely.
constexpr int kCalibrationReplicas = 8;
constexpr int kCalibrationRequests = 1600;
constexpr double kCalibrationWarmupS = 30;
constexpr int kCalibrationSteps = 10;
constexpr double kCalibrationAttainment = 0.95;

struct PresetSpec {
  std::vector<std::string> policies;  // MakeScalingPolicy names, or {"none"}
  std::string keep_alive;
  int min_replicas = 0;
  bool limit_leases = false;  // cap leases per instance at the target concurrency
  bool plan_base = false;     // an always-on base of the CapacityPlanner's best size
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
      {"hybrid_keepalive", {{"none"}, "hybrid", 0, true}},
      {"predictive", {{"predictive"}, "immediate", 0, false}},
      {"hearth", {{"kpa"}, "immediate", 0, false, true}},
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

absl::StatusOr<ReplicaSizing> SizeReplicas(const SimulationConfig& base,
                                           const SimModelConfig& model,
                                           absl::Span<const TraceRequest> requests) {
  if (requests.empty()) return absl::InvalidArgumentError("no requests to size replicas for");
  if (absl::Status valid = model.profile.Validate(); !valid.ok()) return valid;
  // The sizes one replica is calibrated on: the model's own requests that fit its context.
  std::vector<TraceRequest> sizes;
  for (const TraceRequest& r : requests) {
    if (r.prompt_tokens < model.profile.context_length) sizes.push_back(r);
  }
  if (sizes.empty()) {
    return absl::InvalidArgumentError("no request fits the profile's context length");
  }
  ReplicaSizing sizing;
  // Replica-seconds at full batch efficiency bound the search from above.
  const double batch = model.profile.max_sequences;
  double work_sum = 0;
  for (const TraceRequest& r : sizes) {
    work_sum += model.profile.PrefillSeconds(r.prompt_tokens) +
                r.output_tokens * model.profile.DecodeStepSeconds(batch) / batch;
  }
  const double saturation_rps =
      kCalibrationReplicas * static_cast<double>(sizes.size()) / work_sum;

  // A small warm fleet, always on, under Poisson arrivals of the model's request sizes:
  // a fleet, not one replica, so that the least-loaded placement's pooling counts as it
  // does in the runs being sized.
  SimulationConfig one = base;
  SimModelConfig single = model;
  single.max_leases = 0;
  single.min_warm = kCalibrationReplicas;
  one.models = {single};
  one.scaling_policies = {"static"};
  one.keep_alive = "immediate";
  one.min_replicas = 0;
  one.policy_factory = [](std::string_view, std::string_view) {
    return MakeStaticPolicy({.replicas = kCalibrationReplicas});
  };
  struct Probe {
    double attainment = 0;
    double mean_in_flight = 0;
    double latency_p95_s = 0;
  };
  auto probe = [&](double rate) -> absl::StatusOr<Probe> {
    std::mt19937_64 rng(base.seed);
    std::exponential_distribution<double> gap(rate);
    std::uniform_int_distribution<size_t> pick(0, sizes.size() - 1);
    std::vector<TraceRequest> trace(kCalibrationRequests);
    double t = kCalibrationWarmupS;
    for (TraceRequest& r : trace) {
      t += gap(rng);
      r = sizes[pick(rng)];
      r.arrival_s = t;
      r.model = model.name;
    }
    absl::StatusOr<SimulationResult> result = Simulate(one, trace);
    if (!result.ok()) return result.status();
    Probe p;
    p.attainment = result->overall.slo_attainment;
    p.latency_p95_s = result->overall.e2e_p95_s;
    double in_flight = 0;
    int64_t points = 0;
    for (const TimelinePoint& point : result->timeline) {
      if (point.time_s < trace.front().arrival_s || point.time_s > trace.back().arrival_s) continue;
      in_flight += static_cast<double>(point.in_flight + point.queue_depth);
      ++points;
    }
    p.mean_in_flight = points > 0 ? in_flight / static_cast<double>(points) : 0;
    return p;
  };
  // Bisection on the rate: the SLO attainment falls as the rate rises.
  double low = 0, high = saturation_rps;
  Probe at_low;
  for (int i = 0; i < kCalibrationSteps; ++i) {
    const double mid = (low + high) / 2;
    absl::StatusOr<Probe> p = probe(mid);
    if (!p.ok()) return p.status();
    if (p->attainment >= kCalibrationAttainment) {
      low = mid;
      at_low = *p;
    } else {
      high = mid;
    }
  }
  if (low <= 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "replicas cannot meet the SLO for ", kCalibrationAttainment * 100,
        " % of these requests even at a trickle: relax the SLO or use a faster profile"));
  }
  sizing.capacity_rps = low / kCalibrationReplicas;
  sizing.concurrency = std::max(1.0, at_low.mean_in_flight / kCalibrationReplicas);
  sizing.latency_p95_s = at_low.latency_p95_s;

  const double origin = requests.front().arrival_s;
  for (const TraceRequest& r : requests) {
    const size_t minute = static_cast<size_t>((r.arrival_s - origin) / kMinuteS);
    if (sizing.demand.size() <= minute) sizing.demand.resize(minute + 1, 0);
    if (sizing.requests.size() <= minute) sizing.requests.resize(minute + 1, 0);
    sizing.demand[minute] += 1 / (kMinuteS * sizing.capacity_rps);
    sizing.requests[minute] += 1;
  }
  for (double d : sizing.demand) {
    sizing.peak_demand = std::max(sizing.peak_demand, d);
    sizing.mean_demand += d;
  }
  sizing.mean_demand /= static_cast<double>(sizing.demand.size());
  return sizing;
}

absl::StatusOr<PlanResult> PlanCapacity(const SimulationConfig& config,
                                        const SimModelConfig& model,
                                        const ReplicaSizing& sizing) {
  absl::StatusOr<PriceCatalog> catalog = PriceCatalog::Load(config.price_catalog_path);
  if (!catalog.ok()) return catalog.status();
  absl::StatusOr<const Offering*> serverless = catalog->Find(config.offering);
  if (!serverless.ok()) return serverless.status();
  absl::StatusOr<const Offering*> always_on = catalog->Find(config.always_on_offering);
  if (!always_on.ok()) return always_on.status();
  const double cold_start_s = (model.load_from_disk ? model.profile.load_cold_s
                                                    : model.profile.load_warm_s) +
                              absl::ToDoubleSeconds(config.provisioning_overhead);
  absl::StatusOr<CapacityPlanner> planner = CapacityPlanner::Create(
      {.serverless = **serverless, .always_on = **always_on, .reserved = **always_on,
       .cold_start = absl::Seconds(cold_start_s)});
  if (!planner.ok()) return planner.status();
  DemandSeries series;
  series.interval = absl::Seconds(kMinuteS);
  for (double d : sizing.demand) series.busy_replicas.push_back(d);
  series.requests = sizing.requests;
  return planner->Plan(series, absl::Seconds(sizing.latency_p95_s));
}

const std::vector<std::string>& PolicyPresetNames() {
  static const auto* names = new std::vector<std::string>{
      "static_peak", "static_mean", "hpa", "kpa", "queue_depth", "load_score",
      "keepalive_10m", "hybrid_keepalive", "predictive", "hearth"};
  return *names;
}

absl::StatusOr<ModelSizings> SizeModels(const SimulationConfig& config,
                                        absl::Span<const TraceRequest> trace) {
  ModelSizings sizings;
  for (const SimModelConfig& model : config.models) {
    std::vector<TraceRequest> own;
    for (const TraceRequest& r : trace) {
      if (r.model == model.name) own.push_back(r);
    }
    absl::StatusOr<ReplicaSizing> sizing = SizeReplicas(config, model, own);
    if (!sizing.ok()) {
      return absl::Status(sizing.status().code(), absl::StrCat("model '", model.name, "': ",
                                                               sizing.status().message()));
    }
    sizings[model.name] = *std::move(sizing);
  }
  return sizings;
}

absl::Status ApplyPolicyPreset(std::string_view name, const ModelSizings& sizings,
                               SimulationConfig* config) {
  const auto spec = Specs().find(name);
  if (spec == Specs().end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown policy '", std::string(name),
                                                   "'; known: ",
                                                   absl::StrJoin(PolicyPresetNames(), ", ")));
  }
  auto shared = std::make_shared<const ModelSizings>(sizings);
  for (SimModelConfig& model : config->models) {
    const auto sizing = shared->find(model.name);
    if (sizing == shared->end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("no sizing for model '", model.name, "'"));
    }
    model.max_leases =
        spec->second.limit_leases
            ? std::max(1, static_cast<int>(kTargetUtilization * sizing->second.concurrency))
            : 0;
    model.min_warm = 0;
    model.always_on_replicas = 0;
    if (spec->second.plan_base) {
      absl::StatusOr<PlanResult> plan = PlanCapacity(*config, model, sizing->second);
      if (!plan.ok()) return plan.status();
      model.always_on_replicas = plan->best_reserved;
      model.min_warm = plan->best_reserved;
    }
  }
  config->scaling_policies = spec->second.policies;
  config->keep_alive = spec->second.keep_alive;
  config->min_replicas = spec->second.min_replicas;
  const std::string preset(name);
  config->policy_factory = [shared, preset](std::string_view model, std::string_view policy)
      -> absl::StatusOr<std::unique_ptr<ScalingPolicy>> {
    const auto sizing = shared->find(model);
    if (sizing == shared->end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("no sizing for model '", std::string(model), "'"));
    }
    return MakeSizedPolicy(preset, policy, sizing->second);
  };
  return absl::OkStatus();
}

}  // namespace hearth
