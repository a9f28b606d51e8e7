// The C ABI's simulator: `hearth simulate` for one policy preset, from files
// (hearth::SimulationInputs, as the CLI), with the report kept in a handle (figures in a
// struct, the whole summary as JSON).
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "c_api_internal.h"
#include "hearth/c_api.h"
#include "hearth/policy_presets.h"
#include "hearth/simulation_inputs.h"
#include "hearth/simulator.h"

struct hearth_sim_report {
  hearth::SimulationResult result;
  std::string json;  // SimulationJson(result)
};

namespace hearth_capi {
namespace {

absl::StatusOr<hearth::SimulationInputs> InputsFromParams(const hearth_sim_params& p) {
  if (p.n_traces == 0 || p.traces == nullptr) {
    return absl::InvalidArgumentError("traces is NULL or n_traces is 0");
  }
  hearth::SimulationInputs inputs;
  for (size_t i = 0; i < p.n_traces; ++i) {
    if (absl::Status s = CheckText(p.traces[i], absl::StrCat("traces[", i, "]")); !s.ok()) {
      return s;
    }
    inputs.traces.push_back(p.traces[i]);
  }
  inputs.profile_path = p.profile_path;
  inputs.speedup = p.speedup;
  inputs.catalog_path = p.catalog_path;
  inputs.offering = p.offering;
  inputs.always_on_offering = p.always_on_offering;
  inputs.servegen_rate_scale = p.servegen_rate_scale;
  inputs.top = p.top;
  inputs.start_s = p.start_s;
  inputs.end_s = p.end_s;
  inputs.sample = p.sample;
  inputs.time_scale = p.time_scale;
  struct {
    double seconds;
    const char* what;
    absl::Duration* field;
  } durations[] = {{p.provisioning_overhead_s, "provisioning_overhead_s",
                    &inputs.provisioning_overhead},
                   {p.slo_ttft_s, "slo_ttft_s", &inputs.slo_ttft},
                   {p.max_queue_wait_s, "max_queue_wait_s", &inputs.max_queue_wait}};
  for (const auto& d : durations) {
    absl::StatusOr<absl::Duration> value = ToDuration(d.seconds, d.what);
    if (!value.ok()) return value.status();
    *d.field = *value;
  }
  inputs.max_instances = p.max_instances;
  inputs.max_replicas = p.max_replicas;
  inputs.seed = p.seed;
  return inputs;
}

absl::Status CheckParams(const hearth_sim_params& p) {
  for (const auto& [text, what] : {std::pair{p.policy, "policy"},
                                   {p.profile_path, "profile_path"},
                                   {p.catalog_path, "catalog_path"},
                                   {p.offering, "offering"},
                                   {p.always_on_offering, "always_on_offering"}}) {
    if (absl::Status s = CheckText(text, what); !s.ok()) return s;
  }
  // Before the traces are read and the replicas sized, which take the most time.
  const std::vector<std::string>& presets = hearth::PolicyPresetNames();
  if (std::find(presets.begin(), presets.end(), p.policy) == presets.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown policy preset '", p.policy,
                                                   "' (known: ", absl::StrJoin(presets, ", "),
                                                   ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<hearth::SimulationResult> Run(const hearth_sim_params& p) {
  if (absl::Status s = CheckParams(p); !s.ok()) return s;
  absl::StatusOr<hearth::SimulationInputs> inputs = InputsFromParams(p);
  if (!inputs.ok()) return inputs.status();
  absl::StatusOr<hearth::PreparedSimulation> prepared = hearth::PrepareSimulation(*inputs);
  if (!prepared.ok()) return prepared.status();
  return hearth::SimulatePreset(*prepared, p.policy);
}

void CopyTotals(const hearth::SimulationTotals& t, hearth_sim_summary* out) {
  out->requests = t.requests;
  out->served = t.served;
  out->rejected = t.rejected_total();
  const auto rejected = [&t](hearth::RejectReason reason) {
    return t.rejected[static_cast<int>(reason)];
  };
  out->rejected_queue_timeout = rejected(hearth::RejectReason::kQueueTimeout);
  out->rejected_prompt_too_long = rejected(hearth::RejectReason::kPromptTooLong);
  out->rejected_provisioner_error = rejected(hearth::RejectReason::kProvisionerError);
  out->rejected_pool_error = rejected(hearth::RejectReason::kPoolError);
  out->rejected_empty_prompt = rejected(hearth::RejectReason::kEmptyPrompt);
  out->truncated = t.truncated;
  out->cold_starts = t.cold_starts;
  out->cold_start_rate = t.cold_start_rate;
  out->ttft_p50_s = t.ttft_p50_s;
  out->ttft_p99_s = t.ttft_p99_s;
  out->e2e_p50_s = t.e2e_p50_s;
  out->e2e_p95_s = t.e2e_p95_s;
  out->e2e_p99_s = t.e2e_p99_s;
  out->slo_met = t.slo_met;
  out->slo_attainment = t.slo_attainment;
  out->prompt_tokens = t.prompt_tokens;
  out->output_tokens = t.output_tokens;
  out->instances_started = t.instances_started;
  out->instance_seconds = t.instance_seconds;
  out->loaded_instance_seconds = t.loaded_instance_seconds;
  out->idle_instance_seconds = t.idle_instance_seconds;
  out->cost = t.cost;
  out->cost_per_1k_requests = t.cost_per_1k_requests;
}

}  // namespace
}  // namespace hearth_capi

using hearth_capi::CheckHandle;
using hearth_capi::CheckNotNull;
using hearth_capi::CheckSize;
using hearth_capi::Fail;
using hearth_capi::Guard;
using hearth_capi::IsLive;

extern "C" {

void hearth_sim_params_init(hearth_sim_params* params) {
  if (params == nullptr) return;
  std::memset(params, 0, sizeof(*params));
  // `hearth simulate`'s defaults; static, so that the strings outlive the call.
  static const hearth::SimulationInputs defaults;
  params->struct_size = sizeof(hearth_sim_params);
  params->policy = "hearth";
  params->offering = defaults.offering.c_str();
  params->always_on_offering = defaults.always_on_offering.c_str();
  params->speedup = defaults.speedup;
  params->sample = defaults.sample;
  params->time_scale = defaults.time_scale;
  params->slo_ttft_s = absl::ToDoubleSeconds(defaults.slo_ttft);
  params->max_queue_wait_s = absl::ToDoubleSeconds(defaults.max_queue_wait);
  params->max_instances = defaults.max_instances;
  params->max_replicas = defaults.max_replicas;
  params->servegen_rate_scale = defaults.servegen_rate_scale;
  params->seed = defaults.seed;
}

int hearth_simulate(const hearth_sim_params* params, hearth_sim_report** out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    *out = nullptr;
    HEARTH_CAPI_CHECK(CheckNotNull(params, "params"));
    HEARTH_CAPI_CHECK(
        CheckSize(params->struct_size, sizeof(hearth_sim_params), "hearth_sim_params"));
    absl::StatusOr<hearth::SimulationResult> result = hearth_capi::Run(*params);
    if (!result.ok()) return Fail(result.status());
    auto report = std::make_unique<hearth_sim_report>(hearth_sim_report{*std::move(result), ""});
    report->json = hearth::SimulationJson(report->result);
    *out = hearth_capi::Publish(std::move(report));
    return static_cast<int>(HEARTH_OK);
  });
}

void hearth_sim_report_destroy(hearth_sim_report* report) { hearth_capi::Destroy(report); }

int hearth_sim_report_get_summary(const hearth_sim_report* report, const char* model,
                                  hearth_sim_summary* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(report, "report"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    HEARTH_CAPI_CHECK(
        CheckSize(out->struct_size, sizeof(hearth_sim_summary), "hearth_sim_summary"));
    if (model == nullptr) {
      hearth_capi::CopyTotals(report->result.overall, out);
      return static_cast<int>(HEARTH_OK);
    }
    HEARTH_CAPI_CHECK(hearth_capi::CheckText(model, "model"));
    auto it = report->result.models.find(model);
    if (it == report->result.models.end()) {
      return Fail(HEARTH_NOT_FOUND, absl::StrCat("the simulation has no model '", model, "'"));
    }
    hearth_capi::CopyTotals(it->second, out);
    return static_cast<int>(HEARTH_OK);
  });
}

double hearth_sim_report_duration_s(const hearth_sim_report* report) {
  return IsLive(report) ? report->result.duration_s : 0;
}

double hearth_sim_report_wall_s(const hearth_sim_report* report) {
  return IsLive(report) ? report->result.wall_s : 0;
}

uint64_t hearth_sim_report_events(const hearth_sim_report* report) {
  return IsLive(report) ? report->result.events : 0;
}

const char* hearth_sim_report_json(const hearth_sim_report* report) {
  return IsLive(report) ? report->json.c_str() : "";
}

}  // extern "C"
