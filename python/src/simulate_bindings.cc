// hearth.simulate: `hearth simulate` as a function. Reads real traces, sizes the replicas
// once, replays the trace under each policy preset through the real control plane
// (include/hearth/simulator.h) and returns SimulationResult objects.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bindings.h"
#include "hearth/policy_presets.h"
#include "hearth/replica_profile.h"
#include "hearth/simulator.h"
#include "hearth/trace.h"
#include "options.h"
#include "status.h"

namespace hearth::python {
namespace {

namespace py = pybind11;

// The options of `hearth simulate` (examples/cli/simulate_command.cc), with its defaults.
struct SimulateOptions {
  double speedup = 1.0;
  std::string offering = "gcp-cloud-run-2vcpu-instance";
  std::string always_on_offering = "aws-ec2-m7g.large";
  std::vector<std::string> servegen_models = {"deepseek-r1"};
  double servegen_rate_scale = 0.1;
  int top = 0;
  bool functions_as_models = false;
  double time_scale = 1.0;
  double start_s = 0;
  double end_s = std::numeric_limits<double>::infinity();
  double sample = 1.0;
  absl::Duration provisioning_overhead = absl::ZeroDuration();
  absl::Duration slo_ttft = absl::Seconds(2);
  absl::Duration max_queue_wait = absl::Seconds(60);
  int max_instances = 256;
  int max_replicas = 256;
  uint64_t seed = 0;
};

const OptionTable<SimulateOptions>& Options() {
  using O = SimulateOptions;
  static const auto* table = &(new OptionTable<O>)
                                  ->Add("speedup", &O::speedup)
                                  .Add("offering", &O::offering)
                                  .Add("always_on_offering", &O::always_on_offering)
                                  .Add("servegen_models", &O::servegen_models)
                                  .Add("servegen_rate_scale", &O::servegen_rate_scale)
                                  .Add("top", &O::top)
                                  .Add("functions_as_models", &O::functions_as_models)
                                  .Add("time_scale", &O::time_scale)
                                  .Add("start_s", &O::start_s)
                                  .Add("end_s", &O::end_s)
                                  .Add("sample", &O::sample)
                                  .AddSeconds("provisioning_overhead_s", &O::provisioning_overhead)
                                  .AddSeconds("slo_ttft_s", &O::slo_ttft)
                                  .AddSeconds("max_queue_wait_s", &O::max_queue_wait)
                                  .Add("max_instances", &O::max_instances)
                                  .Add("max_replicas", &O::max_replicas)
                                  .Add("seed", &O::seed);
  return *table;
}

struct TraceSpec {
  std::string path;
  std::string model;  // empty: the reader's default (the file's name)
};

// Reads, overlays (one model per trace unless named alike), windows, samples and rescales.
absl::StatusOr<std::vector<TraceRequest>> LoadTraces(const std::vector<TraceSpec>& specs,
                                                     const SimulateOptions& o) {
  std::vector<std::vector<TraceRequest>> traces;
  traces.reserve(specs.size());
  std::vector<OverlayInput> inputs;
  for (const TraceSpec& spec : specs) {
    TraceOptions options;
    options.seed = o.seed;
    options.model = spec.model;
    options.servegen.models = o.servegen_models;
    options.servegen.rate_scale = o.servegen_rate_scale;
    options.servegen.top_clients = o.top;
    options.azure_functions.top_functions = o.top;
    options.azure_functions.function_as_model = o.functions_as_models;
    absl::StatusOr<std::vector<TraceRequest>> trace = ReadTrace(spec.path, options);
    if (!trace.ok()) return trace.status();
    traces.push_back(*std::move(trace));
    inputs.push_back({traces.back(), "", ""});
  }
  absl::StatusOr<std::vector<TraceRequest>> merged = Overlay(inputs);
  if (merged.ok() && (o.start_s != 0 || o.end_s != std::numeric_limits<double>::infinity())) {
    merged = SelectWindow(*merged, o.start_s, o.end_s);
  }
  if (merged.ok() && o.sample != 1.0) merged = Sample(*merged, o.sample, o.seed);
  if (merged.ok() && o.time_scale != 1.0) merged = ScaleTime(*merged, o.time_scale);
  return merged;
}

absl::StatusOr<SimulationConfig> BaseConfig(const std::vector<TraceRequest>& trace,
                                            const std::string& profile_path,
                                            const std::string& catalog_path,
                                            const SimulateOptions& o) {
  absl::StatusOr<ReplicaProfile> profile = ReplicaProfile::Load(profile_path);
  if (profile.ok() && o.speedup != 1.0) profile = profile->Scaled(o.speedup);
  if (!profile.ok()) return profile.status();
  SimulationConfig config;
  for (const TraceRequest& r : trace) {
    const bool known = std::any_of(config.models.begin(), config.models.end(),
                                   [&](const SimModelConfig& m) { return m.name == r.model; });
    if (!known) config.models.push_back({.name = r.model, .profile = *profile});
  }
  config.max_instances = o.max_instances;
  config.max_replicas = o.max_replicas;
  config.price_catalog_path = catalog_path;
  config.offering = o.offering;
  config.always_on_offering = o.always_on_offering;
  config.provisioning_overhead = o.provisioning_overhead;
  config.slo_ttft = o.slo_ttft;
  config.max_queue_wait = o.max_queue_wait;
  config.seed = o.seed;
  return config;
}

struct PresetResult {
  std::string policy;
  SimulationResult result;
};

absl::StatusOr<std::vector<PresetResult>> Run(const std::vector<TraceSpec>& traces,
                                              const std::vector<std::string>& presets,
                                              const std::string& profile,
                                              const std::string& catalog,
                                              const SimulateOptions& options) {
  absl::StatusOr<std::vector<TraceRequest>> trace = LoadTraces(traces, options);
  if (!trace.ok()) return trace.status();
  absl::StatusOr<SimulationConfig> base = BaseConfig(*trace, profile, catalog, options);
  if (!base.ok()) return base.status();
  absl::StatusOr<ModelSizings> sizings = SizeModels(*base, *trace);
  if (!sizings.ok()) return sizings.status();
  std::vector<PresetResult> results;
  for (const std::string& preset : presets) {
    SimulationConfig config = *base;
    if (absl::Status s = ApplyPolicyPreset(preset, *sizings, &config); !s.ok()) return s;
    const absl::Time start = absl::Now();
    absl::StatusOr<SimulationResult> result = Simulate(config, *trace);
    if (!result.ok()) {
      return absl::Status(result.status().code(),
                          absl::StrCat("policy ", preset, ": ", result.status().message()));
    }
    result->wall_s = absl::ToDoubleSeconds(absl::Now() - start);
    results.push_back({preset, *std::move(result)});
  }
  return results;
}

std::vector<TraceSpec> TracesFromPython(const py::handle& traces) {
  if (py::isinstance<py::str>(traces) || !py::isinstance<py::sequence>(traces)) {
    throw py::type_error("traces takes a list of paths or (path, model) pairs");
  }
  py::object fspath = py::module_::import("os").attr("fspath");
  std::vector<TraceSpec> specs;
  for (const py::handle& item : traces) {
    if (py::isinstance<py::tuple>(item)) {
      auto [path, model] = item.cast<std::pair<py::object, std::string>>();
      specs.push_back({fspath(path).cast<std::string>(), std::move(model)});
    } else {
      specs.push_back({fspath(item).cast<std::string>(), ""});
    }
  }
  if (specs.empty()) throw StatusError(absl::InvalidArgumentError("traces is empty"));
  return specs;
}

// "all", one preset name or a list of them; InvalidArgument for an unknown one, before
// anything is read or simulated.
std::vector<std::string> PresetsFromPython(const py::handle& policy) {
  const std::vector<std::string>& known = PolicyPresetNames();
  std::vector<std::string> presets;
  if (py::isinstance<py::str>(policy)) {
    const std::string name = policy.cast<std::string>();
    presets = name == "all" ? known : std::vector<std::string>{name};
  } else {
    presets = policy.cast<std::vector<std::string>>();
  }
  for (const std::string& name : presets) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw StatusError(absl::InvalidArgumentError(absl::StrCat(
          "unknown policy '", name, "'; known: all, ", absl::StrJoin(known, ", "))));
    }
  }
  if (presets.empty()) throw StatusError(absl::InvalidArgumentError("policy is an empty list"));
  return presets;
}

