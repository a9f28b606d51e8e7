// `hearth simulate`: replay a trace through the control plane under one or more policy
// presets, print a side-by-side table and write JSON + CSV (bench/compare_policies.py
// runs it on every real trace and draws the plots).
#include "examples/cli/simulate_command.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "hearth/policy_presets.h"
#include "hearth/simulation_inputs.h"
#include "hearth/simulator.h"
#include "nlohmann/json.hpp"

// --seed (generate_command.cc) also seeds generated arrivals, sampling and failures.
ABSL_DECLARE_FLAG(uint64_t, seed);

ABSL_FLAG(std::vector<std::string>, trace, {},
          "trace files, comma-separated; several overlay as several models. Each is PATH or "
          "PATH=MODEL (the model its requests go to; default: the file's name)");
ABSL_FLAG(std::string, policy, "all",
          "a policy preset, a comma-separated list of them, or 'all' (see "
          "include/hearth/policy_presets.h)");
ABSL_FLAG(std::string, profile, "data/profiles/smollm2-135m-q4_1-cpu.json",
          "measured replica profile (JSON) every model's replicas run");
ABSL_FLAG(double, speedup, 1.0,
          "replica speed relative to the profile (other hardware), > 0");
ABSL_FLAG(std::string, catalog, "data/prices/catalog-2026.json", "price catalog (JSON)");
ABSL_FLAG(std::string, offering, "gcp-cloud-run-2vcpu-instance",
          "serverless offering, billed per second");
ABSL_FLAG(std::string, always_on_offering, "aws-ec2-m7g.large",
          "offering the static presets are billed at (on-demand hourly)");
ABSL_FLAG(std::vector<std::string>, servegen_models, {"deepseek-r1"},
          "ServeGen traces: the models whose clients to replay");
ABSL_FLAG(double, servegen_rate_scale, 0.1,
          "ServeGen traces: multiply each 10-minute window's request count");
ABSL_FLAG(int, top, 0,
          "ServeGen / Azure Functions traces: keep the N busiest clients / functions; 0 = all");
ABSL_FLAG(bool, functions_as_models, false,
          "Azure Functions traces: each function is its own model (own replicas), not a tenant");
ABSL_FLAG(double, time_scale, 1.0,
          "multiply every arrival time: 0.5 replays twice as fast, 2 stretches");
ABSL_FLAG(double, start_s, 0, "replay only requests at or after this trace time (s)");
ABSL_FLAG(double, end_s, 0, "...and before this one; 0 = to the end");
ABSL_FLAG(double, sample, 1.0, "keep each request with this probability (seeded)");
ABSL_FLAG(double, provisioning_overhead_s, 0,
          "container/VM start added to the measured load time of every cold start");
ABSL_FLAG(double, slo_ttft_s, 2.0,
          "SLO: TTFT <= this + the request's own uncontended prefill time");
ABSL_FLAG(double, max_queue_wait_s, 60, "a request waits at most this for a replica");
ABSL_FLAG(int, max_instances, 256, "WarmPool instance limit");
ABSL_FLAG(int, max_replicas, 256, "AutoScaler upper bound per model");
ABSL_FLAG(std::string, out, "", "folder for <policy>.json, <policy>_timeline.csv and "
                                "comparison.{json,csv}; empty = print only");

namespace hearth_cli {
namespace {

int Fail(std::string_view what, const absl::Status& status) {
  std::fprintf(stderr, "hearth simulate: %.*s: %s\n", static_cast<int>(what.size()),
               what.data(), std::string(status.message()).c_str());
  return 1;
}

hearth::SimulationInputs InputsFromFlags() {
  hearth::SimulationInputs inputs;
  inputs.traces = absl::GetFlag(FLAGS_trace);
  inputs.profile_path = absl::GetFlag(FLAGS_profile);
  inputs.speedup = absl::GetFlag(FLAGS_speedup);
  inputs.catalog_path = absl::GetFlag(FLAGS_catalog);
  inputs.offering = absl::GetFlag(FLAGS_offering);
  inputs.always_on_offering = absl::GetFlag(FLAGS_always_on_offering);
  inputs.servegen_models = absl::GetFlag(FLAGS_servegen_models);
  inputs.servegen_rate_scale = absl::GetFlag(FLAGS_servegen_rate_scale);
  inputs.top = absl::GetFlag(FLAGS_top);
  inputs.functions_as_models = absl::GetFlag(FLAGS_functions_as_models);
  inputs.start_s = absl::GetFlag(FLAGS_start_s);
  inputs.end_s = absl::GetFlag(FLAGS_end_s);
  inputs.sample = absl::GetFlag(FLAGS_sample);
  inputs.time_scale = absl::GetFlag(FLAGS_time_scale);
  inputs.provisioning_overhead = absl::Seconds(absl::GetFlag(FLAGS_provisioning_overhead_s));
  inputs.slo_ttft = absl::Seconds(absl::GetFlag(FLAGS_slo_ttft_s));
  inputs.max_queue_wait = absl::Seconds(absl::GetFlag(FLAGS_max_queue_wait_s));
  inputs.max_instances = absl::GetFlag(FLAGS_max_instances);
  inputs.max_replicas = absl::GetFlag(FLAGS_max_replicas);
  inputs.seed = absl::GetFlag(FLAGS_seed);
  return inputs;
}

std::vector<std::string> Presets() {
  const std::string flag = absl::GetFlag(FLAGS_policy);
  if (flag == "all") return hearth::PolicyPresetNames();
  return absl::StrSplit(flag, ',', absl::SkipEmpty());
}

// One row of the comparison: the figures the issue asks for, per policy.
nlohmann::ordered_json ComparisonRow(const std::string& preset, const hearth::SimulationResult& r) {
  const hearth::SimulationTotals& t = r.overall;
  return {{"policy", preset},
          {"requests", t.requests},
          {"served", t.served},
          {"rejected", t.rejected_total()},
          {"cost", t.cost},
          {"cost_per_1k_requests", t.cost_per_1k_requests},
          {"billed_offering", r.billed_offering},
          {"instance_seconds", t.instance_seconds},
          {"idle_instance_seconds", t.idle_instance_seconds},
          {"instances_started", t.instances_started},
          {"cold_start_rate", t.cold_start_rate},
          {"ttft_p50_s", t.ttft_p50_s},
          {"ttft_p99_s", t.ttft_p99_s},
          {"e2e_p50_s", t.e2e_p50_s},
          {"e2e_p99_s", t.e2e_p99_s},
          {"slo_attainment", t.slo_attainment},
          {"events", r.events},
          {"wall_s", r.wall_s},
          {"events_per_s", r.events_per_s()}};
}

std::string ComparisonCsv(const nlohmann::ordered_json& rows) {
  std::string csv =
      "policy,requests,served,rejected,cost,cost_per_1k_requests,billed_offering,"
      "instance_seconds,idle_instance_seconds,instances_started,cold_start_rate,ttft_p50_s,"
      "ttft_p99_s,e2e_p50_s,e2e_p99_s,slo_attainment,events,wall_s,events_per_s\n";
  for (const nlohmann::ordered_json& row : rows) {
    std::vector<std::string> cells;
    for (const auto& item : row.items()) {
      cells.push_back(item.value().is_string() ? item.value().get<std::string>()
                                               : item.value().dump());
    }
    absl::StrAppend(&csv, absl::StrJoin(cells, ","), "\n");
  }
  return csv;
}

absl::Status WriteText(const std::filesystem::path& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path.string()));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) {
    return absl::DataLossError(absl::StrCat("cannot write ", path.string()));
  }
  return absl::OkStatus();
}

}  // namespace

