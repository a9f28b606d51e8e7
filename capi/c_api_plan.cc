// The C ABI's capacity planning: the CostOptimizer's catalog offerings priced over a
// demand series by hearth::CapacityPlanner (always-on, serverless, hybrid).
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "c_api_internal.h"
#include "hearth/c_api.h"
#include "hearth/capacity_planner.h"

namespace hearth_capi {
namespace {

// The offering `name` of the catalog (a copy: the planner keeps its own), `what` naming
// the parameter in errors.
absl::StatusOr<hearth::Offering> OfferingNamed(const hearth_cost& cost, const char* name,
                                               absl::string_view what) {
  if (absl::Status s = CheckText(name, what); !s.ok()) return s;
  absl::StatusOr<const hearth::Offering*> o = cost.optimizer->catalog().Find(name);
  if (!o.ok()) return Within(what, o.status());
  return **o;
}

absl::StatusOr<hearth::CapacityPlanner> ToPlanner(const hearth_cost& cost,
                                                  const hearth_plan_params& p) {
  hearth::CapacityPlannerConfig config;
  absl::StatusOr<hearth::Offering> serverless =
      OfferingNamed(cost, p.serverless_offering, "serverless_offering");
  if (!serverless.ok()) return serverless.status();
  absl::StatusOr<hearth::Offering> always_on =
      OfferingNamed(cost, p.always_on_offering, "always_on_offering");
  if (!always_on.ok()) return always_on.status();
  config.serverless = *serverless;
  config.always_on = *always_on;
  config.reserved = *always_on;
  if (p.reserved_offering != nullptr) {
    absl::StatusOr<hearth::Offering> reserved =
        OfferingNamed(cost, p.reserved_offering, "reserved_offering");
    if (!reserved.ok()) return reserved.status();
    config.reserved = *reserved;
  }
  absl::StatusOr<absl::Duration> cold_start = ToDuration(p.cold_start_s, "cold_start_s");
  if (!cold_start.ok()) return cold_start.status();
  config.cold_start = *cold_start;
  return hearth::CapacityPlanner::Create(config);
}

absl::StatusOr<hearth::DemandSeries> ToSeries(const hearth_plan_params& p) {
  if (p.n_intervals == 0 || p.requests == nullptr) {
    return absl::InvalidArgumentError("requests is NULL or n_intervals is 0");
  }
  absl::StatusOr<absl::Duration> interval = ToDuration(p.interval_s, "interval_s");
  if (!interval.ok()) return interval.status();
  absl::StatusOr<absl::Duration> duration = ToDuration(p.request_duration_s, "request_duration_s");
  if (!duration.ok()) return duration.status();
  return hearth::DemandSeries::FromRequests(
      std::vector<double>(p.requests, p.requests + p.n_intervals), *interval, *duration,
      p.concurrency_per_replica);
}

// PlanResult::recommendation in static storage, as the C struct promises.
const char* StaticRecommendation(const std::string& recommendation) {
  for (const char* name : {"always_on", "serverless", "reserved", "hybrid"}) {
    if (recommendation == name) return name;
  }
  return "";
}

}  // namespace
}  // namespace hearth_capi

using hearth_capi::CheckHandle;
using hearth_capi::CheckNotNull;
using hearth_capi::CheckSize;
using hearth_capi::Fail;
using hearth_capi::Guard;

extern "C" {

void hearth_plan_params_init(hearth_plan_params* params) {
  if (params == nullptr) return;
  std::memset(params, 0, sizeof(*params));
  params->struct_size = sizeof(hearth_plan_params);
  params->interval_s = absl::ToDoubleSeconds(hearth::DemandSeries{}.interval);
  params->concurrency_per_replica = 1;
}

int hearth_cost_plan(const hearth_cost* cost, const hearth_plan_params* params,
                     hearth_plan* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckNotNull(params, "params"));
    HEARTH_CAPI_CHECK(
        CheckSize(params->struct_size, sizeof(hearth_plan_params), "hearth_plan_params"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    HEARTH_CAPI_CHECK(CheckSize(out->struct_size, sizeof(hearth_plan), "hearth_plan"));
    absl::StatusOr<hearth::CapacityPlanner> planner = hearth_capi::ToPlanner(*cost, *params);
    if (!planner.ok()) return Fail(planner.status());
    absl::StatusOr<hearth::DemandSeries> series = hearth_capi::ToSeries(*params);
    if (!series.ok()) return Fail(series.status());
    absl::StatusOr<absl::Duration> p95 =
        hearth_capi::ToDuration(params->p95_latency_s, "p95_latency_s");
    if (!p95.ok()) return Fail(p95.status());
    absl::StatusOr<hearth::PlanResult> plan = planner->Plan(*series, *p95);
    if (!plan.ok()) return Fail(plan.status());
    absl::StatusOr<hearth::Crossover> crossover = planner->FindCrossover(
        absl::Seconds(params->request_duration_s), params->concurrency_per_replica);
    if (!crossover.ok()) return Fail(crossover.status());
    out->always_on_cost = plan->always_on_cost;
    out->always_on_replicas = plan->always_on_replicas;
    out->serverless_cost = plan->serverless_cost;
    out->best_reserved = plan->best_reserved;
    out->best_cost = plan->best_cost;
    out->seed_reserved = plan->seed_reserved;
    out->seed_cost = plan->seed_cost;
    out->daily_requests = plan->daily_requests;
    out->recommendation = hearth_capi::StaticRecommendation(plan->recommendation);
    out->crossover_requests_per_day = crossover->requests_per_day;
    out->crossover_valid = crossover->valid ? 1 : 0;
    return static_cast<int>(HEARTH_OK);
  });
}

}  // extern "C"