py::object SimulateFromPython(const py::handle& traces, const py::handle& policy,
                              const py::object& profile, const py::object& catalog,
                              const py::kwargs& kwargs) {
  const std::vector<TraceSpec> specs = TracesFromPython(traces);
  const std::vector<std::string> presets = PresetsFromPython(policy);
  const SimulateOptions options = Options().Read(kwargs);
  py::object fspath = py::module_::import("os").attr("fspath");
  const std::string profile_path = fspath(profile).cast<std::string>();
  const std::string catalog_path = fspath(catalog).cast<std::string>();
  absl::StatusOr<std::vector<PresetResult>> results;
  {
    py::gil_scoped_release release;
    results = Run(specs, presets, profile_path, catalog_path, options);
  }
  std::vector<PresetResult> done = ValueOrThrow(std::move(results));
  if (py::isinstance<py::str>(policy) && policy.cast<std::string>() != "all") {
    return py::cast(std::move(done.front()));
  }
  py::dict by_policy;
  for (PresetResult& r : done) {
    py::str name(r.policy);  // before r is moved from
    by_policy[name] = py::cast(std::move(r));
  }
  return by_policy;
}

// The totals' figures as read-only properties of `cls`, whose objects give their
// SimulationTotals through `totals`: SimulationTotals itself, and SimulationResult (its
// overall totals, so that `result.served` reads as it says).
template <typename Class, typename Totals>
void DefTotals(Class& cls, Totals totals) {
  using T = typename Class::type;
  auto field = [&](const char* name, auto member, const char* doc) {
    cls.def_property_readonly(
        name, [totals, member](const T& self) { return totals(self).*member; }, doc);
  };
  field("requests", &SimulationTotals::requests, "Requests in the trace.");
  field("served", &SimulationTotals::served, "Requests served.");
  cls.def_property_readonly(
      "rejected", [totals](const T& self) { return totals(self).rejected_total(); },
      "Requests rejected (served + rejected == requests).");
  cls.def_property_readonly(
      "rejected_by_reason",
      [totals](const T& self) {
        std::map<std::string, int64_t> by_reason;
        for (int r = 0; r < kRejectReasonCount; ++r) {
          by_reason[std::string(RejectReasonName(static_cast<RejectReason>(r)))] =
              totals(self).rejected[r];
        }
        return by_reason;
      },
      "'queue_timeout', 'prompt_too_long', 'provisioner_error', 'pool_error', 'empty_prompt'.");
  field("truncated", &SimulationTotals::truncated, "Served with the output cut to the context.");
  field("cold_starts", &SimulationTotals::cold_starts,
        "Served requests that waited for a starting instance.");
  field("cold_start_rate", &SimulationTotals::cold_start_rate, "cold_starts / served.");
  field("ttft_p50_s", &SimulationTotals::ttft_p50_s, "Time to first token, served requests.");
  field("ttft_p99_s", &SimulationTotals::ttft_p99_s, nullptr);
  field("e2e_p50_s", &SimulationTotals::e2e_p50_s, "End-to-end latency, served requests.");
  field("e2e_p95_s", &SimulationTotals::e2e_p95_s, nullptr);
  field("e2e_p99_s", &SimulationTotals::e2e_p99_s, nullptr);
  field("slo_met", &SimulationTotals::slo_met, nullptr);
  field("slo_attainment", &SimulationTotals::slo_attainment, "slo_met / requests.");
  field("prompt_tokens", &SimulationTotals::prompt_tokens, "Of served requests.");
  field("output_tokens", &SimulationTotals::output_tokens, "Of served requests.");
  field("instances_started", &SimulationTotals::instances_started, nullptr);
  field("instance_seconds", &SimulationTotals::instance_seconds, "Start to gone: what is billed.");
  field("loaded_instance_seconds", &SimulationTotals::loaded_instance_seconds, nullptr);
  field("idle_instance_seconds", &SimulationTotals::idle_instance_seconds, nullptr);
  field("cost", &SimulationTotals::cost, "Instance cost + request fees, catalog currency.");
  field("cost_per_1k_requests", &SimulationTotals::cost_per_1k_requests, nullptr);
}

}  // namespace