int RunSimulate() {
  if (absl::GetFlag(FLAGS_trace).empty()) {
    return Fail("cannot read the trace", absl::InvalidArgumentError("--trace is required"));
  }
  absl::StatusOr<hearth::PreparedSimulation> prepared = hearth::PrepareSimulation(InputsFromFlags());
  if (!prepared.ok()) return Fail("cannot prepare the replay", prepared.status());
  const hearth::SimulationConfig& base = prepared->base;
  const std::string out = absl::GetFlag(FLAGS_out);
  if (!out.empty()) {
    std::error_code error;
    std::filesystem::create_directories(out, error);
    if (error) return Fail("cannot create --out", absl::InternalError(error.message()));
  }

  std::printf("%zu requests, %zu model(s), profile %s\n", prepared->trace.size(),
              base.models.size(), base.models.front().profile.name.c_str());
  std::printf("%-14s %10s %9s %8s %9s %9s %9s %8s %8s %9s\n", "policy", "cost", "$/1k req",
              "SLO", "TTFT p50", "TTFT p99", "cold", "inst-s", "idle-s", "events/s");
  for (const auto& [model, sizing] : prepared->sizings) {
    const hearth::SimModelConfig& m = *std::find_if(
        base.models.begin(), base.models.end(),
        [&](const hearth::SimModelConfig& c) { return c.name == model; });
    absl::StatusOr<hearth::PlanResult> plan = hearth::PlanCapacity(base, m, sizing);
    if (!plan.ok()) return Fail("cannot plan capacity", plan.status());
    std::printf(
        "%s: one replica serves %.3f req/s within the SLO (%.1f in flight); demand peak %.1f, "
        "mean %.1f replicas\n  plan for the demand: always-on $%.4f, serverless $%.4f, "
        "hybrid best %d always-on + burst $%.4f; the seeds' rule %d always-on $%.4f\n",
        model.c_str(), sizing.capacity_rps, sizing.concurrency, sizing.peak_demand,
        sizing.mean_demand, plan->always_on_cost, plan->serverless_cost, plan->best_reserved,
        plan->best_cost, plan->seed_reserved, plan->seed_cost);
  }
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const std::string& preset : Presets()) {
    absl::StatusOr<hearth::SimulationResult> result = hearth::SimulatePreset(*prepared, preset);
    if (!result.ok()) return Fail(absl::StrCat("policy ", preset), result.status());
    const hearth::SimulationTotals& t = result->overall;
    std::printf("%-14s %10.4f %9.5f %7.2f%% %8.2fs %8.2fs %8.2f%% %8.0f %8.0f %9.0f\n",
                preset.c_str(), t.cost, t.cost_per_1k_requests, 100 * t.slo_attainment,
                t.ttft_p50_s, t.ttft_p99_s, 100 * t.cold_start_rate, t.instance_seconds,
                t.idle_instance_seconds, result->events_per_s());
    rows.push_back(ComparisonRow(preset, *result));
    if (!out.empty()) {
      const std::filesystem::path dir(out);
      absl::Status s = hearth::WriteSimulationJson((dir / (preset + ".json")).string(), *result);
      if (s.ok()) {
        s = hearth::WriteTimelineCsv((dir / (preset + "_timeline.csv")).string(), *result);
      }
      if (!s.ok()) return Fail("cannot write the results", s);
    }
  }
  if (out.empty()) return 0;
  const std::filesystem::path dir(out);
  absl::Status s = WriteText(dir / "comparison.json", rows.dump(2) + "\n");
  if (s.ok()) s = WriteText(dir / "comparison.csv", ComparisonCsv(rows));
  if (!s.ok()) return Fail("cannot write the comparison", s);
  return 0;
}

}  // namespace hearth_cli
