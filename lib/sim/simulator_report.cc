// The simulator's writers: the summary as JSON, the per-tick timeline as CSV.
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hearth/simulator.h"
#include "nlohmann/json.hpp"

namespace hearth {
namespace {

nlohmann::ordered_json TotalsJson(const SimulationTotals& t) {
  nlohmann::ordered_json rejected = nlohmann::ordered_json::object();
  for (int r = 0; r < kRejectReasonCount; ++r) {
    rejected[std::string(RejectReasonName(static_cast<RejectReason>(r)))] = t.rejected[r];
  }
  return {{"requests", t.requests},
          {"served", t.served},
          {"rejected", t.rejected_total()},
          {"rejected_by_reason", rejected},
          {"truncated", t.truncated},
          {"cold_starts", t.cold_starts},
          {"cold_start_rate", t.cold_start_rate},
          {"ttft_p50_s", t.ttft_p50_s},
          {"ttft_p99_s", t.ttft_p99_s},
          {"e2e_p50_s", t.e2e_p50_s},
          {"e2e_p95_s", t.e2e_p95_s},
          {"e2e_p99_s", t.e2e_p99_s},
          {"slo_met", t.slo_met},
          {"slo_attainment", t.slo_attainment},
          {"prompt_tokens", t.prompt_tokens},
          {"output_tokens", t.output_tokens},
          {"instances_started", t.instances_started},
          {"instance_seconds", t.instance_seconds},
          {"loaded_instance_seconds", t.loaded_instance_seconds},
          {"idle_instance_seconds", t.idle_instance_seconds},
          {"cost", t.cost},
          {"cost_per_1k_requests", t.cost_per_1k_requests}};
}

nlohmann::ordered_json CostJson(const CostReport& report) {
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const ModelCost& m : report.models) {
    nlohmann::ordered_json offerings = nlohmann::ordered_json::array();
    for (const OfferingUsage& o : m.offerings) {
      offerings.push_back(
          {{"offering", o.offering}, {"instance_seconds", o.instance_seconds}, {"cost", o.cost}});
    }
    models.push_back({{"model", m.model},
                      {"offerings", offerings},
                      {"instance_cost", m.instance_cost},
                      {"request_fees", m.request_fees},
                      {"requests", m.requests},
                      {"prompt_tokens", m.prompt_tokens},
                      {"output_tokens", m.output_tokens}});
  }
  nlohmann::ordered_json tenants = nlohmann::ordered_json::array();
  for (const TenantCost& t : report.tenants) {
    tenants.push_back({{"tenant", t.tenant},
                       {"instance_share", t.instance_share},
                       {"request_fees", t.request_fees},
                       {"total", t.total},
                       {"requests", t.requests},
                       {"prompt_tokens", t.prompt_tokens},
                       {"output_tokens", t.output_tokens}});
  }
  return {{"models", models},
          {"tenants", tenants},
          {"instance_cost", report.instance_cost},
          {"request_fees", report.request_fees},
          {"unattributed", report.unattributed},
          {"total", report.total}};
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot open ", path, " to write"));
  out << text;
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("writing ", path, " failed"));
  return absl::OkStatus();
}

}  // namespace

std::string SimulationJson(const SimulationResult& result) {
  nlohmann::ordered_json models = nlohmann::ordered_json::object();
  for (const auto& [name, totals] : result.models) models[name] = TotalsJson(totals);
  nlohmann::ordered_json alerts = nlohmann::ordered_json::array();
  for (const BudgetAlert& a : result.alerts) {
    alerts.push_back({{"tenant", a.tenant},
                      {"threshold", a.threshold},
                      {"spent", a.spent},
                      {"budget", a.budget},
                      {"raised_at_s", absl::ToDoubleSeconds(a.raised_at - absl::UnixEpoch())}});
  }
  nlohmann::ordered_json json = {{"overall", TotalsJson(result.overall)},
                                 {"models", models},
                                 {"billed_offering", result.billed_offering},
                                 {"cost", CostJson(result.cost)},
                                 {"budget_alerts", alerts},
                                 {"duration_s", result.duration_s},
                                 {"events", result.events},
                                 {"pool_cold_starts", result.pool_cold_starts},
                                 {"pool_warm_hits", result.pool_warm_hits}};
  if (result.wall_s > 0) {
    json["wall_s"] = result.wall_s;
    json["events_per_s"] = result.events_per_s();
  }
  return json.dump(2) + "\n";
}

std::string TimelineCsv(const SimulationResult& result) {
  std::string csv = "time_s,model,arrivals,in_flight,queue_depth,ready,starting,desired\n";
  for (const TimelinePoint& p : result.timeline) {
    absl::StrAppendFormat(&csv, "%.6g,%s,%d,%d,%d,%d,%d,%d\n", p.time_s, p.model, p.arrivals,
                          p.in_flight, p.queue_depth, p.ready, p.starting, p.desired);
  }
  return csv;
}

absl::Status WriteSimulationJson(const std::string& path, const SimulationResult& result) {
  return WriteFile(path, SimulationJson(result));
}

absl::Status WriteTimelineCsv(const std::string& path, const SimulationResult& result) {
  return WriteFile(path, TimelineCsv(result));
}

}  // namespace hearth
