#include "hearth/capacity_planner.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hearth {
namespace {

constexpr double kSecondsPerDay = 86400;
// More replicas than this at the peak is a unit error (requests/s passed as replicas),
// and pricing every R up to it would take minutes.
constexpr double kMaxPeakReplicas = 100000;

// Replicas needed to hold `busy`: a hair of floating-point excess (2.0000000001) is
// not a third replica.
int ReplicasFor(double busy) { return static_cast<int>(std::ceil(busy - 1e-9)); }

}  // namespace

absl::StatusOr<DemandSeries> DemandSeries::FromRequests(absl::Span<const double> requests,
                                                        absl::Duration interval,
                                                        absl::Duration request_duration,
                                                        int concurrency_per_replica) {
  if (interval <= absl::ZeroDuration() || request_duration <= absl::ZeroDuration() ||
      concurrency_per_replica <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DemandSeries::FromRequests: interval (", absl::FormatDuration(interval),
        "), request_duration (", absl::FormatDuration(request_duration),
        ") and concurrency_per_replica (", concurrency_per_replica, ") must be > 0"));
  }
  DemandSeries series;
  series.interval = interval;
  const double seconds_per_request =
      absl::ToDoubleSeconds(request_duration) / concurrency_per_replica / absl::ToDoubleSeconds(interval);
  for (size_t i = 0; i < requests.size(); ++i) {
    if (!std::isfinite(requests[i]) || requests[i] < 0) {
      return absl::InvalidArgumentError(absl::StrCat("DemandSeries::FromRequests: requests[", i,
                                                     "] must be finite and >= 0, got ", requests[i]));
    }
    series.requests.push_back(requests[i]);
    series.busy_replicas.push_back(requests[i] * seconds_per_request);
  }
  return series;
}

absl::Status DemandSeries::Validate() const {
  if (interval <= absl::ZeroDuration() || interval == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("DemandSeries: interval must be finite and > 0, got ", absl::FormatDuration(interval)));
  }
  if (busy_replicas.size() != requests.size()) {
    return absl::InvalidArgumentError(absl::StrCat("DemandSeries: busy_replicas has ", busy_replicas.size(),
                                                   " intervals but requests has ", requests.size()));
  }
  for (size_t i = 0; i < busy_replicas.size(); ++i) {
    if (!std::isfinite(busy_replicas[i]) || busy_replicas[i] < 0) {
      return absl::InvalidArgumentError(absl::StrCat("DemandSeries: busy_replicas[", i,
                                                     "] must be finite and >= 0, got ", busy_replicas[i]));
    }
    if (busy_replicas[i] > kMaxPeakReplicas) {
      return absl::InvalidArgumentError(absl::StrCat("DemandSeries: busy_replicas[", i, "] = ",
                                                     busy_replicas[i], " exceeds ", kMaxPeakReplicas,
                                                     " replicas (requests/s passed as replicas?)"));
    }
    if (!std::isfinite(requests[i]) || requests[i] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("DemandSeries: requests[", i, "] must be finite and >= 0, got ", requests[i]));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CapacityPlanner> CapacityPlanner::Create(CapacityPlannerConfig config) {
  if (config.serverless.kind != OfferingKind::kServerless) {
    return absl::InvalidArgumentError(absl::StrCat("CapacityPlanner: serverless offering '",
                                                   config.serverless.name, "' is of kind ",
                                                   std::string(OfferingKindName(config.serverless.kind))));
  }
  for (const Offering* o : {&config.always_on, &config.reserved}) {
    if (o->kind == OfferingKind::kServerless) {
      return absl::InvalidArgumentError(absl::StrCat("CapacityPlanner: offering '", o->name,
                                                     "' must be hourly (on_demand, reserved or spot), "
                                                     "not serverless"));
    }
  }
  if (config.cold_start < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("CapacityPlanner: cold_start must be >= 0, got ",
                                                   absl::FormatDuration(config.cold_start)));
  }
  // Offerings may be hand-built rather than read from a catalog.
  for (const Offering* o : {&config.serverless, &config.always_on, &config.reserved}) {
    if (absl::Status s = o->Validate(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("CapacityPlanner: ", s.message()));
    }
  }
  return CapacityPlanner(std::move(config));
}

HybridCost CapacityPlanner::PriceHybrid(const DemandSeries& series, int reserved) const {
  const double interval_s = absl::ToDoubleSeconds(series.interval);
  const double span_s = interval_s * static_cast<double>(series.busy_replicas.size());
  const double p_serverless = config_.serverless.PricePerSecond();
  const double cold_start_s = absl::ToDoubleSeconds(config_.cold_start);
  HybridCost cost;
  cost.reserved = reserved;
  cost.reserved_cost = reserved * span_s * config_.reserved.PricePerSecond();
  int previous_replicas = 0;
  for (size_t i = 0; i < series.busy_replicas.size(); ++i) {
    const double busy = series.busy_replicas[i];
    const double excess = std::max(0.0, busy - reserved);
    const int replicas = ReplicasFor(excess);
    cost.serverless_cost += excess * interval_s * p_serverless;
    cost.serverless_cost += std::max(0, replicas - previous_replicas) * cold_start_s * p_serverless;
    if (busy > 0) cost.request_fees += series.requests[i] * (excess / busy) * config_.serverless.per_request;
    previous_replicas = replicas;
  }
  cost.total = cost.reserved_cost + cost.serverless_cost + cost.request_fees;
  return cost;
}

