// hearth.simulate: `hearth simulate` as a function, on the same SimulationInputs: reads
// real traces, sizes the replicas once, replays the trace under each policy preset
// through the real control plane (include/hearth/simulator.h) and returns
// SimulationResult objects.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bindings.h"
#include "hearth/policy_presets.h"
#include "hearth/simulation_inputs.h"
#include "hearth/simulator.h"
#include "options.h"
#include "status.h"

namespace hearth::python {
namespace {

namespace py = pybind11;

// The options of `hearth simulate`, read into the inputs the CLI fills from its flags.
const OptionTable<SimulationInputs>& Options() {
  using I = SimulationInputs;
  static const auto* table = &(new OptionTable<I>)
                                  ->Add("speedup", &I::speedup)
                                  .Add("offering", &I::offering)
                                  .Add("always_on_offering", &I::always_on_offering)
                                  .Add("servegen_models", &I::servegen_models)
                                  .Add("servegen_rate_scale", &I::servegen_rate_scale)
                                  .Add("top", &I::top)
                                  .Add("functions_as_models", &I::functions_as_models)
                                  .Add("time_scale", &I::time_scale)
                                  .Add("start_s", &I::start_s)
                                  .Add("end_s", &I::end_s)
                                  .Add("sample", &I::sample)
                                  .AddSeconds("provisioning_overhead_s", &I::provisioning_overhead)
                                  .AddSeconds("slo_ttft_s", &I::slo_ttft)
                                  .AddSeconds("max_queue_wait_s", &I::max_queue_wait)
                                  .Add("max_instances", &I::max_instances)
                                  .Add("max_replicas", &I::max_replicas)
                                  .Add("seed", &I::seed);
  return *table;
}

struct PresetResult {
  std::string policy;
  SimulationResult result;
};

absl::StatusOr<std::vector<PresetResult>> Run(const SimulationInputs& inputs,
                                              const std::vector<std::string>& presets) {
  absl::StatusOr<PreparedSimulation> prepared = PrepareSimulation(inputs);
  if (!prepared.ok()) return prepared.status();
  std::vector<PresetResult> results;
  for (const std::string& preset : presets) {
    absl::StatusOr<SimulationResult> result = SimulatePreset(*prepared, preset);
    if (!result.ok()) {
      return absl::Status(result.status().code(),
                          absl::StrCat("policy ", preset, ": ", result.status().message()));
    }
    results.push_back({preset, *std::move(result)});
  }
  return results;
}

// Paths, or (path, model) pairs, as SimulationInputs::traces spells them (PATH=MODEL).
std::vector<std::string> TracesFromPython(const py::handle& traces) {
  if (py::isinstance<py::str>(traces) || !py::isinstance<py::sequence>(traces)) {
    throw py::type_error("traces takes a list of paths or (path, model) pairs");
  }
  py::object fspath = py::module_::import("os").attr("fspath");
  std::vector<std::string> specs;
  for (const py::handle& item : traces) {
    if (py::isinstance<py::tuple>(item)) {
      auto [path, model] = item.cast<std::pair<py::object, std::string>>();
      specs.push_back(absl::StrCat(fspath(path).cast<std::string>(), "=", model));
    } else {
      specs.push_back(fspath(item).cast<std::string>());
    }
  }
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
  const std::vector<std::string> presets = PresetsFromPython(policy);
  SimulationInputs inputs = Options().Read(kwargs);
  inputs.traces = TracesFromPython(traces);
  py::object fspath = py::module_::import("os").attr("fspath");
  inputs.profile_path = fspath(profile).cast<std::string>();
  inputs.catalog_path = fspath(catalog).cast<std::string>();
  absl::StatusOr<std::vector<PresetResult>> results;
  {
    py::gil_scoped_release release;
    results = Run(inputs, presets);
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
         "(defaults; end_s=0 replays to the end): " +
         Options().Describe() + ".")
            .c_str());
}

}  // namespace hearth::python
