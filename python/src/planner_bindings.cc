// hearth.CapacityPlanner and hearth.DemandSeries: always-on, serverless or hybrid, priced
// on a demand series.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/strings/str_cat.h"
#include "bindings.h"
#include "hearth/capacity_planner.h"
#include "options.h"
#include "status.h"

namespace hearth::python {

namespace py = pybind11;

void BindPlanner(py::module_& m) {
  py::class_<DemandSeries>(
      m, "DemandSeries",
      "Per interval, the busy replicas needed (fractional) and the requests that arrived.")
      .def(py::init([](std::vector<double> busy_replicas, std::vector<double> requests,
                       const py::handle& interval_s) {
             DemandSeries series{SecondsToDuration(interval_s, "interval_s"),
                                 std::move(busy_replicas), std::move(requests)};
             ThrowIfError(series.Validate());
             return series;
           }),
           py::arg("busy_replicas"), py::arg("requests"), py::kw_only(),
           py::arg("interval_s") = 60.0)
      .def_static(
          "from_requests",
          [](const std::vector<double>& requests, const py::handle& interval_s,
             const py::handle& request_duration_s, int concurrency_per_replica) {
            return ValueOrThrow(DemandSeries::FromRequests(
                requests, SecondsToDuration(interval_s, "interval_s"),
                SecondsToDuration(request_duration_s, "request_duration_s"),
                concurrency_per_replica));
          },
          py::arg("requests"), py::kw_only(), py::arg("interval_s") = 60.0,
          py::arg("request_duration_s"), py::arg("concurrency_per_replica"),
          "busy_i = requests_i x request_duration_s / interval_s / concurrency_per_replica.")
      .def_property_readonly("interval_s",
                             [](const DemandSeries& s) { return absl::ToDoubleSeconds(s.interval); })
      .def_readonly("busy_replicas", &DemandSeries::busy_replicas)
      .def_readonly("requests", &DemandSeries::requests);

  py::class_<HybridCost>(m, "HybridCost", "`reserved` always-on replicas plus a serverless burst.")
      .def_readonly("reserved", &HybridCost::reserved)
      .def_readonly("reserved_cost", &HybridCost::reserved_cost)
      .def_readonly("serverless_cost", &HybridCost::serverless_cost, "Compute and cold starts.")
      .def_readonly("request_fees", &HybridCost::request_fees)
      .def_readonly("total", &HybridCost::total);

  py::class_<PlanResult>(m, "PlanResult", "The ways to serve a demand series, priced.")
      .def_readonly("always_on_cost", &PlanResult::always_on_cost)
      .def_readonly("always_on_replicas", &PlanResult::always_on_replicas, "ceil(peak busy).")
      .def_readonly("serverless_cost", &PlanResult::serverless_cost)
      .def_readonly("hybrid", &PlanResult::hybrid, "HybridCost for 0 .. always_on_replicas.")
      .def_readonly("best_reserved", &PlanResult::best_reserved)
      .def_readonly("best_cost", &PlanResult::best_cost)
      .def_readonly("seed_reserved", &PlanResult::seed_reserved,
                    "The Little's-law rule: ceil(daily requests x p95 latency / 86,400).")
      .def_readonly("seed_cost", &PlanResult::seed_cost)
      .def_readonly("daily_requests", &PlanResult::daily_requests)
      .def_readonly("recommendation", &PlanResult::recommendation,
                    "'always_on', 'serverless', 'reserved' or 'hybrid'.");

  py::class_<Crossover>(m, "Crossover",
                        "The request rate at which serverless and one always-on replica cost "
                        "the same.")
      .def_readonly("requests_per_day", &Crossover::requests_per_day)
      .def_readonly("always_on_cost_per_day", &Crossover::always_on_cost_per_day)
      .def_readonly("valid", &Crossover::valid,
                    "False: serverless stays cheaper up to one replica's capacity.");

  py::class_<CapacityPlanner>(
      m, "CapacityPlanner",
      "Prices a demand series always-on, serverless and hybrid (reserved base + serverless "
      "burst) and finds the cheapest; offerings from a PriceCatalog.")
      .def(py::init([](Offering serverless, Offering always_on, std::optional<Offering> reserved,
                       const py::handle& cold_start_s) {
             CapacityPlannerConfig config;
             config.reserved = reserved ? *std::move(reserved) : always_on;
             config.serverless = std::move(serverless);
             config.always_on = std::move(always_on);
             config.cold_start = SecondsToDuration(cold_start_s, "cold_start_s");
             return ValueOrThrow(CapacityPlanner::Create(std::move(config)));
           }),
           py::arg("serverless"), py::arg("always_on"), py::kw_only(),
           py::arg("reserved") = py::none(), py::arg("cold_start_s") = 0.0,
           "serverless: a serverless Offering; always_on and reserved (default: always_on): "
           "hourly ones. cold_start_s is billed per replica added.")
      .def(
          "plan",
          [](const CapacityPlanner& self, const DemandSeries& series, const py::handle& p95_latency_s) {
            return ValueOrThrow(self.Plan(series, SecondsToDuration(p95_latency_s, "p95_latency_s")));
          },
          py::arg("series"), py::kw_only(), py::arg("p95_latency_s") = 0.0, "The PlanResult.")
      .def(
          "price_hybrid",
          [](const CapacityPlanner& self, const DemandSeries& series, int reserved) {
            ThrowIfError(series.Validate());
            return self.PriceHybrid(series, reserved);
          },
          py::arg("series"), py::arg("reserved"), "hybrid(reserved) alone.")
      .def(
          "find_crossover",
          [](const CapacityPlanner& self, const py::handle& request_duration_s,
             int concurrency_per_replica) {
            return ValueOrThrow(self.FindCrossover(
                SecondsToDuration(request_duration_s, "request_duration_s"),
                concurrency_per_replica));
          },
          py::arg("request_duration_s"), py::arg("concurrency_per_replica"), "The Crossover.");
}

}  // namespace hearth::python
