// hearth.PriceCatalog and hearth.Offering; hearth.CostOptimizer with its CostLedger (and
// the reports it gives) and ResponseCache. The optimizer's Router is router_bindings.cc's.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/strings/str_cat.h"
#include "bindings.h"
#include "clock.h"
#include "hearth/cost_optimizer.h"
#include "options.h"
#include "request_options.h"
#include "status.h"

namespace hearth::python {
namespace {

namespace py = pybind11;

void BindCatalog(py::module_& m) {
  py::class_<InstanceResources>(m, "InstanceResources", "The shape an offering prices.")
      .def_readonly("vcpus", &InstanceResources::vcpus)
      .def_readonly("memory_gib", &InstanceResources::memory_gib)
      .def_readonly("accelerator", &InstanceResources::accelerator, "Empty for CPU-only shapes.")
      .def_readonly("accelerator_count", &InstanceResources::accelerator_count);

  py::class_<Offering>(
      m, "Offering",
      "One way to pay for one instance shape, with its public source. kind: 'serverless' "
      "(per second of each resource, rounded up to billing_granularity_s, at least "
      "minimum_billed_s, plus per_request), 'on_demand', 'reserved' or 'spot' (hourly).")
      .def_readonly("name", &Offering::name)
      .def_property_readonly("kind", [](const Offering& o) { return std::string(OfferingKindName(o.kind)); })
      .def_readonly("provider", &Offering::provider)
      .def_readonly("region", &Offering::region)
      .def_readonly("resources", &Offering::resources)
      .def_readonly("per_vcpu_second", &Offering::per_vcpu_second)
      .def_readonly("per_gib_second", &Offering::per_gib_second)
      .def_readonly("per_accelerator_second", &Offering::per_accelerator_second)
      .def_readonly("per_request", &Offering::per_request, "Fee per request (serverless).")
      .def_property_readonly("billing_granularity_s", [](const Offering& o) {
        return absl::ToDoubleSeconds(o.billing_granularity);
      })
      .def_property_readonly("minimum_billed_s", [](const Offering& o) {
        return absl::ToDoubleSeconds(o.minimum_billed);
      })
      .def_readonly("hourly", &Offering::hourly, "Price of one hour (hourly kinds).")
      .def_property_readonly("term_s", [](const Offering& o) { return absl::ToDoubleSeconds(o.term); },
                             "The commitment of a reserved offering.")
      .def_readonly("interruption_rate_per_hour", &Offering::interruption_rate_per_hour,
                    "Spot: expected interruptions per instance-hour; None where unpublished.")
      .def_readonly("currency", &Offering::currency)
      .def_readonly("price_date", &Offering::price_date)
      .def_readonly("source", &Offering::source, "URL of the public price list.")
      .def_readonly("note", &Offering::note)
      .def("price_per_second", &Offering::PricePerSecond, "One second of the whole shape.")
      .def(
          "billed_seconds",
          [](const Offering& o, const py::handle& run_s) {
            return o.BilledSeconds(SecondsToDuration(run_s, "run_s"));
          },
          py::arg("run_s"), "The seconds a run of `run_s` is billed for (rounding, minimum).")
      .def(
          "run_cost",
          [](const Offering& o, const py::handle& run_s) {
            return o.RunCost(SecondsToDuration(run_s, "run_s"));
          },
          py::arg("run_s"), "price_per_second() x billed_seconds(run_s); without per_request.")
      .def("__repr__", [](const Offering& o) {
        return absl::StrCat("Offering('", o.name, "', kind='", std::string(OfferingKindName(o.kind)), "')");
      });

  py::class_<PriceCatalog>(m, "PriceCatalog",
                           "Dated public prices (data/prices/catalog-2026.json is one); "
                           "immutable.")
      .def_static(
          "load",
          [](const py::object& path) {
            return ValueOrThrow(PriceCatalog::Load(
                py::module_::import("os").attr("fspath")(path).cast<std::string>()));
          },
          py::arg("path"),
          "Reads a catalog file: NotFoundError if missing, InvalidArgumentError naming the "
          "offering and field at fault.")
      .def_static(
          "parse", [](const std::string& json) { return ValueOrThrow(PriceCatalog::Parse(json)); },
          py::arg("json"), "A catalog from JSON text.")
      .def(
          "find",
          [](const PriceCatalog& self, const std::string& name) {
            return *ValueOrThrow(self.Find(name));
          },
          py::arg("name"), "The offering named so (a copy); NotFoundError listing the names.")
      .def_property_readonly("offerings", [](const PriceCatalog& self) {
        return std::vector<Offering>(self.offerings().begin(), self.offerings().end());
      })
      .def("__len__", [](const PriceCatalog& self) { return self.offerings().size(); });
}

void BindReports(py::module_& m) {
  py::class_<OfferingUsage>(m, "OfferingUsage", "A model's instance time at one offering.")
      .def_readonly("offering", &OfferingUsage::offering)
      .def_readonly("instance_seconds", &OfferingUsage::instance_seconds, "As recorded.")
      .def_readonly("cost", &OfferingUsage::cost, "As billed (rounded).");

  py::class_<ModelCost>(m, "ModelCost", "What one model cost.")
      .def_readonly("model", &ModelCost::model)
      .def_readonly("offerings", &ModelCost::offerings)
      .def_readonly("instance_cost", &ModelCost::instance_cost)
      .def_readonly("request_fees", &ModelCost::request_fees)
      .def_readonly("requests", &ModelCost::requests)
      .def_readonly("prompt_tokens", &ModelCost::prompt_tokens)
      .def_readonly("output_tokens", &ModelCost::output_tokens);

  py::class_<TenantModelCost>(m, "TenantModelCost", "A tenant's share of one model.")
      .def_readonly("model", &TenantModelCost::model)
      .def_readonly("weighted_tokens", &TenantModelCost::weighted_tokens)
      .def_readonly("instance_share", &TenantModelCost::instance_share)
      .def_readonly("request_fees", &TenantModelCost::request_fees);

  py::class_<TenantCost>(m, "TenantCost",
                         "What one tenant cost: its token-weighted share of each model's "
                         "instance cost plus its request fees.")
      .def_readonly("tenant", &TenantCost::tenant)
      .def_readonly("models", &TenantCost::models)
      .def_readonly("instance_share", &TenantCost::instance_share)
      .def_readonly("request_fees", &TenantCost::request_fees)
      .def_readonly("total", &TenantCost::total)
      .def_readonly("requests", &TenantCost::requests)
      .def_readonly("prompt_tokens", &TenantCost::prompt_tokens)
      .def_readonly("output_tokens", &TenantCost::output_tokens);

  py::class_<CostReport>(m, "CostReport", "Costs over everything recorded.")
      .def_readonly("models", &CostReport::models, "Sorted by model.")
      .def_readonly("tenants", &CostReport::tenants, "Sorted by tenant.")
      .def_readonly("instance_cost", &CostReport::instance_cost)
      .def_readonly("request_fees", &CostReport::request_fees)
      .def_readonly("unattributed", &CostReport::unattributed,
                    "Instance cost of models that served no tokens.")
      .def_readonly("total", &CostReport::total);

  py::class_<BudgetAlert>(m, "BudgetAlert", "A tenant's spend reached a budget threshold.")
      .def_readonly("tenant", &BudgetAlert::tenant)
      .def_readonly("threshold", &BudgetAlert::threshold, "The fraction of the budget reached.")
      .def_readonly("spent", &BudgetAlert::spent)
      .def_readonly("budget", &BudgetAlert::budget)
      .def_property_readonly("period_start", [](const BudgetAlert& a) { return TimeToSeconds(a.period_start); })
      .def_property_readonly("raised_at", [](const BudgetAlert& a) { return TimeToSeconds(a.raised_at); });
}

void BindLedger(py::module_& m) {
  py::class_<CostLedger>(
      m, "CostLedger",
      "What each model and tenant cost (CostOptimizer.ledger). Instance time is billed at "
      "its offering; a model's instance cost is shared by its tenants in proportion to "
      "prompt_tokens + output_token_weight x output_tokens. Thread-safe.")
      .def(
          "record_instance_time",
          [](CostLedger& self, const std::string& model, const std::string& offering,
             const py::handle& seconds) {
            ThrowIfError(
                self.RecordInstanceTime(model, offering, SecondsToDuration(seconds, "seconds")));
          },
          py::arg("model"), py::arg("offering"), py::arg("seconds"),
          "One billed interval of a replica of `model` held at `offering`.")
      .def(
          "record_request",
          [](CostLedger& self, std::string tenant, std::string model, int64_t prompt_tokens,
             int64_t output_tokens, std::string offering) {
            ThrowIfError(self.RecordRequest({std::move(tenant), std::move(model), prompt_tokens,
                                             output_tokens, std::move(offering)}));
          },
          py::arg("tenant"), py::arg("model"), py::kw_only(), py::arg("prompt_tokens") = 0,
          py::arg("output_tokens") = 0, py::arg("offering") = "",
          "A served request: its tokens share the model's instance cost; `offering`'s "
          "per-request fee (if any) goes to the tenant.")
      .def(
          "set_budget",
          [](CostLedger& self, const std::string& tenant, double amount,
             const py::handle& period_s, std::vector<double> thresholds) {
            ThrowIfError(self.SetBudget(
                tenant, {amount, SecondsToDuration(period_s, "period_s"), std::move(thresholds)}));
          },
          py::arg("tenant"), py::arg("amount"), py::kw_only(),
          py::arg("period_s") = 30 * 24 * 3600.0,
          py::arg("thresholds") = std::vector<double>{0.5, 0.8, 1.0},
          "Sets (or replaces, starting a new period now) a tenant's budget; an alert is "
          "raised once per threshold (a fraction of amount) per period.")
      .def(
          "period_spend",
          [](CostLedger& self, const std::string& tenant) {
            return ValueOrThrow(self.PeriodSpend(tenant));
          },
          py::arg("tenant"), "The tenant's spend in its budget period; NotFoundError without one.")
      .def("alerts", &CostLedger::alerts, "Every BudgetAlert so far, in the order raised.")
      .def("report", &CostLedger::Report, "A CostReport over everything recorded.");
}

void BindCache(py::module_& m) {
  py::class_<ResponseCacheStats>(m, "ResponseCacheStats", "The cache's counters.")
      .def_readonly("hits", &ResponseCacheStats::hits)
      .def_readonly("misses", &ResponseCacheStats::misses)
      .def_readonly("uncacheable", &ResponseCacheStats::uncacheable)
      .def_readonly("insertions", &ResponseCacheStats::insertions)
      .def_readonly("evictions", &ResponseCacheStats::evictions)
      .def_readonly("expirations", &ResponseCacheStats::expirations)
      .def_readonly("refused", &ResponseCacheStats::refused)
      .def_readonly("entries", &ResponseCacheStats::entries)
      .def_readonly("bytes", &ResponseCacheStats::bytes);

  py::class_<ResponseCache>(
      m, "ResponseCache",
      "Answers repeated deterministic requests (temperature 0, or a seed given) without "
      "running them (CostOptimizer.cache). A request is a prompt (or messages=) and the "
      "options of Engine.generate; whitespace runs do not change the key. Thread-safe.")
      .def(
          "lookup",
          [](ResponseCache& self, const std::string& model, const std::optional<std::string>& prompt,
             const py::kwargs& options) {
            bool seed_given = false;
            GenerateRequest request = RequestFromPython(prompt, options, &seed_given);
            return self.Lookup(model, request, seed_given);
          },
          py::arg("model"), py::arg("prompt") = py::none(),
          "The stored answer, or None (a miss, an expired entry or a non-deterministic request).")
      .def(
          "insert",
          [](ResponseCache& self, const std::string& model, const std::optional<std::string>& prompt,
             std::string response, const py::kwargs& options) {
            bool seed_given = false;
            GenerateRequest request = RequestFromPython(prompt, options, &seed_given);
            ThrowIfError(self.Insert(model, request, seed_given, std::move(response)));
          },
          py::arg("model"), py::arg("prompt") = py::none(), py::kw_only(), py::arg("response"),
          "Stores `response`. FailedPreconditionError for a non-deterministic request, "
          "ResourceExhaustedError for an entry larger than the whole cache.")
      .def("stats", &ResponseCache::stats);
}

// What a Python CostOptimizer holds; the clock is declared first (destroyed last).
struct OptimizerState {
  ClockPtr clock;
  std::unique_ptr<CostOptimizer> optimizer;
};

OptimizerState CreateOptimizer(const PriceCatalog& catalog, double output_token_weight,
                               std::vector<ModelTier> tiers, double escalate_below_logprob,
                               int64_t cache_capacity_bytes, const py::handle& cache_ttl_s,
                               const std::optional<ManualClockPtr>& clock) {
  CostOptimizerConfig config;
  config.ledger.output_token_weight = output_token_weight;
  config.router.tiers = std::move(tiers);
  config.router.escalate_below_logprob = escalate_below_logprob;
  config.cache.capacity_bytes = cache_capacity_bytes;
  config.cache.ttl = SecondsToDuration(cache_ttl_s, "cache_ttl_s");
  OptimizerState state;
  state.clock = ClockFromPython(clock);
  state.optimizer = ValueOrThrow(CostOptimizer::Create(catalog, config, state.clock.get()));
  return state;
}

}  // namespace

void BindCost(py::module_& m) {
  BindCatalog(m);
  BindReports(m);
  BindLedger(m);
  BindCache(m);

  // The parts are returned by reference and keep the optimizer alive (reference_internal).
  py::class_<OptimizerState>(
      m, "CostOptimizer",
      "Prices, accounting, routing and caching under one clock: `catalog`, `ledger`, "
      "`router` (None without tiers) and `cache`.")
      .def(py::init(&CreateOptimizer), py::arg("catalog"), py::kw_only(),
           py::arg("output_token_weight") = 1.0, py::arg("tiers") = std::vector<ModelTier>{},
           py::arg("escalate_below_logprob") = -1.0, py::arg("cache_capacity_bytes") = 64 << 20,
           py::arg("cache_ttl_s") = 600.0, py::arg("clock") = py::none(),
           "catalog: a PriceCatalog (copied). tiers: ModelTier list for the router. "
           "cache_ttl_s may be math.inf. clock: None (real time) or a ManualClock.")
      .def_property_readonly(
          "catalog", [](OptimizerState& self) -> const PriceCatalog& { return self.optimizer->catalog(); },
          py::return_value_policy::reference_internal)
      .def_property_readonly(
          "ledger", [](OptimizerState& self) -> CostLedger& { return self.optimizer->ledger(); },
          py::return_value_policy::reference_internal)
      .def_property_readonly(
          "router", [](OptimizerState& self) { return self.optimizer->router(); },
          py::return_value_policy::reference_internal)
      .def_property_readonly(
          "cache", [](OptimizerState& self) -> ResponseCache& { return self.optimizer->cache(); },
          py::return_value_policy::reference_internal);
}

}  // namespace hearth::python