absl::StatusOr<PlanResult> CapacityPlanner::Plan(const DemandSeries& series, absl::Duration p95_latency) const {
  if (absl::Status s = series.Validate(); !s.ok()) return s;
  if (p95_latency < absl::ZeroDuration() || p95_latency == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("CapacityPlanner::Plan: p95_latency must be finite and >= 0, got ",
                                                   absl::FormatDuration(p95_latency)));
  }
  const double span_s = absl::ToDoubleSeconds(series.interval) * static_cast<double>(series.busy_replicas.size());
  PlanResult plan;
  double peak = 0, total_requests = 0;
  for (size_t i = 0; i < series.busy_replicas.size(); ++i) {
    peak = std::max(peak, series.busy_replicas[i]);
    total_requests += series.requests[i];
  }
  plan.always_on_replicas = ReplicasFor(peak);
  plan.always_on_cost = plan.always_on_replicas * span_s * config_.always_on.PricePerSecond();
  for (int r = 0; r <= plan.always_on_replicas; ++r) plan.hybrid.push_back(PriceHybrid(series, r));
  plan.serverless_cost = plan.hybrid[0].total;
  // Ties go to fewer reserved replicas: the same price with less commitment.
  const auto best = std::min_element(plan.hybrid.begin(), plan.hybrid.end(),
                                     [](const HybridCost& a, const HybridCost& b) { return a.total < b.total; });
  plan.best_reserved = best->reserved;
  plan.best_cost = best->total;
  plan.daily_requests = span_s > 0 ? total_requests * kSecondsPerDay / span_s : 0;
  plan.seed_reserved = ReplicasFor(plan.daily_requests * absl::ToDoubleSeconds(p95_latency) / kSecondsPerDay);
  plan.seed_cost = plan.seed_reserved < static_cast<int>(plan.hybrid.size())
                       ? plan.hybrid[plan.seed_reserved].total
                       : PriceHybrid(series, plan.seed_reserved).total;
  if (plan.always_on_cost < plan.best_cost) {
    plan.recommendation = "always_on";
  } else if (plan.best_reserved == 0) {
    plan.recommendation = "serverless";
  } else {
    plan.recommendation = plan.best_reserved == plan.always_on_replicas ? "reserved" : "hybrid";
  }
  return plan;
}

absl::StatusOr<Crossover> CapacityPlanner::FindCrossover(absl::Duration request_duration,
                                                         int concurrency_per_replica) const {
  if (request_duration <= absl::ZeroDuration() || concurrency_per_replica <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CapacityPlanner::FindCrossover: request_duration (", absl::FormatDuration(request_duration),
        ") and concurrency_per_replica (", concurrency_per_replica, ") must be > 0"));
  }
  const double busy_s = absl::ToDoubleSeconds(request_duration) / concurrency_per_replica;
  const double per_request = busy_s * config_.serverless.PricePerSecond() + config_.serverless.per_request;
  Crossover c;
  c.always_on_cost_per_day = kSecondsPerDay * config_.always_on.PricePerSecond();
  c.requests_per_day = c.always_on_cost_per_day / per_request;
  c.valid = c.requests_per_day * busy_s <= kSecondsPerDay;
  return c;
}

absl::StatusOr<std::vector<Placement>> CapacityPlanner::Place(absl::Span<const ModelDemand> models,
                                                              double seed_qps_threshold) const {
  if (!std::isfinite(seed_qps_threshold) || seed_qps_threshold < 0) {
    return absl::InvalidArgumentError(absl::StrCat("CapacityPlanner::Place: seed_qps_threshold must be finite "
                                                   "and >= 0, got ", seed_qps_threshold));
  }
  std::vector<Placement> placements;
  for (const ModelDemand& m : models) {
    absl::StatusOr<PlanResult> plan = Plan(m.series, m.p95_latency);
    if (!plan.ok()) {
      return absl::Status(plan.status().code(), absl::StrCat("model '", m.model, "': ", plan.status().message()));
    }
    Placement p;
    p.model = m.model;
    p.mean_qps = plan->daily_requests / kSecondsPerDay;
    p.by_cost = plan->recommendation;
    p.by_seed_threshold = p.mean_qps > seed_qps_threshold ? "always_on" : "serverless";
    p.seed_choice_cost = p.by_seed_threshold == "always_on" ? plan->always_on_cost : plan->serverless_cost;
    p.plan = *std::move(plan);
    placements.push_back(std::move(p));
  }
  return placements;
}

}  // namespace hearth