void BindSimulate(py::module_& m) {
  py::class_<SimulationTotals> totals(m, "SimulationTotals", "One model's figures, or all models'.");
  DefTotals(totals, [](const SimulationTotals& t) -> const SimulationTotals& { return t; });

  py::class_<PresetResult> result(
      m, "SimulationResult",
      "One policy's replay: the overall figures as attributes (served, rejected, cost, "
      "ttft_p99_s, ...), per model in `models`, and to_dict() for all of it.");
  DefTotals(result, [](const PresetResult& r) -> const SimulationTotals& { return r.result.overall; });
  result.def_readonly("policy", &PresetResult::policy)
      .def_property_readonly("models", [](const PresetResult& r) { return r.result.models; },
                             "SimulationTotals per model name.")
      .def_property_readonly("billed_offering",
                             [](const PresetResult& r) { return r.result.billed_offering; })
      .def_property_readonly("cost_report", [](const PresetResult& r) { return r.result.cost; },
                             "The ledger's CostReport (per model and tenant).")
      .def_property_readonly("alerts", [](const PresetResult& r) { return r.result.alerts; })
      .def_property_readonly("duration_s", [](const PresetResult& r) { return r.result.duration_s; },
                             "Virtual time simulated.")
      .def_property_readonly("events", [](const PresetResult& r) { return r.result.events; })
      .def_property_readonly("wall_s", [](const PresetResult& r) { return r.result.wall_s; },
                             "Real seconds the replay took.")
      .def_property_readonly("pool_cold_starts",
                             [](const PresetResult& r) { return r.result.pool_cold_starts; })
      .def_property_readonly("pool_warm_hits",
                             [](const PresetResult& r) { return r.result.pool_warm_hits; })
      .def(
          "to_dict",
          [](const PresetResult& r) {
            py::dict summary = py::module_::import("json").attr("loads")(SimulationJson(r.result));
            summary["policy"] = r.policy;
            return summary;
          },
          "Everything but the timeline, as `hearth simulate` writes <policy>.json, plus "
          "'policy'.")
      .def(
          "timeline_csv", [](const PresetResult& r) { return TimelineCsv(r.result); },
          "Per tick and model: time_s,model,arrivals,in_flight,queue_depth,ready,starting,desired.")
      .def("__repr__", [](const PresetResult& r) {
        const SimulationTotals& t = r.result.overall;
        return absl::StrCat("SimulationResult(policy='", r.policy, "', served=", t.served,
                            ", rejected=", t.rejected_total(), ", cost=", t.cost, ")");
      });

  m.def("simulate", &SimulateFromPython, py::arg("traces"), py::kw_only(),
        py::arg("policy") = "hearth", py::arg("profile"), py::arg("catalog"),
        ("Replays real traces through the control plane (WarmPool, AutoScaler, "
         "CostOptimizer) under policy presets, as `hearth simulate` does; the GIL is "
         "released meanwhile. traces: paths or (path, model) pairs, overlaid as models. "
         "policy: a preset name (returns its SimulationResult), or a list of names or 'all' "
         "(returns {name: SimulationResult}); presets: " +
         absl::StrJoin(PolicyPresetNames(), ", ") +
         ". profile: a replica profile JSON; catalog: a price catalog JSON. Options "
         "(defaults): " +
         Options().Describe() + ".")
            .c_str());
}

}  // namespace hearth::python
